from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and people"

    def ready(self) -> None:
        # Reference rows are (re)created after every migrate and after test
        # flushes; the function only fills what is missing.
        # Role groups carry permissions of all three apps, whose permission rows
        # appear app by app; so sync after each of them, not only this one.
        post_migrate.connect(_ensure_reference_rows)

        from .extensions import register_section
        from .permissions import any_staff, can_see_allocation

        register_section(url_name="accounts:my_book", label="My book", order=10, may_open=any_staff)
        register_section(
            url_name="accounts:allocation",
            label="Allocation",
            order=65,
            may_open=can_see_allocation,
        )


def _ensure_reference_rows(*, sender: AppConfig, **kwargs: Any) -> None:
    from .roles import ROLE_APPS, ensure_role_groups

    if sender.label in ROLE_APPS:
        ensure_role_groups()
