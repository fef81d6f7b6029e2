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
   adjusted ones) from the stored rows instead of the revenue rows. For one or
   two months (a month's import) each customer's months are put side by side in
   one aggregate instead of the grid's window (``_recent_adj``);
2. the months' components, NDR/GDR sums and movers are aggregated from the
   stored amounts (a month, the one before, and the 3/6/12-month bases), one
   statement per month, with the stage rules of ``billing.lifecycle``
   (``STAGE_SQL``, ``COMPONENT_SUMS``).

Per product (no retention sums, no rule reading another month) nothing is
stored per customer: one statement per basis re-applies the adjustments to the
months and the one before them and aggregates them directly (for one month, each
key's month and the one before side by side in one aggregate of the revenue rows).

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
from typing import NamedTuple

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

from revopsweb.dates import add_months, month_range

from .adjustments import RULES_4_AND_5_SQL, revenue_cte, row_amounts_sql
from .lifecycle import COMPONENT_SUMS, MOVERS_LIMIT, RETENTION_BASES, STAGE_SQL

# Marked by the triggers for "every month" (a consolidation, a TRUNCATE).
EVERYTHING = dt.date(1900, 1, 1)
# The most accounts whose changed revenue rows a refresh recomputes one by one
# (their amounts, and each month's sums by difference); with more, it recomputes
# the months from the earliest change for every account.
NARROW_MAX_ACCOUNTS = 2_000
# A refresh reading at most this many months of revenue rows (a month's import:
# the month, and the month before per product) reads them once (``_recent_amounts``).
RECENT_MONTHS = 3
# The most months a company level's refresh re-applies the adjustments to side
# by side (``_recent_adj``) rather than through the grid's window: a month's
# import recomputes two at the adjusted company level.
RECENT_SIDE_BY_SIDE = 2
# The temporary table of a month's import's revenue rows and their amounts.
RECENT_AMOUNTS = "summary_recent_amounts"
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


class PendingRefresh(NamedTuple):
    """What the next refresh has to do, as ``pending_refresh`` reads it."""

    # Months recomputed for every account: a month is marked (a month's import, a
    # term, a consolidation, summaries never built) or more than
    # ``narrow_max_accounts`` accounts' rows changed. Else the changed accounts alone
    # (or, for a change in the latest month, that month).
    wide: bool
    # The monthly revenue table's size on disk (the file's, no scan): a wide refresh
    # takes time in proportion to it (63 s at 265 MB, the 100,000-account seed).
    revenue_megabytes: float
    # Whether the summaries hold any month (False: never built, nothing to show).
    built: bool


def pending_refresh(*, narrow_max_accounts: int = NARROW_MAX_ACCOUNTS) -> PendingRefresh:
    """Whether the next refresh is wide, the revenue table's size, and whether the
    summaries were ever built. One query."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM billing_revenuesummarydirty)"
            " OR (SELECT COUNT(DISTINCT account_id) FROM billing_revenuesummarychange) > %s,"
            " pg_relation_size('billing_monthlyrevenue') / 1048576.0,"
            " EXISTS (SELECT 1 FROM billing_revenuemonthsummary)",
            [narrow_max_accounts],
        )
        wide, size, built = cursor.fetchone()
    return PendingRefresh(wide=bool(wide), revenue_megabytes=float(size), built=bool(built))


def revenue_summary_dirty() -> bool:
    """Whether an input changed since the last refresh: a month marked for every
    account, or a revenue row recorded. One query (two index probes)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM billing_revenuesummarydirty)"
            " OR EXISTS (SELECT 1 FROM billing_revenuesummarychange)"
        )
        (dirty,) = cursor.fetchone()
    return bool(dirty)


def refresh_revenue_summary(*, narrow_max_accounts: int = NARROW_MAX_ACCOUNTS) -> int:
    """Bring the summaries up to date with the inputs written since the last
    refresh; drop the marks and recorded changes.

    Revenue rows recorded one by one (``RevenueSummaryChange``: a statement of at
    most 10,000 rows) are recomputed for their customers alone when at most
    ``narrow_max_accounts`` accounts changed and none in the latest month: their
    stored amounts are replaced and each month's sums moved by the difference
    (``_narrow``); every other row stays. A month marked for every account
    (``RevenueSummaryDirty``: a month's import, a term, a consolidation), a change
    in the latest month or a new latest month recompute that month (the month
    before it for the adjusted company level) through the latest for every
    account (``_recompute``), after the narrow part for the months before it.

    Idempotent (nothing marked: nothing done) and safe to run concurrently (an
    advisory lock serialises refreshes; a write committed during a refresh stays
    marked for the next one). Returns the number of months recomputed for every
    account (at the level that went furthest back), else the number of months whose
    summary rows the narrow part changed.
    """
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
            cursor.execute("DELETE FROM billing_revenuesummarydirty RETURNING month")
            marked = [row[0] for row in cursor.fetchall()]
            # Read once, then dropped: the rows written after this point (a
            # concurrent import's) stay recorded for the next refresh.
            cursor.execute(
                "CREATE TEMPORARY TABLE summary_changes"
                " (LIKE billing_revenuesummarychange) ON COMMIT DROP"
            )
            cursor.execute(
                "WITH taken AS (DELETE FROM billing_revenuesummarychange RETURNING *)"
                " INSERT INTO summary_changes SELECT * FROM taken"
            )
            changes = cursor.rowcount
        months = 0
        if marked or changes:
            with connection.cursor() as cursor:
                wide, narrow = _plan(cursor, marked=marked, narrow_max_accounts=narrow_max_accounts)
            if narrow is not None:
                months = _narrow(first=narrow[0], end=narrow[1])
            if wide is not None:
                months = _recompute(changed_from=wide)
        _drop_temporary(["summary_changes"])
        return months


def _drop_temporary(tables: list[str]) -> None:
    # ON COMMIT DROP waits for the outermost transaction; a caller's (a test's)
    # second refresh in it would find the table still there.
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {', '.join(tables)}")


def _plan(
    cursor: CursorWrapper, *, marked: list[dt.date], narrow_max_accounts: int
) -> tuple[dt.date | None, tuple[dt.date, dt.date] | None]:
    """What a refresh recomputes: the month from which every account's months are
    recomputed (None: none), and the range of months (first, last) recomputed for
    the changed accounts alone (None: none). Reads ``summary_changes``."""
    wide = min(marked) if marked else None
    cursor.execute("SELECT MIN(month), MAX(month) FROM billing_monthlyrevenue")
    first, latest = cursor.fetchone()
    cursor.execute("SELECT MAX(month) FROM billing_revenuemonthsummary")
    (computed_through,) = cursor.fetchone()
    cursor.execute(
        "SELECT MIN(month), COUNT(DISTINCT account_id) FROM summary_changes WHERE month < %s",
        [latest or EVERYTHING],
    )
    earliest_change, accounts = cursor.fetchone()
    cursor.execute(
        "SELECT MIN(month) FROM summary_changes WHERE month >= %s", [latest or EVERYTHING]
    )
    (latest_change,) = cursor.fetchone()

    def earlier(month: dt.date | None) -> None:
        nonlocal wide
        if month is not None:
            wide = month if wide is None else min(wide, month)

    if latest is None or computed_through is None or first is None:
        earlier(EVERYTHING)
        return wide, None
    # A change in the latest month or after it moves the latest month (the
    # adjustments leave it as billed, and every account's churn is read from it):
    # every account's months from there.
    earlier(latest_change)
    if latest != computed_through:
        earlier(add_months(min(latest, computed_through), 1))
    if earliest_change is None or (wide is not None and earliest_change >= wide):
        return wide, None
    # A month marked for every account (a plan, a term, a consolidation) may move the
    # recorded customers' months before it too: a trial plan counts every month of
    # its account $0, and its trigger marks the account's first month with revenue
    # as it is after the changes (a deleted first month is before it). The narrow
    # part would re-apply the new terms to the rows as they were: recompute the
    # changes' months for every account instead.
    if marked:
        earlier(earliest_change)
        return wide, None
    if accounts > narrow_max_accounts:
        earlier(earliest_change)
        return wide, None
    # A deleted row may have been the first month with revenue.
    start = min(first, earliest_change)
    end = latest if wide is None else min(latest, add_months(wide, -1))
    return wide, (start, end)


def rebuild_revenue_summary() -> int:
    """Recompute every month of the summaries from scratch. Returns the months recomputed."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
            cursor.execute("DELETE FROM billing_revenuesummarydirty")
            cursor.execute("DELETE FROM billing_revenuesummarychange")
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
        levels = [
            (adjusted, by_product) for adjusted in (True, False) for by_product in (False, True)
        ]
        starts: dict[tuple[bool, bool], tuple[dt.date, dt.date]] = {}
        for adjusted, by_product in levels:
            from_month = _from_month(
                cursor, changed_from=changed_from, adjusted=adjusted, by_product=by_product
            )
            start = max(from_month, first) if first is not None else from_month
            starts[adjusted, by_product] = (from_month, start)
        amounts = _recent_amounts(cursor, changed_from=changed_from, starts=starts, latest=latest)
        earliest = None
        for adjusted, by_product in levels:
            from_month, start = starts[adjusted, by_product]
            if by_product:
                _product_sums(
                    cursor,
                    from_month=from_month,
                    start=start,
                    latest=latest,
                    adjusted=adjusted,
                    amounts=amounts,
                )
            else:
                _amounts(
                    cursor,
                    changed_from=changed_from,
                    from_month=from_month,
                    start=start,
                    latest=latest,
                    adjusted=adjusted,
                    amounts=amounts,
                )
                if latest is not None and start <= latest:
                    _sums(cursor, start=start, latest=latest, adjusted=adjusted)
            if latest is not None and start <= latest:
                earliest = start if earliest is None else min(earliest, start)
        if amounts is not None:
            _drop_temporary([amounts])
        if latest is None or earliest is None:
            return 0
        months: int = (latest.year - earliest.year) * 12 + latest.month - earliest.month + 1
    return months


def _recent_amounts(
    cursor: CursorWrapper,
    *,
    changed_from: dt.date,
    starts: dict[tuple[bool, bool], tuple[dt.date, dt.date]],
    latest: dt.date | None,
) -> str | None:
    """The relation the levels read the revenue rows' amounts from: when they all read
    the last ``RECENT_MONTHS`` months at most (a month's import), a temporary table
    of those months' rows with their amounts at every basis and level
    (``billing.adjustments.row_amounts_sql``), made once; else None (each level
    joins ``billing_monthlyrevenue`` to the adjustments' inputs itself).

    A month's rows are spread over the whole revenue table (the seed, like a
    history loaded account by account, stores each account's months together): at
    100,000 accounts each level's read of a month or two was a bitmap scan of
    every page of the table (34,000 pages), four times per refresh; and each level
    joined the rows to the credit grants' months (and at the adjusted levels the
    accounts, consolidations, contracts' and trials' months) again."""
    if latest is None:
        return None
    reads = []
    for (adjusted, by_product), (_, start) in starts.items():
        if by_product:
            reads.append(add_months(start, -1))  # the month before each month
        elif _lookback(adjusted=adjusted, by_product=by_product):
            # The months before changed_from are read from the stored amounts.
            reads.append(max(add_months(start, -2), changed_from))
        else:
            reads.append(start)
    first_read = min(reads)
    if first_read <= add_months(latest, -RECENT_MONTHS):
        return None
    select, params = row_amounts_sql(first_month=first_read, last_month=latest)
    # Each of the month's rows looks up its credit grants', contract's and trial's
    # month: hashed, not merge-joined (which sorted the month's rows twice, once
    # per lookup: 0.1 s of database CPU at 100,000 accounts).
    cursor.execute("SELECT current_setting('enable_mergejoin')")
    (mergejoin,) = cursor.fetchone()
    cursor.execute("SELECT set_config('enable_mergejoin', 'off', true)")
    cursor.execute(f"CREATE TEMPORARY TABLE {RECENT_AMOUNTS} ON COMMIT DROP AS {select}", params)
    cursor.execute("SELECT set_config('enable_mergejoin', %s, true)", [mergejoin])
    # The columns the levels group and filter by: the amounts' statistics go unread.
    cursor.execute(f"ANALYZE {RECENT_AMOUNTS} (account_id, customer_id, product_id, month)")
    return RECENT_AMOUNTS


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


def _staged(relation: str, where: str = "") -> str:
    """A subquery of ``relation``'s rows (``amount, prev, paid_before``, ...) with
    each row's ``stage`` (``STAGE_SQL``), for ``COMPONENT_SUMS``. OFFSET 0 keeps
    it a subquery: flattened into the aggregate, the stage's CASE was evaluated
    again inside each of the sums that read it (-0.6 s of database CPU per product
    level at 100,000 accounts)."""
    return f"SELECT r.*, {STAGE_SQL} AS stage FROM {relation} r {where} OFFSET 0"


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
    amounts: str | None = None,
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
    scattered over the table, for every customer). ``amounts``: the month's
    import's revenue rows with their amounts (``_recent_amounts``), else None."""
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
        amounts=amounts,
    )
    adj, keys = "adj", "first_keys"
    if len(month_range(start, latest)) <= RECENT_SIDE_BY_SIDE:
        recent, recent_params = _recent_adj(
            start=start, latest=latest, lookback=lookback, stored_before=changed_from
        )
        cte += recent
        params += recent_params
        adj, keys = "recent_adj", "(SELECT * FROM recent_keys WHERE first_month IS NOT NULL)"
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
            SELECT %s, k.product_id, k.customer_id, k.first_month FROM {keys} k
            WHERE NOT EXISTS (
                SELECT 1 FROM billing_revenuefirstpaid f
                WHERE f.adjusted = %s AND f.{level} AND f.product_id = k.product_id
                  AND f.customer_id = k.customer_id
            )
            ON CONFLICT DO NOTHING
        ),
        fresh AS (
            SELECT product_id, customer_id, month, amount, {billed} AS billed FROM {adj}
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
        ),
        changed AS (
            SELECT n.*, k.customer_id IS NOT NULL AS stored
            FROM fresh n
            LEFT JOIN kept k ON k.month = n.month AND k.product_id = n.product_id
                AND k.customer_id = n.customer_id
            WHERE k.amount IS DISTINCT FROM n.amount OR k.billed IS DISTINCT FROM n.billed
        ),
        updated AS (
            UPDATE billing_revenuecustomermonth t SET amount = c.amount, billed = c.billed
            FROM changed c
            WHERE c.stored AND t.adjusted = %s AND t.{level} AND t.month >= %s
              AND t.month = c.month AND t.product_id = c.product_id
              AND t.customer_id = c.customer_id
        )
        -- The new keys (a new month's, most rows of a month's import) are plain
        -- inserts: no conflict to look for, as ON CONFLICT does row by row.
        INSERT INTO billing_revenuecustomermonth
            (adjusted, product_id, customer_id, month, amount, billed)
        SELECT %s, product_id, customer_id, month, amount, billed
        FROM changed WHERE NOT stored
        -- In key order, so a month's rows share pages: the sums read by month.
        ORDER BY month, product_id, customer_id
        """,
        [
            *(*params, adjusted, adjusted, start, adjusted, from_month, adjusted, from_month),
            *(adjusted, from_month, adjusted),
        ],
    )


def _recent_adj(
    *, start: dt.date, latest: dt.date, lookback: int, stored_before: dt.date
) -> tuple[str, list[object]]:
    """SQL clauses to append to ``revenue_cte``'s (company level, same months and
    lookback): ``recent_keys`` (per key of ``raw``, its amount in each month of the
    grid side by side, ``a0`` from the grid's first month, and its first month
    with revenue in the grid, NULL without one) and ``recent_adj`` (``adj``'s
    rows of the months ``start`` through ``latest``), and their params.

    ``adj`` sorts every key's months of the grid for a window (LAG, LEAD) after
    joining them with ``raw``; for a month or two (a month's import) one hash
    aggregate of ``raw``'s rows (``raw_rows``, before they are summed per month)
    puts them side by side, and the rules read the months
    around each one from it. As the grid has it, a key's months start at its
    first month with revenue (a month before it reads $0) and the month after
    the latest month with revenue is NULL (rules 4 and 5 leave it as billed).
    The grid's months before ``stored_before`` are read from the stored amounts
    (``revenue_cte``'s ``stored``; with a lookback only)."""
    grid = month_range(add_months(start, -lookback), add_months(latest, 1))
    # Summed from raw's rows, not from raw: one hash aggregate, not two. A stored
    # month has one row per key: its MAX, half the CPU of a numeric SUM's state.
    side = ", ".join(
        f"{'MAX' if lookback and m < stored_before else 'SUM'}(amount)"
        f" FILTER (WHERE month = %s) AS a{i}"
        for i, m in enumerate(grid)
    )
    first = " ".join(f"WHEN a{i} > 0 THEN %s::date" for i in range(len(grid)))
    params: list[object] = [*grid, *grid]
    rows = []
    for month in month_range(start, latest):
        i = grid.index(month)
        row = [f"%s::date, COALESCE(k.a{i}, 0)"]
        params.append(month)
        if lookback:
            for lag in (1, 2):
                # The grid's months before the first one read $0 (i - lag >= 0
                # with the lookback of 2).
                row.append(
                    f"CASE WHEN k.first_month <= %s THEN COALESCE(k.a{i - lag}, 0) ELSE 0 END"
                )
                params.append(grid[i - lag])
            row.append(
                f"CASE WHEN %s::date < (SELECT MAX(month) FROM billing_monthlyrevenue)"
                f" THEN COALESCE(k.a{i + 1}, 0) END"
            )
            params.append(month)
        rows.append(f"({', '.join(row)})")
    if lookback:
        columns, credit = "month, amount, p1, p2, n1", "cr.credit"
        credits = "LEFT JOIN credits cr ON cr.customer_id = k.customer_id AND cr.month = o.month"
        amount = f"ROUND({RULES_4_AND_5_SQL}, 2)"
    else:
        columns, credit, credits, amount = "month, amount", "NULL::numeric", "", "ROUND(amount, 2)"
    sql = f""",
    recent_keys AS (
        SELECT s.*, CASE {first} END AS first_month FROM (
            SELECT customer_id, product_id, {side} FROM raw_rows
            GROUP BY customer_id, product_id
        ) s
    ),
    recent_adj AS (
        SELECT customer_id, product_id, month, paid_before, amount AS billed, {amount} AS amount
        FROM (
            SELECT k.customer_id, k.product_id, o.*, {credit} AS credit,
                   CASE WHEN o.month > k.first_month THEN 1 ELSE 0 END AS paid_before
            FROM recent_keys k
            CROSS JOIN LATERAL (VALUES {", ".join(rows)}) AS o({columns})
            {credits}
            WHERE o.month >= k.first_month
        ) w
    )"""
    return sql, params


def _sums(cursor: CursorWrapper, *, start: dt.date, latest: dt.date, adjusted: bool) -> None:
    """One basis at the company level: the components per month from ``start``
    through ``latest``, and the movers, from the stored amounts (``life`` as
    ``billing.lifecycle.life_cte`` has it: a missing month is $0). One statement
    per month (see ``_month_sums``)."""
    for month in month_range(start, latest):
        _month_sums(cursor, month=month, adjusted=adjusted)


# The biggest gainers and losers of a relation ``life`` (``month, customer_id,
# prev, amount``: every customer of one month), ranked as the revenue page reads
# them: ``up`` by change (amount - prev) descending, ``down`` ascending, ties by
# customer id, both ranks stored for every row within ``limit`` of either end.
# Each end is a top-N of the month's changes (a bounded heap, not a sort of every
# customer: two full sorts and windows were 0.15 s of database CPU per month at
# 100,000 accounts); a row's rank from the other end follows from the count of
# changed customers and its tie group (``tied`` customers with the same change,
# ``at`` its place among them by id): rows before it going up are those with a
# bigger change plus at - 1, going down those with a smaller change plus at - 1,
# so up + down = moved - tied + 2 * at.
MOVERS_INSERT = """
        INSERT INTO billing_revenuemover (adjusted, month, customer_id, prev, amount, up, down)
        SELECT %(adjusted)s, month, customer_id, prev, amount,
               COALESCE(up, moved - down - tied + 2 * at),
               COALESCE(down, moved - up - tied + 2 * at)
        FROM (
            WITH ups AS (
                SELECT month, customer_id, prev, amount,
                       ROW_NUMBER() OVER (ORDER BY amount - prev DESC, customer_id) AS up
                FROM (
                    SELECT month, customer_id, prev, amount FROM life WHERE amount <> prev
                    ORDER BY amount - prev DESC, customer_id LIMIT %(limit)s
                ) top
            ),
            downs AS (
                SELECT month, customer_id, prev, amount,
                       ROW_NUMBER() OVER (ORDER BY amount - prev ASC, customer_id) AS down
                FROM (
                    SELECT month, customer_id, prev, amount FROM life WHERE amount <> prev
                    ORDER BY amount - prev ASC, customer_id LIMIT %(limit)s
                ) bottom
            ),
            picked AS (
                SELECT COALESCE(u.month, d.month) AS month,
                       COALESCE(u.customer_id, d.customer_id) AS customer_id,
                       COALESCE(u.prev, d.prev) AS prev, COALESCE(u.amount, d.amount) AS amount,
                       u.up, d.down
                FROM ups u FULL JOIN downs d ON d.customer_id = u.customer_id
            )
            SELECT p.*, t.tied, t.at,
                   (SELECT COUNT(*) FROM life WHERE amount <> prev) AS moved
            FROM picked p
            JOIN (
                SELECT p.customer_id, COUNT(*) AS tied,
                       COUNT(*) FILTER (WHERE l.customer_id <= p.customer_id) AS at
                FROM picked p
                JOIN life l ON l.amount - l.prev = p.amount - p.prev AND l.amount <> l.prev
                GROUP BY p.customer_id
            ) t ON t.customer_id = p.customer_id
        ) ranked
"""


def _month_movers(cursor: CursorWrapper, *, month: dt.date, adjusted: bool) -> None:
    """One month's movers alone (``_month_sums`` writes them with the sums), from the
    stored amounts of the month and the one before."""
    cursor.execute(
        f"""
        WITH life AS (
            SELECT %(month)s::date AS month, customer_id,
                   COALESCE(MAX(amount) FILTER (WHERE month = %(month)s), 0) AS amount,
                   COALESCE(MAX(amount) FILTER (WHERE month = %(prev)s), 0) AS prev
            FROM billing_revenuecustomermonth
            WHERE adjusted = %(adjusted)s AND product_id = 0 AND month IN (%(month)s, %(prev)s)
            GROUP BY customer_id
        )
        {MOVERS_INSERT}
        """,
        {
            "adjusted": adjusted,
            "month": month,
            "prev": add_months(month, -1),
            "limit": MOVERS_LIMIT,
        },
    )


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
    life AS ({_staged("paid")}),
    sums AS (SELECT month, product_id, {COMPONENT_SUMS} FROM life GROUP BY month, product_id),
    movers AS ({MOVERS_INSERT})
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
    amounts: str | None = None,
) -> None:
    """One basis per product: the components per month and product from ``start``
    (the later of ``from_month`` and the first month with revenue) through
    ``latest``, straight from the adjustments (``billing.adjustments.revenue_cte``
    over a grid from the month before ``start``: per product only the previous month
    matters, and no rule reads another month); the first months with revenue from
    ``from_month`` on are replaced. Nothing per customer is stored at this level:
    the month before is read again instead, which costs less than writing and
    reading back a row per customer, product and month (239,225 rows a month at
    100,000 accounts). ``amounts``: the month's import's revenue rows with their
    amounts (``_recent_amounts``), else None."""
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
        amounts=amounts,
    )
    retention_zero = ", ".join(f"0 AS {c}" for c in RETENTION_COLUMNS)
    zero_bases = ", ".join(f"0 AS base_{base}" for base in RETENTION_BASES)
    bases = ", ".join(f"lagged.base_{base}" for base in RETENTION_BASES)
    if start == latest:
        # One month (a month's import): each key's amount and the month before's
        # side by side in one hash aggregate of the revenue rows (``row_amounts``:
        # ``raw`` before it is summed per month, which took a sort and a second
        # aggregate of every row), instead of the grid of every key and month
        # sorted for a window. As the grid has it, a key's months start at its
        # first month with revenue, so the month before counts only when it is
        # that first month; that first month is taken here too (first_keys is
        # not computed).
        before = add_months(start, -1)
        # Unadjusted a key is an account's product: one revenue row a month, so its
        # MAX (half the CPU of a numeric SUM's state); adjusted, a customer's product
        # sums its consolidated accounts' rows.
        total = "SUM" if adjusted else "MAX"
        paid_before_month = f"{total}(amount) FILTER (WHERE month = %s) > 0"
        lagged = f"""
        lagged AS (
            SELECT customer_id, product_id, %s::date AS month,
                   CASE WHEN {paid_before_month} THEN %s::date
                        WHEN {total}(amount) FILTER (WHERE month = %s) > 0 THEN %s::date
                   END AS first_month,
                   ROUND(COALESCE({total}(amount) FILTER (WHERE month = %s), 0), 2) AS amount,
                   CASE WHEN {paid_before_month}
                        THEN ROUND({total}(amount) FILTER (WHERE month = %s), 2)
                        ELSE 0 END AS prev,
                   {zero_bases}
            FROM row_amounts WHERE month >= %s AND month <= %s
            GROUP BY customer_id, product_id
            HAVING {paid_before_month} OR {total}(amount) FILTER (WHERE month = %s) > 0
        )"""
        lagged_params = [
            *(start, before, before, start, start, start, before, before),
            *(before, start, before, start),
        ]
        keys, paid_from, known = "lagged", "looked lagged", "lagged"
    else:
        lagged = f"""
        lagged AS (
            SELECT customer_id, product_id, month, amount,
                   LAG(amount, 1, 0) OVER (PARTITION BY customer_id, product_id ORDER BY month)
                       AS prev,
                   {zero_bases}
            FROM adj
        )"""
        lagged_params = []
        keys, known = "first_keys", "looked"
        paid_from = (
            "lagged JOIN looked ON looked.customer_id = lagged.customer_id"
            " AND looked.product_id = lagged.product_id"
        )
    cursor.execute(
        cte
        + f""",
{lagged},
        looked AS (
            -- Each key's first month as stored before this statement (NULL: none),
            -- looked up once for the inserts and the stages.
            SELECT k.*, f.month AS stored_first FROM {keys} k
            LEFT JOIN billing_revenuefirstpaid f ON f.adjusted = %s AND f.product_id <> 0
                AND f.product_id = k.product_id AND f.customer_id = k.customer_id
        ),
        firsts AS (
            -- A first month before from_month is stored (kept by the delete above):
            -- only the keys first seen from then on are inserted.
            INSERT INTO billing_revenuefirstpaid (adjusted, product_id, customer_id, month)
            SELECT %s, product_id, customer_id, first_month FROM looked
            WHERE first_month >= %s AND stored_first IS NULL
            ON CONFLICT DO NOTHING
        ),
        paid AS (
            -- The first month as stored before this statement, else as inserted by
            -- it (firsts: a statement does not see its own inserts).
            SELECT lagged.customer_id, lagged.product_id, lagged.month, lagged.amount,
                   lagged.prev, {bases},
                   CASE WHEN COALESCE({known}.stored_first, {known}.first_month) < lagged.month
                        THEN 1 ELSE 0 END AS paid_before
            FROM {paid_from}
            WHERE lagged.month >= %s
        ),
        life AS ({_staged("paid")}),
        sums AS (SELECT month, product_id, {COMPONENT_SUMS} FROM life GROUP BY month, product_id)
        INSERT INTO billing_revenuemonthsummary (adjusted, month, product_id, {SUM_COLUMNS})
        SELECT %s, * FROM (
            SELECT month, product_id, {", ".join(COMPONENT_COLUMNS)}, {retention_zero} FROM sums
        ) kept WHERE {NOT_ALL_ZERO}
        """,
        [*params, *lagged_params, adjusted, adjusted, from_month, start, adjusted],
    )


# --- Changed accounts alone ---------------------------------------------------


def _narrow(*, first: dt.date, end: dt.date) -> int:
    """Recompute the months ``first`` through ``end`` for the customers of the
    accounts in ``summary_changes`` alone, both bases and levels: each month's
    sums move by the difference between those customers' share before and after
    (every sum is a sum over customers), their stored amounts and first months
    are replaced, and a month's movers are ranked again where one of them moved
    differently. Every other customer's rows stay as they are.

    Their share before: at the company level from the stored amounts (what the
    summaries were computed from); per product, where nothing is stored, by
    re-applying the adjustments to their revenue rows as they were (the recorded
    rows' amounts before). That holds because every other input of those months
    (terms, plans, consolidations) is unchanged: a change to one marks its month
    for every account, and ``_plan`` ends this range before it.

    Returns the number of months whose summary rows changed."""
    latest = end
    with connection.cursor() as cursor:
        # The changed accounts' customers, and every account of those customers
        # (a consolidated account's revenue is its customer's).
        cursor.execute(
            """
            CREATE TEMPORARY TABLE summary_customers ON COMMIT DROP AS
            SELECT DISTINCT COALESCE(c.customer_id, ch.account_id) AS customer_id
            FROM (SELECT DISTINCT account_id FROM summary_changes WHERE month <= %s) ch
            LEFT JOIN billing_consolidation c ON c.account_id = ch.account_id
            """,
            [end],
        )
        cursor.execute(
            """
            CREATE TEMPORARY TABLE summary_accounts ON COMMIT DROP AS
            SELECT customer_id AS account_id FROM summary_customers
            UNION SELECT account_id FROM billing_consolidation
            WHERE customer_id IN (SELECT customer_id FROM summary_customers)
            """
        )
        # Unadjusted, an account is its own customer.
        cursor.execute(
            "INSERT INTO summary_customers SELECT account_id FROM summary_accounts"
            " EXCEPT SELECT customer_id FROM summary_customers"
        )
        cursor.execute(
            """
            CREATE TEMPORARY TABLE summary_revenue_now ON COMMIT DROP AS
            SELECT account_id, product_id, month, amount FROM billing_monthlyrevenue
            WHERE account_id IN (SELECT account_id FROM summary_accounts)
            """
        )
        cursor.execute(
            """
            CREATE TEMPORARY TABLE summary_revenue_before ON COMMIT DROP AS
            SELECT n.account_id, n.product_id, n.month, n.amount FROM summary_revenue_now n
            WHERE NOT EXISTS (
                SELECT 1 FROM summary_changes c WHERE c.account_id = n.account_id
                    AND c.product_id = n.product_id AND c.month = n.month
            )
            UNION ALL
            SELECT account_id, product_id, month, old_amount FROM summary_changes
            WHERE old_amount IS NOT NULL
              AND account_id IN (SELECT account_id FROM summary_accounts)
            """
        )
        # Each customer's months: the stored rows are read and written by key (an
        # index probe each), not by scanning the months' rows of every customer.
        cursor.execute(
            "CREATE TEMPORARY TABLE summary_keys ON COMMIT DROP AS"
            " SELECT c.customer_id, gs.month::date AS month FROM summary_customers c"
            " CROSS JOIN generate_series(%s::date, %s::date, interval '1 month') AS gs(month)",
            [first, end],
        )
        cursor.execute("ANALYZE summary_customers, summary_accounts, summary_changes, summary_keys")
        changed: set[dt.date] = set()
        for adjusted in (True, False):
            changed |= _narrow_company(cursor, first=first, latest=latest, adjusted=adjusted)
            changed |= _narrow_products(cursor, first=first, latest=latest, adjusted=adjusted)
    _drop_temporary(
        [
            "summary_customers",
            "summary_accounts",
            "summary_keys",
            "summary_revenue_now",
            "summary_revenue_before",
        ]
    )
    return len(changed)


def _series(
    cursor: CursorWrapper,
    *,
    table: str,
    revenue: str,
    first: dt.date,
    latest: dt.date,
    adjusted: bool,
    by_product: bool,
) -> None:
    """Temporary table ``table``: the adjustments re-applied to the rows of
    ``revenue`` (``billing.adjustments.revenue_cte`` over every month from
    ``first``, so nothing before is needed) with each key's lifecycle inputs per
    month through ``latest``: ``customer_id, product_id, month, amount, billed,
    paid_before, prev, base_3, base_6, base_12`` (a key's months are contiguous
    from its first month with revenue, so the lags are the months before)."""
    cte, params = revenue_cte(
        first_month=first,
        last_month=latest,
        adjusted=adjusted,
        by_product=by_product,
        lookback=0,
        history=False,
        revenue=revenue,
        accounts="summary_accounts",
    )
    lags = ", ".join(
        f"LAG(amount, {lag}, 0) OVER w AS {name}"
        for lag, name in ((1, "prev"), *((base, f"base_{base}") for base in RETENTION_BASES))
    )
    cursor.execute(f"DROP TABLE IF EXISTS {table}")
    cursor.execute(
        f"CREATE TEMPORARY TABLE {table} ON COMMIT DROP AS {cte}"
        f" SELECT customer_id, product_id, month, amount, billed, paid_before, {lags} FROM adj"
        " WINDOW w AS (PARTITION BY customer_id, product_id ORDER BY month)",
        params,
    )


def _stored_series(
    cursor: CursorWrapper, *, table: str, first: dt.date, latest: dt.date, adjusted: bool
) -> None:
    """``_series``' shape from the stored company-level amounts and first months of
    ``summary_customers`` (a month without a row is $0)."""
    lags = ", ".join(
        f"LAG(amount, {lag}, 0) OVER w AS {name}"
        for lag, name in ((1, "prev"), *((base, f"base_{base}") for base in RETENTION_BASES))
    )
    cursor.execute(f"DROP TABLE IF EXISTS {table}")
    cursor.execute(
        f"""
        CREATE TEMPORARY TABLE {table} ON COMMIT DROP AS
        WITH grid AS (
            SELECT f.customer_id, 0 AS product_id, k.month,
                   COALESCE(s.amount, 0) AS amount, s.billed,
                   CASE WHEN f.month < k.month THEN 1 ELSE 0 END AS paid_before
            FROM summary_keys k
            JOIN billing_revenuefirstpaid f ON f.adjusted = %(adjusted)s AND f.product_id = 0
                AND f.customer_id = k.customer_id AND f.month <= k.month
            LEFT JOIN billing_revenuecustomermonth s ON s.adjusted = %(adjusted)s
                AND s.month = k.month AND s.product_id = 0 AND s.customer_id = k.customer_id
        )
        SELECT customer_id, product_id, month, amount, billed, paid_before, {lags} FROM grid
        WINDOW w AS (PARTITION BY customer_id, product_id ORDER BY month)
        """,
        {"adjusted": adjusted, "latest": latest},
    )


def _apply_difference(
    cursor: CursorWrapper,
    *,
    before: str,
    after: str,
    first: dt.date,
    latest: dt.date,
    adjusted: bool,
    by_product: bool,
) -> set[dt.date]:
    """Move the summary rows of the months ``first`` through ``latest`` by the sums of
    ``after`` minus those of ``before`` (two ``_series`` tables of the same
    customers); a row left all zero is deleted, as a group of zero sums is never
    stored. Per product the retention sums stay zero. Returns the months changed."""
    columns = COMPONENT_COLUMNS + (() if by_product else RETENTION_COLUMNS)
    level = _level(by_product)
    every = COMPONENT_COLUMNS + RETENTION_COLUMNS
    difference = ", ".join(
        f"COALESCE(a.{c}, 0) - COALESCE(b.{c}, 0) AS {c}" if c in columns else f"0 AS {c}"
        for c in every
    )
    nonzero = " OR ".join(f"{c} <> 0" for c in columns)
    moved = ", ".join(f"{c} = billing_revenuemonthsummary.{c} + EXCLUDED.{c}" for c in columns)

    def sums(table: str) -> str:
        return f"""
            SELECT month, product_id, {COMPONENT_SUMS}
            FROM ({_staged(table, "WHERE month >= %(first)s AND month <= %(latest)s")}) life
            GROUP BY month, product_id"""

    cursor.execute(
        f"""
        WITH b AS ({sums(before)}),
        a AS ({sums(after)}),
        difference AS (
            SELECT COALESCE(a.month, b.month) AS month,
                   COALESCE(a.product_id, b.product_id) AS product_id, {difference}
            FROM a FULL JOIN b ON a.month = b.month AND a.product_id = b.product_id
        )
        INSERT INTO billing_revenuemonthsummary (adjusted, month, product_id, {SUM_COLUMNS})
        SELECT %(adjusted)s, month, product_id, {SUM_COLUMNS} FROM difference WHERE {nonzero}
        ON CONFLICT (adjusted, month, product_id) DO UPDATE SET {moved}
        RETURNING month
        """,
        {"first": first, "latest": latest, "adjusted": adjusted},
    )
    months = {row[0] for row in cursor.fetchall()}
    cursor.execute(
        f"DELETE FROM billing_revenuemonthsummary WHERE adjusted = %s AND {level}"
        f" AND month = ANY(%s) AND NOT ({NOT_ALL_ZERO})",
        [adjusted, sorted(months)],
    )
    return months


def _narrow_company(
    cursor: CursorWrapper, *, first: dt.date, latest: dt.date, adjusted: bool
) -> set[dt.date]:
    """The company level of ``_narrow`` on one basis."""
    _stored_series(cursor, table="summary_before", first=first, latest=latest, adjusted=adjusted)
    _series(
        cursor,
        table="summary_after",
        revenue="summary_revenue_now",
        first=first,
        latest=latest,
        adjusted=adjusted,
        by_product=False,
    )
    months = _apply_difference(
        cursor,
        before="summary_before",
        after="summary_after",
        first=first,
        latest=latest,
        adjusted=adjusted,
        by_product=False,
    )
    # The months where one of the customers moved differently: their movers.
    cursor.execute(
        """
        SELECT DISTINCT COALESCE(a.month, b.month) FROM summary_after a
        FULL JOIN summary_before b ON a.customer_id = b.customer_id AND a.month = b.month
        WHERE COALESCE(a.month, b.month) BETWEEN %s AND %s
          AND (COALESCE(a.amount, 0), COALESCE(a.prev, 0))
              IS DISTINCT FROM (COALESCE(b.amount, 0), COALESCE(b.prev, 0))
        """,
        [first, latest],
    )
    movers = {row[0] for row in cursor.fetchall()}
    # Unadjusted no rule reads another month: nothing is read back, none is stored.
    billed = "billed" if adjusted else "NULL::numeric"
    nonzero = "(amount <> 0 OR billed <> 0)" if adjusted else "amount <> 0"
    cursor.execute(
        f"""
        WITH fresh AS (
            SELECT customer_id, month, amount, {billed} AS billed FROM summary_after
            WHERE month >= %(first)s AND month <= %(latest)s AND {nonzero}
        ),
        gone AS (
            DELETE FROM billing_revenuecustomermonth t USING summary_keys k
            WHERE t.adjusted = %(adjusted)s AND t.month = k.month AND t.product_id = 0
              AND t.customer_id = k.customer_id
              AND t.month >= %(first)s AND t.month <= %(latest)s
              AND NOT EXISTS (
                  SELECT 1 FROM fresh n WHERE n.customer_id = t.customer_id AND n.month = t.month
              )
        )
        INSERT INTO billing_revenuecustomermonth
            (adjusted, product_id, customer_id, month, amount, billed)
        SELECT %(adjusted)s, 0, n.customer_id, n.month, n.amount, n.billed
        FROM fresh n
        LEFT JOIN billing_revenuecustomermonth k ON k.adjusted = %(adjusted)s
            AND k.product_id = 0 AND k.customer_id = n.customer_id AND k.month = n.month
        WHERE k.amount IS DISTINCT FROM n.amount OR k.billed IS DISTINCT FROM n.billed
        ON CONFLICT (adjusted, month, product_id, customer_id)
        DO UPDATE SET amount = EXCLUDED.amount, billed = EXCLUDED.billed
        """,
        {"first": first, "latest": latest, "adjusted": adjusted},
    )
    _replace_firsts(cursor, series="summary_after", adjusted=adjusted, by_product=False)
    if movers:
        cursor.execute(
            "DELETE FROM billing_revenuemover WHERE adjusted = %s AND month = ANY(%s)",
            [adjusted, sorted(movers)],
        )
    for month in sorted(movers):
        _month_movers(cursor, month=month, adjusted=adjusted)
    return months | movers


def _narrow_products(
    cursor: CursorWrapper, *, first: dt.date, latest: dt.date, adjusted: bool
) -> set[dt.date]:
    """The product level of ``_narrow`` on one basis."""
    for table, revenue in (
        ("summary_before", "summary_revenue_before"),
        ("summary_after", "summary_revenue_now"),
    ):
        _series(
            cursor,
            table=table,
            revenue=revenue,
            first=first,
            latest=latest,
            adjusted=adjusted,
            by_product=True,
        )
    months = _apply_difference(
        cursor,
        before="summary_before",
        after="summary_after",
        first=first,
        latest=latest,
        adjusted=adjusted,
        by_product=True,
    )
    _replace_firsts(cursor, series="summary_after", adjusted=adjusted, by_product=True)
    _drop_temporary(["summary_before", "summary_after"])
    return months


def _replace_firsts(
    cursor: CursorWrapper, *, series: str, adjusted: bool, by_product: bool
) -> None:
    """The customers' first months with revenue (``RevenueFirstPaid``) at one level,
    from ``series`` (every month of theirs: billed above $0), where they differ."""
    level = _level(by_product)
    firsts = f"SELECT customer_id, product_id, MIN(month) AS month FROM {series} WHERE billed > 0 GROUP BY 1, 2"
    cursor.execute(
        f"""
        DELETE FROM billing_revenuefirstpaid f
        WHERE f.adjusted = %s AND f.{level}
          AND f.customer_id IN (SELECT customer_id FROM summary_customers)
          AND NOT EXISTS (
              SELECT 1 FROM ({firsts}) n
              WHERE n.customer_id = f.customer_id AND n.product_id = f.product_id
          )
        """,
        [adjusted],
    )
    cursor.execute(
        f"""
        INSERT INTO billing_revenuefirstpaid AS f (adjusted, product_id, customer_id, month)
        SELECT %s, product_id, customer_id, month FROM ({firsts}) n
        ON CONFLICT (adjusted, product_id, customer_id) DO UPDATE SET month = EXCLUDED.month
        WHERE f.month <> EXCLUDED.month
        """,
        [adjusted],
    )
