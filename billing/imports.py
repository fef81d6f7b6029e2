"""Monthly revenue in (CSV page, ``manage.py import_mrr`` and the JSON API), declared on
``revopsweb.imports``.

All or nothing: every bad row is reported with its line number, column and
reason (``billing.forms.MonthlyRevenueRowForm`` validates every path), and
nothing is written if any row is bad. Good input is upserted by account +
product + month, so importing the same file twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction

from revopsweb.imports import ImportKind, ImportResult, Record

from .facts import revenue_facts_changed
from .forms import MonthlyRevenueRowForm
from .models import MonthlyRevenue

__all__ = ["HEADER", "MonthlyRevenueImport", "import_mrr_csv", "import_mrr_records"]


class MonthlyRevenueImport(ImportKind[MonthlyRevenue]):
    """Monthly revenue by account, product and month."""

    name = "monthly_revenue"
    label = "Monthly revenue"
    header = ("organization_id", "product", "month", "amount")
    form = MonthlyRevenueRowForm
    model = MonthlyRevenue
    key_columns = ("organization_id", "product", "month")
    unique_fields = ("account", "month", "product")
    update_fields = ("amount",)

    def build(self, data: Mapping[str, Any], context: Mapping[str, Any]) -> MonthlyRevenue:
        return MonthlyRevenue(
            account_id=context["accounts"][data["organization_id"]]["pk"],
            product_id=context["products"][data["product"]],
            month=data["month"],
            amount=data["amount"],
        )

    def after_apply(self, objs: list[MonthlyRevenue]) -> None:
        # New numbers: drop the cached ones now, recompute in the background.
        # robust: with Redis down the rows are committed all the same; the
        # error is logged and the hourly refresh catches up.
        transaction.on_commit(revenue_facts_changed, robust=True)


HEADER = MonthlyRevenueImport.header


def import_mrr_records(*, records: Iterable[Record], dry_run: bool = False) -> ImportResult:
    """Validate ``(line, record)`` pairs and upsert them unless any is bad or ``dry_run``.

    Idempotent: the same records imported twice leave the same rows.
    """
    return MonthlyRevenueImport().run(records, dry_run=dry_run)


def import_mrr_csv(*, text: str, dry_run: bool = False) -> ImportResult:
    """Import CSV text with the header ``organization_id,product,month,amount``."""
    return MonthlyRevenueImport().run_csv(text, dry_run=dry_run)
