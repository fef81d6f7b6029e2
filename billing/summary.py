"""The revenue summaries: lifecycle components, NDR/GDR sums and movers per month,
kept up to date incrementally (revops/lifecycle-analysis, revops/retention-metrics).

Pages read ``RevenueMonthSummary`` (company total and per product, adjusted and
unadjusted) and ``RevenueMover`` instead of computing history on a request.
Every input of the figures marks the first month it touched in
``RevenueSummaryDirty`` (PostgreSQL triggers, migration 0011, so CSV imports,
the API, the admin, the seed's COPY and tests alike).

A refresh works per basis (adjusted or not) and level (company or product),
from the first month a change can move through the latest month with revenue;
earlier months stay as they are. At the company level in two steps:

1. the adjustments are re-applied to those months only (``billing.adjustments.
   revenue_cte`` over a grid reaching two months back) and stored per customer
   and month in ``RevenueCustomerMonth`` (non-zero amounts), with each
   customer's first month with revenue in ``RevenueFirstPaid`` ("paid before").
   At the adjusted company level the grid's months before the first month
   changed take their billed amounts (before rules 4 and 5, stored beside the
   adjusted ones) from the stored rows instead of the revenue rows;
2. the months' components, NDR/GDR sums and movers are aggregated from the
   stored amounts (a month, the one before, and the 3/6/12-month bases), one
   statement per month, with the stage rules of ``billing.lifecycle``
   (``STAGE_SQL``, ``COMPONENT_SUMS``).

Per product (no retention sums, no rule reading another month) nothing is
stored per customer: one statement per basis re-applies the adjustments to the
months and the one before them and aggregates them directly.

Why that range is exact: a month's components read its own and earlier months'
adjusted revenue, and a month's adjusted revenue reads its own month's inputs
and, at the adjusted company level, the two months before and the one after it
(rules 4 and 5 of ``billing.adjustments``; the latest month is left as billed).
So a change in month M moves nothing before M (before M − 1 at the adjusted
company level, and there also the last month computed once a later one arrives).
Importing one month thus re-applies the adjustments to one or two months, not
to the history, and reads the revenue rows of the imported month only: a month's
billed amount reads its own month's inputs only, so those of the months before
M are the stored ones.

``rebuild_revenue_summary`` recomputes every month (``manage.py
rebuild_revenue_summary``); tests check that the incremental refreshes of a
random import sequence leave the same rows as a rebuild, and that the stored
components equal ``billing.lifecycle.lifecycle_components`` computed from history.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

from revopsweb.dates import add_months, month_range

from .adjustments import revenue_cte
from .lifecycle import COMPONENT_SUMS, MOVERS_LIMIT, RETENTION_BASES, STAGE_SQL
from .models import RevenueSummaryDirty

# Marked by the triggers for "every month" (a consolidation, a TRUNCATE).
EVERYTHING = dt.date(1900, 1, 1)
# pg_advisory_xact_lock key of the refresh: two refreshes never interleave.
LOCK_KEY = 2_020_000_020
# The stored billed amounts (before rules 4 and 5) of the adjusted company level,
# as ``billing.adjustments.revenue_cte``'s ``stored`` relation reads them.
STORED_BILLED = (
    "SELECT customer_id, product_id, month, billed AS amount FROM billing_revenuecustomermonth"
    " WHERE adjusted AND product_id = 0"
)

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
    """Recompute the summaries from the earliest month marked dirty (the month
    before it for the adjusted company level) through the latest month with
    revenue; drop the marks.

    Idempotent (nothing marked: nothing done) and safe to run concurrently (an
    advisory lock serialises refreshes; a write committed during a refresh stays
    marked for the next one). Returns the number of months recomputed (at the
    level that went furthest back).
    """
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
            cursor.execute("DELETE FROM billing_revenuesummarydirty RETURNING month")
            marked = [row[0] for row in cursor.fetchall()]
        if not marked:
            return 0
        return _recompute(changed_from=min(marked))


def rebuild_revenue_summary() -> int:
    """Recompute every month of the summaries from scratch. Returns the months recomputed."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
            cursor.execute("DELETE FROM billing_revenuesummarydirty")
        months = _recompute(changed_from=EVERYTHING)
        with connection.cursor() as cursor:
            # Every stored row is new: without statistics the next refresh's
            # month ranges would be planned as if the tables were empty.
            cursor.execute("ANALYZE billing_revenuecustomermonth, billing_revenuefirstpaid")
        return months


def _recompute(*, changed_from: dt.date) -> int:
    """Replace the stored amounts and summary rows of each basis and level from the
    first month that an input change from ``changed_from`` on can move. Inside the
    refresh's transaction."""
    with connection.cursor() as cursor:
        # The month's customers are grouped in memory, not in temporary files.
        cursor.execute("SET LOCAL work_mem = '128MB'")
        # A month just imported has no statistics yet (autovacuum has not seen
        # it): estimated at a row or two, its thousands of rows would be joined
        # by nested loops over the CTEs (37 s instead of 0.7 s at 10,000 accounts).
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute("SELECT MIN(month), MAX(month) FROM billing_monthlyrevenue")
        first, latest = cursor.fetchone()
        earliest = None
        for adjusted in (True, False):
            for by_product in (False, True):
                from_month = _from_month(
                    cursor, changed_from=changed_from, adjusted=adjusted, by_product=by_product
                )
                start = max(from_month, first) if first is not None else from_month
                if by_product:
                    _product_sums(
                        cursor, from_month=from_month, start=start, latest=latest, adjusted=adjusted
                    )
                else:
                    _amounts(
                        cursor,
                        changed_from=changed_from,
                        from_month=from_month,
                        start=start,
                        latest=latest,
                        adjusted=adjusted,
                    )
                    if latest is not None and start <= latest:
                        _sums(cursor, start=start, latest=latest, adjusted=adjusted)
                if latest is not None and start <= latest:
                    earliest = start if earliest is None else min(earliest, start)
        if latest is None or earliest is None:
            return 0
        months: int = (latest.year - earliest.year) * 12 + latest.month - earliest.month + 1
    return months


def _from_month(
    cursor: CursorWrapper, *, changed_from: dt.date, adjusted: bool, by_product: bool
) -> dt.date:
    """The first month of one basis and level whose figures an input change from
    ``changed_from`` on can move; its summary (and movers) rows from then on are
    deleted here."""
    level = _level(by_product)
    cursor.execute(
        f"SELECT MAX(month) FROM billing_revenuemonthsummary WHERE adjusted = %s AND {level}",
        [adjusted],
    )
    (computed_through,) = cursor.fetchone()
    if computed_through is None:
        from_month = EVERYTHING
    elif _lookback(adjusted=adjusted, by_product=by_product):
        # Rules 4 and 5 read the following month, so a change moves the month
        # before it; and the last month computed had no following month then (it
        # was left as billed): once a later month arrives, it is recomputed.
        from_month = min(add_months(changed_from, -1), computed_through)
    else:
        # A month's amounts read that month only; months after the last one
        # computed come in when a later month arrives (churn in an empty month).
        from_month = min(changed_from, add_months(computed_through, 1))
    cursor.execute(
        f"DELETE FROM billing_revenuemonthsummary WHERE adjusted = %s AND {level} AND month >= %s",
        [adjusted, from_month],
    )
    if not by_product:
        cursor.execute(
            "DELETE FROM billing_revenuemover WHERE adjusted = %s AND month >= %s",
            [adjusted, from_month],
        )
    return from_month


def _level(by_product: bool) -> str:
    return "product_id <> 0" if by_product else "product_id = 0"


def _lookback(*, adjusted: bool, by_product: bool) -> int:
    # Rules 4 and 5 read the two months before (company level, adjusted only).
    return 2 if adjusted and not by_product else 0


def _amounts(
    cursor: CursorWrapper,
    *,
    changed_from: dt.date,
    from_month: dt.date,
    start: dt.date,
    latest: dt.date | None,
    adjusted: bool,
) -> None:
    """Company level: re-apply the adjustments (``billing.adjustments.revenue_cte``)
    to the months from ``from_month`` on (computed from ``start``, the later of it and the first
    month with revenue): replace their ``RevenueCustomerMonth`` rows, and the first
    months with revenue from the grid's first month on (an earlier one stays: the
    inputs changed from ``from_month`` on only).

    At the adjusted company level rules 4 and 5 read the two months before and the
    one after, so the months before ``changed_from`` that the grid reaches (the
    month before it, recomputed, and the two before that) take their billed
    amounts (before rules 4 and 5) from the stored rows, as the last refresh
    computed them: no input of theirs changed since, and re-reading them from the
    revenue rows was most of a month's import (three months of revenue rows,
    scattered over the table, for every customer)."""
    level = _level(False)
    lookback = _lookback(adjusted=adjusted, by_product=False)
    cursor.execute(
        f"DELETE FROM billing_revenuefirstpaid WHERE adjusted = %s AND {level} AND month >= %s",
        [adjusted, add_months(from_month, -lookback)],
    )
    if latest is None or start > latest:
        cursor.execute(
            f"DELETE FROM billing_revenuecustomermonth "
            f"WHERE adjusted = %s AND {level} AND month >= %s",
            [adjusted, from_month],
        )
        return
    # history=False: "paid before" comes from billing_revenuefirstpaid instead of
    # a scan of every earlier month.
    cte, params = revenue_cte(
        first_month=start,
        last_month=latest,
        adjusted=adjusted,
        lookback=lookback,
        history=False,
        stored=(changed_from, STORED_BILLED) if lookback else None,
    )
    # Unadjusted no rule reads another month: nothing is read back, none is stored.
    billed = "billed" if lookback else "NULL::numeric"
    nonzero = "(amount <> 0 OR billed <> 0)" if lookback else "amount <> 0"
    # Only the rows that differ are written: most of a recomputed month before
    # the new one (read again for rules 4 and 5) keeps its amounts.
    cursor.execute(
        cte
        + f""",
        firsts AS (
            -- Most keys are stored already (their first month is earlier than the
            -- grid): one anti-join instead of a conflicting index probe per key.
            INSERT INTO billing_revenuefirstpaid (adjusted, product_id, customer_id, month)
            SELECT %s, k.product_id, k.customer_id, k.first_month FROM first_keys k
            WHERE NOT EXISTS (
                SELECT 1 FROM billing_revenuefirstpaid f
                WHERE f.adjusted = %s AND f.{level} AND f.product_id = k.product_id
                  AND f.customer_id = k.customer_id
            )
            ON CONFLICT DO NOTHING
        ),
        fresh AS (
            SELECT product_id, customer_id, month, amount, {billed} AS billed FROM adj
            WHERE month >= %s AND {nonzero}
        ),
        kept AS (
            SELECT product_id, customer_id, month, amount, billed
            FROM billing_revenuecustomermonth
            WHERE adjusted = %s AND {level} AND month >= %s
        ),
        gone AS (
            DELETE FROM billing_revenuecustomermonth t
            WHERE t.adjusted = %s AND t.{level} AND t.month >= %s AND NOT EXISTS (
                SELECT 1 FROM fresh n WHERE n.month = t.month
                    AND n.product_id = t.product_id AND n.customer_id = t.customer_id
            )
        )
        INSERT INTO billing_revenuecustomermonth
            (adjusted, product_id, customer_id, month, amount, billed)
        SELECT %s, n.product_id, n.customer_id, n.month, n.amount, n.billed
        FROM fresh n
        LEFT JOIN kept k ON k.month = n.month AND k.product_id = n.product_id
            AND k.customer_id = n.customer_id
        WHERE k.amount IS DISTINCT FROM n.amount OR k.billed IS DISTINCT FROM n.billed
        -- In key order, so a month's rows share pages: the sums read by month.
        ORDER BY n.month, n.product_id, n.customer_id
        ON CONFLICT (adjusted, month, product_id, customer_id)
        DO UPDATE SET amount = EXCLUDED.amount, billed = EXCLUDED.billed
        """,
        [*params, adjusted, adjusted, start, adjusted, from_month, adjusted, from_month, adjusted],
    )


def _sums(cursor: CursorWrapper, *, start: dt.date, latest: dt.date, adjusted: bool) -> None:
    """One basis at the company level: the components per month from ``start``
    through ``latest``, and the movers, from the stored amounts (``life`` as
    ``billing.lifecycle.life_cte`` has it: a missing month is $0). One statement
    per month (see ``_month_sums``)."""
    for month in month_range(start, latest):
        _month_sums(cursor, month=month, adjusted=adjusted)


def _month_sums(cursor: CursorWrapper, *, month: dt.date, adjusted: bool) -> None:
    """One month of ``_sums``. The lags' amounts are read in one scan of the stored
    amounts' months (the month, the one before, the bases) and put side by side per
    customer with ``MAX(...) FILTER``: a key has one row per month, so each is the
    month's amount, NULL (read as $0) when it has none. A range of months per
    statement, each lag a copy of the rows summed by a hash table over every month,
    took three times as long and spilled to disk at 100,000 accounts."""
    lags = (0, 1, *RETENTION_BASES)
    names = {0: "amount", 1: "prev", **{base: f"base_{base}" for base in RETENTION_BASES}}
    lag_months = {lag: add_months(month, -lag) for lag in lags}
    side_by_side = ", ".join(
        f"COALESCE(MAX(amount) FILTER (WHERE month = %(lag_{lag})s), 0) AS {names[lag]}"
        for lag in lags
    )
    life = f"""
    WITH lagged AS (
        SELECT customer_id, product_id, %(month)s::date AS month, {side_by_side}
        FROM billing_revenuecustomermonth
        WHERE adjusted = %(adjusted)s AND product_id = 0
          AND month IN ({", ".join(f"%(lag_{lag})s" for lag in lags)})
        GROUP BY product_id, customer_id
    ),
    paid AS (
        SELECT lagged.*, CASE WHEN f.month < lagged.month THEN 1 ELSE 0 END AS paid_before
        FROM lagged
        LEFT JOIN billing_revenuefirstpaid f ON f.adjusted = %(adjusted)s AND f.product_id = 0
            AND f.product_id = lagged.product_id AND f.customer_id = lagged.customer_id
    ),
    life AS (SELECT paid.*, {STAGE_SQL} AS stage FROM paid),
    sums AS (SELECT month, product_id, {COMPONENT_SUMS} FROM life GROUP BY month, product_id),
    movers AS (
        INSERT INTO billing_revenuemover (adjusted, month, customer_id, prev, amount, up, down)
        SELECT %(adjusted)s, month, customer_id, prev, amount, up, down FROM (
            SELECT month, customer_id, prev, amount,
                   ROW_NUMBER() OVER (PARTITION BY month
                                      ORDER BY amount - prev DESC, customer_id) AS up,
                   ROW_NUMBER() OVER (PARTITION BY month
                                      ORDER BY amount - prev ASC, customer_id) AS down
            FROM life WHERE amount <> prev
        ) ranked
        WHERE up <= %(limit)s OR down <= %(limit)s
    )
    """
    cursor.execute(
        life
        + f"""
        INSERT INTO billing_revenuemonthsummary (adjusted, month, product_id, {SUM_COLUMNS})
        SELECT %(adjusted)s, * FROM sums WHERE {NOT_ALL_ZERO}
        """,
        {
            "adjusted": adjusted,
            "month": month,
            "limit": MOVERS_LIMIT,
            **{f"lag_{lag}": lag_month for lag, lag_month in lag_months.items()},
        },
    )


def _product_sums(
    cursor: CursorWrapper,
    *,
    from_month: dt.date,
    start: dt.date,
    latest: dt.date | None,
    adjusted: bool,
) -> None:
    """One basis per product: the components per month and product from ``start``
    (the later of ``from_month`` and the first month with revenue) through
    ``latest``, straight from the adjustments (``billing.adjustments.revenue_cte``
    over a grid from the month before ``start``: per product only the previous month
    matters, and no rule reads another month); the first months with revenue from
    ``from_month`` on are replaced. Nothing per customer is stored at this level:
    the month before is read again instead, which costs less than writing and
    reading back a row per customer, product and month (239,225 rows a month at
    100,000 accounts)."""
    cursor.execute(
        "DELETE FROM billing_revenuefirstpaid WHERE adjusted = %s AND product_id <> 0"
        " AND month >= %s",
        [adjusted, from_month],
    )
    if latest is None or start > latest:
        return
    cte, params = revenue_cte(
        first_month=start,
        last_month=latest,
        adjusted=adjusted,
        by_product=True,
        lookback=1,
        history=False,
    )
    retention_zero = ", ".join(f"0 AS {c}" for c in RETENTION_COLUMNS)
    zero_bases = ", ".join(f"0 AS base_{base}" for base in RETENTION_BASES)
    cursor.execute(
        cte
        + f""",
        firsts AS (
            -- A first month before from_month is stored (kept by the delete above):
            -- only the keys first seen from then on are looked up.
            INSERT INTO billing_revenuefirstpaid (adjusted, product_id, customer_id, month)
            SELECT %s, k.product_id, k.customer_id, k.first_month FROM first_keys k
            WHERE k.first_month >= %s AND NOT EXISTS (
                SELECT 1 FROM billing_revenuefirstpaid f
                WHERE f.adjusted = %s AND f.product_id <> 0 AND f.product_id = k.product_id
                  AND f.customer_id = k.customer_id
            )
            ON CONFLICT DO NOTHING
        ),
        lagged AS (
            SELECT customer_id, product_id, month, amount,
                   LAG(amount, 1, 0) OVER (PARTITION BY customer_id, product_id ORDER BY month)
                       AS prev,
                   {zero_bases}
            FROM adj
        ),
        paid AS (
            -- The first month as stored before this statement, else as inserted by
            -- it (firsts: a statement does not see its own inserts).
            SELECT lagged.*,
                   CASE WHEN COALESCE(f.month, k.first_month) < lagged.month THEN 1 ELSE 0 END
                       AS paid_before
            FROM lagged
            JOIN first_keys k ON k.customer_id = lagged.customer_id
                AND k.product_id = lagged.product_id
            LEFT JOIN billing_revenuefirstpaid f ON f.adjusted = %s AND f.product_id <> 0
                AND f.product_id = lagged.product_id AND f.customer_id = lagged.customer_id
            WHERE lagged.month >= %s
        ),
        life AS (SELECT paid.*, {STAGE_SQL} AS stage FROM paid),
        sums AS (SELECT month, product_id, {COMPONENT_SUMS} FROM life GROUP BY month, product_id)
        INSERT INTO billing_revenuemonthsummary (adjusted, month, product_id, {SUM_COLUMNS})
        SELECT %s, * FROM (
            SELECT month, product_id, {", ".join(COMPONENT_COLUMNS)}, {retention_zero} FROM sums
        ) kept WHERE {NOT_ALL_ZERO}
        """,
        [*params, adjusted, from_month, adjusted, adjusted, start, adjusted],
    )
