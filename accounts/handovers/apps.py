from __future__ import annotations

from django.apps import AppConfig


class HandoversConfig(AppConfig):
    """Handovers of an account between owners (TAE → TAM → CSM and takeovers)."""

    name = "accounts.handovers"
    label = "handovers"
    verbose_name = "Handovers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.extensions import register_account_panel

        register_account_panel("handovers/panel.html")
