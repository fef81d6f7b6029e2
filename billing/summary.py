"""The revenue summaries: lifecycle components, NDR/GDR sums and movers per month,
kept up to date incrementally (revops/lifecycle-analysis, revops/retention-metrics).

Pages read ``RevenueMonthSummary`` (company total and per product, adjusted and
unadjusted) and ``RevenueMover`` instead of computing history on a request.
Every input of the figures marks the first month it touched in
``RevenueSummaryDirty`` (PostgreSQL triggers, migration 0011, so CSV imports,
the API, the admin, the seed's COPY and tests alike); ``refresh_revenue_summary``
recomputes from the month before the earliest marked month (or the month after
the last one computed, if earlier) through the latest month with revenue, and
leaves earlier months as they are. Why that range is
exact: a month's components read its own and the previous month's adjusted
revenue, the 3/6/12-month bases and "paid before" (all earlier), and a month's
adjusted revenue reads the two months before and the one after it (rules 4 and
5 of ``billing.adjustments``), so a change in month M moves nothing before M − 1.

The rules themselves are not restated here: the rows come from
``billing.lifecycle.life_cte`` (over ``billing.adjustments.revenue_cte``), the
same SQL ``lifecycle_components`` runs. ``rebuild_revenue_summary`` recomputes
every month (``manage.py rebuild_revenue_summary``); a test checks that the
incremental refreshes of a random import sequence leave the same rows.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

from revopsweb.dates import add_months

from .adjustments import Params
from .lifecycle import COMPONENT_SUMS, MOVERS_LIMIT, RETENTION_BASES, life_cte
from .models import RevenueSummaryDirty

# Marked by the triggers for "every month" (a consolidation, a TRUNCATE).
EVERYTHING = dt.date(1900, 1, 1)
# pg_advisory_xact_lock key of the refresh: two refreshes never interleave.
LOCK_KEY = 2_020_000_020

# In the order of ``COMPONENT_SUMS``.
COMPONENT_COLUMNS = (
    "total", "baseline", "new", "reactivated", "retained", "expansion", "contraction", "churned",
)  # fmt: skip
RETENTION_COLUMNS = tuple(
    f"ret_{kind}_{base}" for base in RETENTION_BASES for kind in ("base", "now", "gross")
)
SUM_COLUMNS = ", ".join(COMPONENT_COLUMNS + RETENTION_COLUMNS)
# A group of rows whose every sum is zero is not stored (read as an empty month),
# so the rows do not depend on how far back the computation's window reached.
NOT_ALL_ZERO = " OR ".join(f"{c} <> 0" for c in COMPONENT_COLUMNS + RETENTION_COLUMNS)


def revenue_summary_dirty() -> bool:
    """Whether an input changed since the last refresh. One query (an index probe)."""
    return RevenueSummaryDirty.objects.exists()


def refresh_revenue_summary() -> int:
    """Recompute the summaries from the month before the earliest month marked
    dirty through the latest month with revenue; drop the marks.

    Idempotent (nothing marked: nothing done) and safe to run concurrently (an
    advisory lock serialises refreshes; a write committed during a refresh stays
    marked for the next one). Returns the number of months recomputed.
    """
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
            cursor.execute("DELETE FROM billing_revenuesummarydirty RETURNING month")
            marked = [row[0] for row in cursor.fetchall()]
        if not marked:
            return 0
        return _recompute(from_month=add_months(min(marked), -1))


def rebuild_revenue_summary() -> int:
    """Recompute every month of the summaries from scratch. Returns the months recomputed."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
            cursor.execute("DELETE FROM billing_revenuesummarydirty")
        return _recompute(from_month=EVERYTHING)


def _recompute(*, from_month: dt.date) -> int:
    """Replace the summary rows from ``from_month`` on. Inside the refresh's transaction."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(month), MAX(month) FROM billing_monthlyrevenue")
        first, latest = cursor.fetchone()
        # Months after the last one computed come into the range when a later
        # month arrives (a customer's churn in an empty month in between).
        cursor.execute("SELECT MAX(month) FROM billing_revenuemonthsummary")
        (computed_through,) = cursor.fetchone()
        from_month = min(
            from_month,
            add_months(computed_through, 1) if computed_through is not None else EVERYTHING,
        )
        cursor.execute("DELETE FROM billing_revenuemonthsummary WHERE month >= %s", [from_month])
        cursor.execute("DELETE FROM billing_revenuemover WHERE month >= %s", [from_month])
        if latest is None:
            return 0
        start = max(from_month, first)
        if start > latest:
            return 0
        for adjusted in (True, False):
            for by_product in (False, True):
                cte, params = life_cte(
                    first_month=start, last_month=latest, adjusted=adjusted, by_product=by_product
                )
                _insert(cursor, cte=cte, params=params, adjusted=adjusted, by_product=by_product)
        months: int = (latest.year - start.year) * 12 + latest.month - start.month + 1
    return months


def _insert(
    cursor: CursorWrapper, *, cte: str, params: Params, adjusted: bool, by_product: bool
) -> None:
    """One basis and level: the components per month (and product), and at the
    company level the movers, from one evaluation of ``life``."""
    retention_zero = ", ".join(f"0 AS {c}" for c in RETENTION_COLUMNS)
    # Per product the window looks back one month only, so retention sums
    # there would depend on the window: none are kept (as lifecycle_components).
    sums_from = (
        f"SELECT month, product_id, {', '.join(COMPONENT_COLUMNS)}, {retention_zero} FROM sums"
        if by_product
        else "SELECT * FROM sums"
    )
    sql = (
        "CREATE TEMPORARY TABLE billing_summary_life ON COMMIT DROP AS "
        + cte
        + "SELECT customer_id, product_id, month, amount, prev, stage, base_3, base_6, base_12 "
        "FROM life"
    )
    cursor.execute(sql, params)
    cursor.execute(
        f"""
        INSERT INTO billing_revenuemonthsummary (adjusted, month, product_id, {SUM_COLUMNS})
        WITH sums AS (
            SELECT month, product_id, {COMPONENT_SUMS}
            FROM billing_summary_life GROUP BY month, product_id
        ),
        kept AS ({sums_from})
        SELECT %s, * FROM kept WHERE {NOT_ALL_ZERO}
        """,
        [adjusted],
    )
    if not by_product:
        cursor.execute(
            """
            INSERT INTO billing_revenuemover (adjusted, month, customer_id, prev, amount, up, down)
            SELECT %s, month, customer_id, prev, amount, up, down FROM (
                SELECT month, customer_id, prev, amount,
                       ROW_NUMBER() OVER (PARTITION BY month
                                          ORDER BY amount - prev DESC, customer_id) AS up,
                       ROW_NUMBER() OVER (PARTITION BY month
                                          ORDER BY amount - prev ASC, customer_id) AS down
                FROM billing_summary_life WHERE amount <> prev
            ) ranked
            WHERE up <= %s OR down <= %s
            """,
            [adjusted, MOVERS_LIMIT, MOVERS_LIMIT],
        )
    cursor.execute("DROP TABLE billing_summary_life")
