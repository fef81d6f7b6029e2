"""The billing app's panel on the managers' home (accounts.home): revenue through
the latest imported month."""

from __future__ import annotations

import datetime as dt
from typing import Any

from accounts.models import User

from .cache import page_components
from .revenue_data import revenue_data_through

# The latest months the home shows; the revenue page has the rest.
HOME_MONTHS = 3


def revenue_panel(user: User, today: dt.date, month: dt.date) -> dict[str, Any]:
    """MRR and its lifecycle components (adjusted, dollars) of the last three
    imported months, newest first; empty when nothing is imported. A slice of
    the cached revenue history: a fixed number of queries (one when warm)."""
    latest = revenue_data_through(today=today).month
    if latest is None:
        return {"months": []}
    months = page_components(through=latest, adjusted=True, latest=latest)
    return {"months": list(reversed(months[-HOME_MONTHS:]))}
