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

        # Registers the import kinds, so a background import job finds its kind by name.
        from . import imports  # noqa: F401
        from .extensions import register_home_panel, register_section
        from .home import allocation_panel, book_panel, data_panel, team_books_panel
        from .permissions import any_staff, can_see_allocation

        register_section(url_name="accounts:my_book", label="My book", order=10, may_open=any_staff)
        register_section(
            url_name="accounts:allocation",
            label="Allocation",
            order=65,
            may_open=can_see_allocation,
        )
        register_home_panel(
            key="book",
            template="accounts/home_book.html",
            order=10,
            homes={"book"},
            context=book_panel,
        )
        register_home_panel(
            key="team_books",
            template="accounts/home_team_books.html",
            order=10,
            homes={"team"},
            context=team_books_panel,
        )
        register_home_panel(
            key="allocation",
            template="accounts/home_allocation.html",
            order=30,
            homes={"company"},
            context=allocation_panel,
        )
        register_home_panel(
            key="data",
            template="accounts/home_data.html",
            order=10,
            homes={"data"},
            context=data_panel,
        )


def _ensure_reference_rows(*, sender: AppConfig, **kwargs: Any) -> None:
    from .roles import ROLE_APPS, ensure_role_groups

    if sender.label in ROLE_APPS:
        ensure_role_groups()
