"""What the revenue pages read: the revenue summaries (``billing.summary``).

The pages used to compute lifecycle and NDR/GDR from the revenue history on a
request (tens of seconds at 100,000 accounts) behind a cache an hourly job
warmed. They now read the summaries, a few rows per month, kept up to date
incrementally: an import's after-commit job refreshes the months it touched,
and a page that finds inputs changed since the last refresh (the job not run
yet, a term edited in the admin) refreshes them first, so a page never shows
figures older than its data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection

from accounts.models import Account
from revopsweb.dates import add_months, month_range

from .lifecycle import (
    HISTORY_MONTHS,
    MOVERS_LIMIT,
    MonthComponents,
    Mover,
    components_from_row,
    empty_components,
    stage_between,
)
from .models import RevenueMover
from .summary import SUM_COLUMNS, refresh_revenue_summary, revenue_summary_dirty

PAGE_MONTHS = HISTORY_MONTHS + 1


def fresh_summary() -> None:
    """Refresh the summaries if an input changed since the last refresh: one
    query when nothing did. Pages call it once before reading them."""
    if revenue_summary_dirty():
        refresh_revenue_summary()


def _summary_rows(
    *, first: dt.date, last: dt.date, adjusted: bool, products: bool
) -> list[tuple[Any, ...]]:
    level = "product_id <> 0" if products else "product_id = 0"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT month, product_id, {SUM_COLUMNS} FROM billing_revenuemonthsummary "
            f"WHERE adjusted = %s AND month BETWEEN %s AND %s AND {level} "
            "ORDER BY month, product_id",
            [adjusted, first, last],
        )
        rows: list[tuple[Any, ...]] = cursor.fetchall()
    return rows


def page_components(*, through: dt.date, adjusted: bool) -> list[MonthComponents]:
    """The revenue page's 18 + 1 months of company-level components ending with
    ``through``, oldest first (a month without revenue movement: all zeros).
    One query; call ``fresh_summary`` first."""
    months = month_range(add_months(through, 1 - PAGE_MONTHS), through)
    rows = _summary_rows(first=months[0], last=through, adjusted=adjusted, products=False)
    by_month = {row[0]: row for row in rows}
    return [
        components_from_row((m, 0), by_month[m]) if m in by_month else empty_components(m)
        for m in months
    ]


def page_products(*, through: dt.date, adjusted: bool) -> list[MonthComponents]:
    """Per-product components of ``through`` (a product with revenue that month
    or the month before), by product id. One query; call ``fresh_summary`` first."""
    rows = _summary_rows(first=through, last=through, adjusted=adjusted, products=True)
    return [components_from_row((through, int(row[1])), row, retention=False) for row in rows]


def page_movers(
    *, through: dt.date, adjusted: bool, limit: int = MOVERS_LIMIT
) -> tuple[list[Mover], list[Mover]]:
    """The ``limit`` (at most 10) biggest gainers and losers of ``through`` with
    their owners, biggest first. One query; call ``fresh_summary`` first."""
    rows = (
        RevenueMover.objects.filter(adjusted=adjusted, month=through)
        .select_related("customer__owner")
        .order_by("up")
    )
    gainers: list[tuple[int, Mover]] = []
    losers: list[tuple[int, Mover]] = []
    for row in rows:
        account: Account = row.customer
        owner = account.owner.name if account.owner else None
        mover = Mover(
            account.pk,
            account.name,
            account.organization_id,
            owner,
            row.prev,
            row.amount,
            stage_between(row.prev, row.amount),
        )
        if row.up <= limit and row.amount > row.prev:
            gainers.append((row.up, mover))
        if row.down <= limit and row.amount < row.prev:
            losers.append((row.down, mover))
    return [m for _, m in sorted(gainers, key=lambda x: x[0])], [
        m for _, m in sorted(losers, key=lambda x: x[0])
    ]
