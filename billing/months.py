"""Moved to ``revopsweb.dates``; churn code still imports these two from here
until it moves into its own app (issue 13). Nothing else may import this module."""

from __future__ import annotations

from revopsweb.dates import add_months as add_months
from revopsweb.dates import month_start as month_start
