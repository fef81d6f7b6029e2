from __future__ import annotations

from django.apps import AppConfig


class RevopswebConfig(AppConfig):
    """Infrastructure only: job runs. No domain models live here."""

    name = "revopsweb"
    verbose_name = "Scheduled jobs"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        # A new login starts the idle clock (saved with the login's own session
        # write), so the next page does not save the session again.
        user_logged_in.connect(_start_idle_clock, dispatch_uid="revopsweb.idle_clock")


def _start_idle_clock(sender: object, request: object, **kwargs: object) -> None:
    from django.http import HttpRequest

    from .middleware import mark_session_refreshed

    if isinstance(request, HttpRequest):
        mark_session_refreshed(request)
