from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing and revenue"

    def ready(self) -> None:
        # Reference rows are (re)created after every migrate and after test
        # flushes; the function only fills what is missing.
        post_migrate.connect(_ensure_reference_rows, sender=self)
        from accounts.extensions import (
            register_account_panel,
            register_home_panel,
            register_section,
        )
        from accounts.permissions import any_staff

        # The billing fact kinds register themselves (pages, API endpoints, token
        # scopes) when their modules are imported; background import jobs find
        # the kinds by name in ImportKind.registry.
        from . import imports, invoices, term_imports  # noqa: F401
        from .home_panels import (
            book_dunning_panel,
            company_dunning_panel,
            revenue_panel,
            team_dunning_panel,
        )
        from .permissions import can_see_dunning, can_see_quota, can_see_revenue

        register_section(
            url_name="billing:revenue", label="Revenue", order=70, may_open=can_see_revenue
        )
        register_section(url_name="billing:quota", label="Quota", order=80, may_open=can_see_quota)
        register_section(url_name="billing:trials", label="Trials", order=85, may_open=any_staff)
        register_section(
            url_name="billing:dunning", label="Dunning", order=87, may_open=can_see_dunning
        )
        register_account_panel("billing/trials_panel.html")
        register_account_panel("billing/dunning_panel.html")
        register_account_panel("billing/refunds_panel.html")
        register_home_panel(
            key="revenue",
            template="billing/home_revenue.html",
            order=40,
            homes={"company"},
            context=revenue_panel,
        )
        # Right after the book: each failed payment has a suspension countdown.
        for home, context in (
            ("book", book_dunning_panel),
            ("team", team_dunning_panel),
            ("company", company_dunning_panel),
        ):
            register_home_panel(
                key=f"{home}_failed_payments",
                template="billing/home_failed_payments.html",
                order=15,
                homes={home},
                context=context,
            )


def _ensure_reference_rows(**kwargs: Any) -> None:
    from revopsweb.migrating import tables_ready

    from .catalog import ensure_product_catalog
    from .models import Product

    if not tables_ready(Product, apps=kwargs.get("apps")):
        return

    ensure_product_catalog()
