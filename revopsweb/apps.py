from __future__ import annotations

from django.apps import AppConfig


class RevopswebConfig(AppConfig):
    """Infrastructure only: job runs. No domain models live here."""

    name = "revopsweb"
    verbose_name = "Scheduled jobs"
