"""What the revenue pages read: the revenue summaries (``billing.summary``).

The pages used to compute lifecycle and NDR/GDR from the revenue history on a
request (tens of seconds at 100,000 accounts) behind a cache an hourly job
warmed. They now read the summaries, a few rows per month, kept up to date
incrementally: an import's after-commit job refreshes the months it touched.
A page that finds inputs changed since the last refresh (the job not run yet, a
term edited in the admin) refreshes them first when the change is narrow (a few
accounts' rows); when it needs every account's months recomputed, the page asks
the workers to and shows the last refresh's figures, saying they are being
updated (``fresh_summary``), so no figure is older than its data without saying so.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

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
from .summary import (
    SUM_COLUMNS,
    pending_refresh,
    refresh_revenue_summary,
    revenue_summary_dirty,
)
from .tasks import refresh_revenue_cache

PAGE_MONTHS = HISTORY_MONTHS + 1
# A wide refresh a page asked the workers for: at most once per this many seconds.
QUEUED_KEY = "billing:revenue-refresh-queued"
QUEUED_SECONDS = 120
# What a page says (and the CSV answers with) while fresh_summary's refresh runs.
UPDATING_MESSAGE = (
    "These revenue figures are from before the latest changes to the revenue data: they are"
    " being recomputed for every account now. Reload in a minute or two."
)
FIRST_BUILD_MESSAGE = (
    "The revenue figures are being computed for the first time, for every account and month."
    " Reload in a few minutes."
)


class Freshness(enum.Enum):
    """What a page's revenue figures are, as ``fresh_summary`` leaves them."""

    CURRENT = "current"
    # The last refresh's figures; a refresh of every account's months is queued.
    UPDATING = "updating"
    # No figures yet (the summaries were never built); their first build is queued.
    NOT_BUILT = "not built"

    @property
    def message(self) -> str:
        """What the page says above (or instead of) its figures; "" when current."""
        return {"updating": UPDATING_MESSAGE, "not built": FIRST_BUILD_MESSAGE}.get(self.value, "")


def fresh_summary() -> Freshness:
    """Bring the summaries up to date before a page reads them, unless that would
    hold the request. CURRENT when nothing changed (one query) or the change was
    refreshed here: a narrow one, or any change of a company whose monthly revenue
    table is at most ``REVENUE_INLINE_REFRESH_MAX_MB``. Otherwise (a month's import,
    a term, summaries never built, at a larger company: ``summary.pending_refresh``)
    the refresh goes to the workers, queued at most once per ``QUEUED_SECONDS``, and
    the answer is UPDATING, or NOT_BUILT when there is nothing to show yet: a
    request recomputing every account's months ran past gunicorn's 30 s timeout at
    100,000 accounts (a manager's home on a freshly seeded company)."""
    if not revenue_summary_dirty():
        return Freshness.CURRENT
    pending = pending_refresh()
    if not pending.wide or pending.revenue_megabytes <= settings.REVENUE_INLINE_REFRESH_MAX_MB:
        refresh_revenue_summary()
        return Freshness.CURRENT
    if cache.add(QUEUED_KEY, True, timeout=QUEUED_SECONDS):
        # Robust: with the broker down the page still answers; the hourly refresh
        # (or the next page after QUEUED_SECONDS) queues it again.
        transaction.on_commit(refresh_revenue_cache.delay, robust=True)
    return Freshness.UPDATING if pending.built else Freshness.NOT_BUILT


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
