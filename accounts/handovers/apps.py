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

        from accounts.extensions import register_home_panel, register_section
        from accounts.permissions import any_staff

        from .home_panels import waiting_panel

        # Everyone opens the list; visible_handovers narrows it to their own.
        register_section(url_name="handovers:list", label="Handovers", order=50, may_open=any_staff)
        register_home_panel(
            key="handovers",
            template="handovers/home_waiting.html",
            order=30,
            homes={"book", "team"},
            context=waiting_panel,
        )
