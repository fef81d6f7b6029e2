"""Signal backtesting: how often each early-warning signal preceded churn or contraction.

The nightly job keeps every signal it ever opened (``ChurnSignal``, with
``detected_on``), so the app holds the history to judge its own alerts
against monthly revenue (issue 18: "no anchor reports how good its own alerts
are"). Definitions, all in one SQL statement:

- **Outcome** (per account and month M, from ``billing.MonthlyRevenue``): churn,
  the account paid in M−1 and pays $0 in M; or contraction, it pays at least
  ``CONTRACTION_MIN`` (20%) less in M than in M−1. The lifecycle page counts
  any decrease as contraction, but usage-billed revenue moves a few percent
  every month, which would make every account "contract" several times a year
  and every signal look prescient; a fifth of MRR is a loss a TAM would call
  one. Months after the revenue data month (``revenue_data_through``: the
  latest imported month, never one in progress) are never outcomes, so a month
  not imported yet never reads as everyone churning.
- A signal detected on day D **preceded** an outcome within H days (90 or 180)
  when the outcome month starts after D and no later than D + H: the revenue
  of a later month shows the loss the signal warned of. The month the signal
  was detected in does not count (a usage drop is detected from the very
  revenue month that fell).
- **Precision** (per kind, segment, H): of the signals that can be judged (every
  month starting within D + H is imported), the share that preceded an
  outcome. Signals too recent to judge are counted apart as pending, never
  as misses.
- **Recall** (per kind, segment, H): of the outcomes whose H days before lie
  inside the signal history (on or after the first day any signal was
  detected), the share that a signal of that kind preceded.
- **Segment**: the account's ARR band (12 × MRR; sales/automations' $20K and
  $60K ARR segments) in the month before the signal's month (precision) or
  before the outcome month (recall); "all" is every account.

Counts are shown beside every percentage; a percentage over nothing is None.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, Max, Min

from billing.revenue_data import RevenueDataThrough, revenue_data_through
from revopsweb.dates import add_months, company_today, month_start

from .models import ChurnSignal, SignalKind

HORIZONS = (90, 180)
# A day and a bit: the nightly job replaces the entry before it expires.
CACHE_SECONDS = 26 * 60 * 60
CONTRACTION_MIN = Decimal("0.20")
ARR_20K = Decimal(20_000)
ARR_60K = Decimal(60_000)

ALL = "all"
SEGMENTS: dict[str, str] = {
    ALL: "All accounts",
    "arr_60k": "$60K+ ARR",
    "arr_20k": "$20K–60K ARR",
    "under_20k": "Under $20K ARR",
}

_BAND = """CASE WHEN {mrr} * 12 >= %(arr_60k)s THEN 'arr_60k'
                WHEN {mrr} * 12 >= %(arr_20k)s THEN 'arr_20k'
                ELSE 'under_20k' END"""

_BACKTEST_SQL = f"""
WITH acct_month AS MATERIALIZED (
    -- Only the months the history can use: from the month before the first
    -- signal's month (its segment) to the revenue data month.
    SELECT account_id, month, sum(amount) AS mrr
    FROM billing_monthlyrevenue
    WHERE month >= %(first_month)s AND month <= %(through)s
    GROUP BY account_id, month
), outcome AS MATERIALIZED (
    -- Month M after a paying month M-1, down by CONTRACTION_MIN or to $0.
    SELECT a.account_id, (a.month + interval '1 month')::date AS month,
           {_BAND.format(mrr="a.mrr")} AS segment
    FROM acct_month a
    LEFT JOIN acct_month n
      ON n.account_id = a.account_id AND n.month = (a.month + interval '1 month')::date
    WHERE a.mrr > 0 AND a.month < %(through)s
      AND coalesce(n.mrr, 0) <= a.mrr * (1 - %(contraction)s)
), horizon AS (
    SELECT unnest(%(horizons)s::int[]) AS days
), sig AS (
    SELECT s.id, s.account_id, s.kind, s.detected_on,
           {_BAND.format(mrr="coalesce(b.mrr, 0)")} AS segment
    FROM accounts_churnsignal s
    LEFT JOIN acct_month b
      ON b.account_id = s.account_id
     AND b.month = least(
         (date_trunc('month', s.detected_on) - interval '1 month')::date, %(through)s)
), judged AS (
    -- A hash join on the account, not a subquery per signal: the number of
    -- signals and outcomes both grow with the accounts.
    SELECT sig.kind, sig.segment, h.days,
           date_trunc('month', sig.detected_on + h.days)::date <= %(through)s AS decided,
           count(o.account_id) > 0 AS hit
    FROM sig CROSS JOIN horizon h
    LEFT JOIN outcome o
      ON o.account_id = sig.account_id
     AND o.month > sig.detected_on AND o.month <= sig.detected_on + h.days
    GROUP BY sig.id, sig.kind, sig.segment, sig.detected_on, h.days
), precision_rows AS (
    SELECT kind, coalesce(segment, %(all)s) AS segment, days,
           count(*) FILTER (WHERE decided) AS judged,
           count(*) FILTER (WHERE decided AND hit) AS hits,
           count(*) FILTER (WHERE NOT decided) AS pending
    FROM judged
    GROUP BY GROUPING SETS ((kind, segment, days), (kind, days))
), counted AS (
    -- Outcomes with their whole look-back inside the signal history.
    SELECT o.account_id, o.month, o.segment, h.days
    FROM outcome o CROSS JOIN horizon h
    WHERE o.month - h.days >= %(history_start)s
), caught AS (
    SELECT DISTINCT c.account_id, c.month, c.segment, c.days, s.kind
    FROM counted c
    JOIN accounts_churnsignal s
      ON s.account_id = c.account_id
     AND s.detected_on >= c.month - c.days AND s.detected_on < c.month
), recall_rows AS (
    SELECT k.kind, coalesce(t.segment, %(all)s) AS segment, t.days,
           sum(t.outcomes)::bigint AS outcomes,
           coalesce(sum(x.caught), 0)::bigint AS caught
    FROM (SELECT segment, days, count(*) AS outcomes FROM counted GROUP BY segment, days) t
    CROSS JOIN unnest(%(kinds)s::text[]) AS k(kind)
    LEFT JOIN (SELECT kind, segment, days, count(*) AS caught
               FROM caught GROUP BY kind, segment, days) x
      ON x.kind = k.kind AND x.segment = t.segment AND x.days = t.days
    GROUP BY GROUPING SETS ((k.kind, t.segment, t.days), (k.kind, t.days))
)
SELECT kind, segment, days,
       coalesce(p.judged, 0), coalesce(p.hits, 0), coalesce(p.pending, 0),
       coalesce(r.outcomes, 0), coalesce(r.caught, 0)
FROM precision_rows p FULL JOIN recall_rows r USING (kind, segment, days)
"""

# Chance: how often any paying account has a loss within the horizon, sampled
# on the first day of every month of the history (the account paid the month
# before), judged like a signal. Precision ÷ chance is the signal's lift.
_CHANCE_SQL = f"""
WITH acct_month AS MATERIALIZED (
    SELECT account_id, month, sum(amount) AS mrr
    FROM billing_monthlyrevenue
    WHERE month >= %(first_month)s AND month <= %(through)s
    GROUP BY account_id, month
), outcome AS MATERIALIZED (
    SELECT a.account_id, (a.month + interval '1 month')::date AS month
    FROM acct_month a
    LEFT JOIN acct_month n
      ON n.account_id = a.account_id AND n.month = (a.month + interval '1 month')::date
    WHERE a.mrr > 0 AND a.month < %(through)s
      AND coalesce(n.mrr, 0) <= a.mrr * (1 - %(contraction)s)
), sample AS (
    SELECT a.account_id, (a.month + interval '1 month')::date AS day, h.days,
           {_BAND.format(mrr="a.mrr")} AS segment
    FROM acct_month a CROSS JOIN unnest(%(horizons)s::int[]) AS h(days)
    WHERE a.mrr > 0 AND (a.month + interval '1 month')::date >= %(history_month)s
      AND date_trunc('month', (a.month + interval '1 month')::date + h.days)::date <= %(through)s
), judged AS (
    SELECT s.segment, s.days, count(o.account_id) > 0 AS hit
    FROM sample s
    LEFT JOIN outcome o
      ON o.account_id = s.account_id AND o.month > s.day AND o.month <= s.day + s.days
    GROUP BY s.account_id, s.day, s.days, s.segment
)
SELECT coalesce(segment, %(all)s), days, count(*), count(*) FILTER (WHERE hit)
FROM judged
GROUP BY GROUPING SETS ((segment, days), (days))
"""


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class BacktestRow:
    """One signal kind in one segment over one horizon (days).

    ``judged``: signals whose whole horizon is imported; ``hits``: of those, the
    ones an outcome followed; ``pending``: too recent to judge. ``outcomes``:
    churn/contraction months inside the history; ``caught``: of those, the ones
    a signal of this kind preceded.
    """

    kind: str
    segment: str
    days: int
    judged: int
    hits: int
    pending: int
    outcomes: int
    caught: int
    chance_judged: int = 0
    chance_hits: int = 0

    @property
    def kind_label(self) -> str:
        return str(SignalKind(self.kind).label)

    @property
    def segment_label(self) -> str:
        return SEGMENTS[self.segment]

    @property
    def precision(self) -> Decimal | None:
        """hits ÷ judged, in percent (None when nothing can be judged yet)."""
        return _percent(self.hits, self.judged)

    @property
    def recall(self) -> Decimal | None:
        """caught ÷ outcomes, in percent (None when there was no outcome)."""
        return _percent(self.caught, self.outcomes)

    @property
    def chance(self) -> Decimal | None:
        """How often any paying account of the segment had a loss within the
        horizon (sampled monthly), in percent: what precision is measured against."""
        return _percent(self.chance_hits, self.chance_judged)

    @property
    def lift(self) -> Decimal | None:
        """precision ÷ chance (1.0: no better than picking accounts at random)."""
        precision, chance = self.precision, self.chance
        if precision is None or not chance:
            return None
        return (precision / chance).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Backtest:
    """Every kind × segment × horizon (``rows``, in display order), the
    revenue data month outcomes run through and the first day of signal history."""

    rows: list[BacktestRow]
    through: RevenueDataThrough
    history_start: dt.date | None

    def for_horizon(self, days: int) -> list[BacktestRow]:
        return [r for r in self.rows if r.days == days]


Counts = dict[tuple[str, str, int], tuple[int, ...]]
Chances = dict[tuple[str, int], tuple[int, int]]


def _counts(*, through: dt.date, history_start: dt.date) -> tuple[Counts, Chances]:
    """The two statements: ``{(kind, segment, days): (judged, hits, pending,
    outcomes, caught)}`` and ``{(segment, days): (judged, hits)}`` of chance."""
    params: dict[str, Any] = {
        "first_month": add_months(month_start(history_start), -1),
        "history_month": month_start(history_start),
        "through": through,
        "contraction": CONTRACTION_MIN,
        "horizons": list(HORIZONS),
        "kinds": list(SignalKind.values),
        "history_start": history_start,
        "all": ALL,
        "arr_20k": ARR_20K,
        "arr_60k": ARR_60K,
    }
    found: Counts = {}
    chances: Chances = {}
    with transaction.atomic(), connection.cursor() as cursor:
        # The per account-month totals stay in memory at 100,000 accounts.
        cursor.execute("SET LOCAL work_mem = '128MB'")
        cursor.execute(_BACKTEST_SQL, params)
        for kind, segment, days, *counts in cursor.fetchall():
            found[(kind, segment, days)] = tuple(counts)
        cursor.execute(_CHANCE_SQL, params)
        for segment, days, judged, hits in cursor.fetchall():
            chances[(segment, days)] = (judged, hits)
    return found, chances


def backtest_signals(*, today: dt.date | None = None) -> Backtest:
    """Precision and recall of each churn signal kind, per segment, within
    ``HORIZONS`` days (see the module docstring for every definition).

    A fixed number of queries whatever the number of accounts, signals or
    months: the revenue data month, the signal history's extent, and (unless
    cached) one statement for the table. The table takes 10-30 s at 100,000
    accounts and changes when signals or revenue change, so it is cached
    under the revenue data month and the signal history's extent (count, last
    id, last clear: the nightly job changes it) for ``CACHE_SECONDS``, and the
    nightly job warms it (``warm_backtest``). A correction to an already
    imported month shows after the next nightly run.
    Rows cover every kind of ``SignalKind`` and every segment (zeros where
    nothing happened), ordered by horizon, kind, segment. Read-only; raises
    nothing on an empty database (empty rows).
    """
    today = today or company_today()
    through = revenue_data_through(today=today)
    extent = ChurnSignal.objects.aggregate(
        start=Min("detected_on"), count=Count("id"), last=Max("id"), cleared=Max("cleared_on")
    )
    history_start: dt.date | None = extent["start"]
    found: Counts = {}
    chances: Chances = {}
    if through.month is not None and history_start is not None:
        month, start = through.month, history_start
        key = f"churn:backtest:v2:{month}:{start}:{extent['count']}:{extent['last']}:{extent['cleared']}"
        cached: tuple[Counts, Chances] | None = cache.get(key)
        if cached is None:
            cached = _counts(through=month, history_start=start)
            cache.set(key, cached, timeout=CACHE_SECONDS)
        found, chances = cached
    rows = []
    for days in HORIZONS:
        for kind in SignalKind.values:
            for segment in SEGMENTS:
                judged, hits, pending, outcomes, caught = found.get(
                    (kind, segment, days), (0, 0, 0, 0, 0)
                )
                chance_judged, chance_hits = chances.get((segment, days), (0, 0))
                rows.append(
                    BacktestRow(
                        kind=kind,
                        segment=segment,
                        days=days,
                        judged=judged,
                        hits=hits,
                        pending=pending,
                        outcomes=outcomes,
                        caught=caught,
                        chance_judged=chance_judged,
                        chance_hits=chance_hits,
                    )
                )
    return Backtest(rows=rows, through=through, history_start=history_start)


def warm_backtest(*, today: dt.date | None = None) -> int:
    """Compute (and cache) the backtest after the nightly signals; returns its row count."""
    return len(backtest_signals(today=today).rows)
