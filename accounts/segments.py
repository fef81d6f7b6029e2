"""Revenue figures and segments of accounts, computed from data, never typed.

MRR is what billing.MonthlyRevenue holds for the month revenue data runs
through (by billing configuration: $0 while on startup credits, an enterprise
credit purchase spread over its paid period; see ``_mrr_for``) (``billing.revenue_data.revenue_data_through``: the latest imported
month, never a month in progress or one not imported yet, which would read as
$0); ARR is 12 × that MRR. Every function takes that ``month``; when a caller
has not read it, it is read here (one cheap query). Everything here is a queryset
annotation or a Q on those annotations, so a page showing 10 or 10,000
accounts issues the same number of queries.

Segment rules follow sales/automations (Vitally segmentation playbooks):

- Startup plan: credit remaining (credit_balance > 0), credit not expired
  (credit_expires_on after today) and marked as a startup/YC plan.
- Annual plan: a yearly subscription, or credit remaining and unexpired on a
  plan not marked startup.
- $60K ARR: not in Startup plan and ARR ≥ $60,000.
- $20K ARR: not in Startup plan and $20,000 ≤ ARR < $60,000.
- Active trial: free trial until a day after today.
- First payment forecasted this month: never paid (no positive revenue row),
  current billing period ends after today and forecasted MRR > $1.
- Top 40 by ARR: the 40 accounts with the highest positive ARR (ties by id), the
  ARR above (by billing configuration: a startup plan on credits is not ranked
  by its usage, an enterprise purchase ranks by its spread payment).
- Churn risk: an open churn-risk flag; see ``accounts.churn.review.churn_risk_mark`` (registered as the "churn_risk" account mark, ``accounts.extensions``).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import ROUND_CEILING, Decimal
from typing import TYPE_CHECKING, Any, NamedTuple, TypedDict

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, ExtractMonth, ExtractYear, Greatest
from django.db.models.lookups import GreaterThanOrEqual

from billing.adjustments import (
    CREDIT_MONTHS,
    IN_MONTHS,
    PRODUCT_MRR_SQL,
    account_credit_months_sql,
    credit_months_sql,
    to_money,
)
from billing.models import (
    PAID_PRODUCT_MIN,
    AccountMonthMrr,
    CreditGrant,
    CreditGrantKind,
    MonthlyRevenue,
    Product,
)
from billing.revenue_data import revenue_month
from revopsweb.dates import add_months, quarter_start
from revopsweb.sql import CompiledOnce, Lateral, prepared_cursor, with_values_written_in

from .models import Account, AccountPlan, Plan, TopAccount

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

ARR_20K = Decimal(20_000)
ARR_50K = Decimal(50_000)
ARR_60K = Decimal(60_000)
TOP_ACCOUNTS = 40
FIRST_PAYMENT_MIN_FORECAST = Decimal(1)
SPARKLINE_MONTHS = 12

MONEY = DecimalField(max_digits=14, decimal_places=2)
CENT = Decimal("0.01")


class Segment:
    """Segment keys, in display order, with their labels."""

    ARR_20K = "arr_20k"
    ARR_60K = "arr_60k"
    STARTUP = "startup"
    ANNUAL = "annual"
    TRIAL = "trial"
    FIRST_PAYMENT = "first_payment"
    TOP_40 = "top_40"
    CHURN_RISK = "churn_risk"

    LABELS: dict[str, str] = {  # noqa: RUF012
        ARR_20K: "$20K ARR",
        ARR_60K: "$60K ARR",
        STARTUP: "Startup plan",
        ANNUAL: "Annual plan",
        TRIAL: "Active trial",
        FIRST_PAYMENT: "First payment forecasted this month",
        TOP_40: "Top 40 by ARR",
    }


# --- annotations -----------------------------------------------------------


def _month_index(year: Any, month: Any) -> Any:
    return year * 12 + month


def _startup_credits_in(month: dt.date) -> QuerySet[CreditGrant, Any]:
    """Startup grants whose credits pay for ``month``: granted before its end, neither
    expired nor run out before the next month starts (that month counts again)."""
    next_month = add_months(month, 1)
    return CreditGrant.objects.filter(
        Q(depleted_on__isnull=True) | Q(depleted_on__gte=next_month),
        kind=CreditGrantKind.STARTUP,
        granted_on__lt=next_month,
        expires_on__gte=next_month,
    )


def _enterprise_purchases_in(month: dt.date) -> QuerySet[CreditGrant, Any]:
    """Enterprise credit purchases whose paid period (grant month to expiry month,
    at least one month) covers ``month``, each with its ``paid_months``."""
    start = _month_index(ExtractYear("granted_on"), ExtractMonth("granted_on"))
    end = _month_index(ExtractYear("expires_on"), ExtractMonth("expires_on"))
    return (
        CreditGrant.objects.filter(
            kind=CreditGrantKind.ENTERPRISE, granted_on__lt=add_months(month, 1)
        )
        .annotate(paid_months=Greatest(Value(1), end - start), first=start)
        .filter(first__gt=month.year * 12 + month.month - F("paid_months"))
    )


def _credit_months(months: tuple[dt.date, ...]) -> Lateral:
    """Each account's credit grants in ``months``, one joined row per account (its
    ``on_startup_credits_<i>`` and ``spread_<i>``: ``billing.adjustments.account_credit_months_sql``)."""
    return Lateral("credit_months", _credit_months_sql, (months,))


def _credit_months_sql(account_id: str, months: tuple[dt.date, ...]) -> tuple[str, list[Any]]:
    return account_credit_months_sql(account_id=account_id, months=months)


def _mrr_for(credits: Lateral, i: int, *, usage: F) -> Case:
    """MRR of the ``i``-th month of ``credits`` by billing configuration
    (billing/customer-billing-configurations): $0 on startup credits (the month the credits
    expire or run out counts again), an enterprise credit purchase spread evenly over its
    paid period, else the month's usage (``usage``: the column of the month's joined
    ``AccountMonthMrr`` row, NULL without one). The grants' months are
    ``billing.adjustments``' (``CREDIT_GRANT_MONTHS_SQL``), read from one LATERAL join
    per row: written once in the statement, however many figures read the MRR."""
    return Case(
        When(credits.column(f"on_startup_credits_{i}", BooleanField()), then=Value(Decimal(0))),
        default=Coalesce(credits.column(f"spread_{i}", MONEY), usage, Value(Decimal(0))),
        output_field=MONEY,
    )


class _RankedMrr(TypedDict):
    mrr: Decimal


def _ranked_by_mrr(month: dt.date) -> QuerySet[WithAnnotations[Account, _RankedMrr]]:
    """Accounts with positive MRR in ``month`` (``mrr``, by billing configuration as
    ``with_revenue`` shows it), highest first (ties by id).

    Only accounts with a credit grant paying for the month have an MRR other than
    their usage: $0 on startup credits (never ranked), an enterprise purchase's
    spread payment. So the candidates are at most 80: the 40 highest usage rows of
    the accounts off credits (an index scan of the per-account monthly summary, 40
    entries however many accounts there are) and the 40 highest spread payments
    (a scan of the month's enterprise grants), ranked together."""
    usage, spread = _mrr_parts(month)
    by_usage = usage.filter(mrr__gt=0).order_by("-mrr", "account").values("account")
    by_spread = spread.order_by(F("spread").desc(), "account").values("account")
    return (
        with_mrr(
            Account.objects.filter(
                pk__in=by_usage[:TOP_ACCOUNTS].union(by_spread[:TOP_ACCOUNTS], all=True)
            ),
            month=month,
        )
        .filter(mrr__gt=Decimal(0))
        .order_by("-mrr", "pk")
    )


def with_mrr(
    queryset: QuerySet[Account], *, month: dt.date
) -> QuerySet[WithAnnotations[Account, _RankedMrr]]:
    """Annotate ``mrr``, the MRR of ``month`` by billing configuration (``_mrr_for``:
    the month's ``AccountMonthMrr`` row and one credit-grant LATERAL join), and
    nothing else: no query of its own, for lists that only order or pick accounts by
    MRR."""
    return queryset.annotate(
        _mrr_this=FilteredRelation("monthly_mrr", condition=Q(monthly_mrr__month=month)),
        mrr=_mrr_for(_credit_months((month,)), 0, usage=F("_mrr_this__mrr")),
    )


def _mrr_parts(
    month: dt.date,
) -> tuple[QuerySet[AccountMonthMrr, Any], QuerySet[CreditGrant, Any]]:
    """Every account's MRR of ``month`` by billing configuration, as two disjoint
    halves: those billed on usage (``AccountMonthMrr`` rows, MRR in ``mrr``) and those
    under an enterprise purchase (grouped ``CreditGrant`` rows, MRR as ``spread``, the
    purchase spread over its paid months). Accounts on startup credits (MRR $0) are
    in neither."""
    on_startup_credits = Q(account__in=_startup_credits_in(month).values("account"))
    enterprise = _enterprise_purchases_in(month)
    usage = (
        AccountMonthMrr.objects.filter(month=month)
        .exclude(on_startup_credits)
        .exclude(account__in=enterprise.values("account"))
        .order_by()
    )
    spread = (
        enterprise.exclude(on_startup_credits)
        .order_by()
        .values("account")
        .annotate(spread=Sum(F("paid_amount") / F("paid_months"), output_field=MONEY))
    )
    return usage, spread


def mrr_by_owner(owner_ids: Sequence[int], accounts: Q, *, month: dt.date) -> dict[int, Decimal]:
    """MRR of ``month`` by billing configuration (``with_revenue``'s ``mrr``: $0 on
    startup credits, an enterprise purchase's spread payment, else usage), in dollars,
    summed per owner over their accounts matched by ``accounts`` (a Q on ``Account``,
    e.g. ``Q(is_lead=False)``); owners without accounts are absent. One query whatever
    the number of owners and accounts, read from the owners' accounts (``with_mrr``: the
    month's summary row and one credit-grant LATERAL join each). Book totals, team
    books and the full-book rule read it, so a book's ARR is the sum of its rows'
    (they summed the raw revenue before: a book with an account on startup credits
    showed more ARR than its rows added up to)."""
    if not owner_ids:
        return {}
    if len(owner_ids) == 1:
        # One book (My book's and the home page's totals, on every request): the
        # statement compiled once per month and filter. Compiling with_mrr's
        # annotations was 2.3 of the call's 2.5 ms of CPU (100k bench clone; issue 20).
        rows = _OWNER_MRR.tuples(
            ("owner", month, accounts),
            lambda owner_pk: _owner_mrr(Account.objects.filter(accounts, owner=owner_pk), month),
            owner_pk=owner_ids[0],
        )
    else:
        rows = _owner_mrr(Account.objects.filter(accounts, owner_id__in=owner_ids), month)
    return {owner_id: to_money(total) for owner_id, total in rows}


_OWNER_MRR = CompiledOnce(Account)


def _owner_mrr(accounts: QuerySet[Account], month: dt.date) -> Any:
    """(owner id, MRR of ``month``) of ``mrr_by_owner`` over ``accounts``."""
    return (
        with_mrr(accounts, month=month)
        .order_by()
        .values("owner_id")
        .annotate(total=Sum("mrr"))
        .values_list("owner_id", "total")
    )


def accounts_with_arr_at_least(arr: Decimal, *, month: dt.date) -> QuerySet[Any, Any]:
    """The accounts whose ARR of ``month`` (12 × MRR by billing configuration, the
    ``arr`` of ``with_revenue``) is at least ``arr`` dollars, as one column of account
    ids (``pk__in=``; evaluated inside the caller's query). ``arr`` must be positive
    (``ValueError``): accounts at $0 are not found from the summary.

    Found from the small side, never per account: on startup credits MRR is $0, so
    never at least ``arr``; under an enterprise purchase it is the spread payment (a
    scan of the month's enterprise grants); otherwise the month's usage, read from the
    per-account summary's rank index (month, MRR) from ``arr``/12 up, so accounts
    below the threshold are never read (sales/account-allocation's "$20K accounts
    without an owner" at 100,000 accounts; issue 20)."""
    by_usage, by_spread = arr_at_least_parts(arr, month=month)
    return by_usage.values("account").union(by_spread.values("account"), all=True)


def arr_at_least_parts(
    arr: Decimal, *, month: dt.date
) -> tuple[QuerySet[AccountMonthMrr, Any], QuerySet[CreditGrant, Any]]:
    """The two halves of ``accounts_with_arr_at_least``, disjoint, each with its
    ``account`` and its MRR by billing configuration: the accounts billed on usage
    (``AccountMonthMrr`` rows, MRR in their ``mrr`` field, in the order of its rank
    index) and those under an enterprise purchase (grouped ``CreditGrant`` rows, MRR
    as ``spread``). For lists that take the largest first straight from the index
    (the allocation queue's page). ``ValueError`` as ``accounts_with_arr_at_least``."""
    if arr <= 0:
        raise ValueError(f"An ARR threshold must be positive, not {arr}.")
    usage, spread = _mrr_parts(month)
    # 12 × MRR ≥ arr exactly when MRR ≥ arr/12; the summary holds whole cents, so
    # when MRR reaches arr/12 rounded up to a cent. One range of the index, which
    # PostgreSQL also estimates well (an expression on MRR it would guess at).
    by_usage = usage.filter(mrr__gte=(arr / 12).quantize(CENT, rounding=ROUND_CEILING))
    by_spread = spread.alias(
        spread_arr=ExpressionWrapper(F("spread") * 12, output_field=MONEY)
    ).filter(spread_arr__gte=arr)
    return by_usage, by_spread


def _top_40_expression(*, month: dt.date) -> Exists:
    """Whether the row is in the stored Top 40 of ``month`` (``rank_top_accounts_if_unranked``
    has stored it before the statement runs).

    Only the stored ranking: a live-ranking fallback in the statement never ran while
    the month was ranked, yet its cost was counted into every page's plan, which at
    100,000 accounts crossed ``jit_above_cost`` (issue 21)."""
    return Exists(TopAccount.objects.filter(month=month, account=OuterRef("pk")))


def rank_top_accounts_if_unranked(*, month: dt.date) -> int:
    """Store the Top 40 by ARR of ``month`` (``refresh_top_accounts``' ranking) unless
    the month has a stored ranking already; returns the rows stored. Call it before
    a query that reads ``is_top_40``: one prepared statement whether or not it ranks,
    so pages issue a fixed number of queries.

    The statement calls the SQL function ``accounts_rank_top_40_if_unranked``
    (migration accounts 0018), which runs the ranking only when the month has none.
    An INSERT … SELECT under a NOT EXISTS filter did the same in one statement, but
    as a write it carried pghistory's context prefix and could not be prepared, so
    PostgreSQL planned the ranking's nested subqueries on every request: about 2.5 ms
    idle and 12 ms under load at 100,000 accounts, for 0.6 ms of execution (issue 20).

    Writers of a month's ranking take ``_top_40_lock``: the function only tries it
    and stores nothing when another writer holds it (the job replacing the month,
    or another page ranking it), then checks again that the month is unranked, so
    two snapshots' rankings are never mixed and the job's insert never meets a
    page's rows. A month whose ranking is empty (no account with positive MRR) is
    ranked again on each call, which finds nothing from the summary's rank index."""
    sql, params = _rank_if_unranked_sql(month)
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, params)
        (stored,) = cursor.fetchone()
    return int(stored)


@functools.lru_cache(maxsize=8)
def _rank_if_unranked_sql(month: dt.date) -> tuple[str, tuple[Any, ...]]:
    """The statement of ``rank_top_accounts_if_unranked`` as SQL and params, compiled
    once per process and month: compiling the ranking's nested subqueries is most of
    its Python cost (issue 20). The ranking goes to the function as text with its
    values written in by psycopg (they are dates and amounts of the code's own)."""
    ranked, ranked_params = (
        _ranked_by_mrr(month).values("pk", "mrr")[:TOP_ACCOUNTS].query.sql_with_params()
    )
    ranking = with_values_written_in(ranked, ranked_params, connection)
    return (
        "SELECT accounts_rank_top_40_if_unranked(%s, %s, %s, %s)",
        (month, ranking, *_top_40_lock(month)),
    )


# pg_advisory_xact_lock keys (class, month) of a month's Top 40 writers: the job
# replacing a ranking and a page storing a missing one never write it at once.
TOP_40_LOCK_CLASS = 2_020_000_040


def _top_40_lock(month: dt.date) -> tuple[int, int]:
    return TOP_40_LOCK_CLASS, month.year * 12 + month.month


@transaction.atomic
def refresh_top_accounts(*, today: dt.date) -> int:
    """Store the Top 40 by ARR of ``today``'s revenue month (the latest imported
    complete month) in the TopAccount cache, replacing that month's ranking.
    Idempotent; returns the number of ranked accounts. Call after revenue for
    the month changes."""
    month = revenue_month(today=today)
    with connection.cursor() as cursor:
        # Waits for a page storing this month's ranking; the statements below then
        # run on snapshots that see (and delete) what the page stored.
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", _top_40_lock(month))
        TopAccount.objects.filter(month=month).delete()
    # The pages' statement: the month is now unranked in this transaction, and
    # this session already holds the lock the statement tries.
    return rank_top_accounts_if_unranked(month=month)


class RevenueFigures(TypedDict):
    """The annotations ``with_revenue`` adds (dollars; ``mrr`` of the revenue month)."""

    mrr: Decimal
    prev_mrr: Decimal
    arr: Decimal
    mom_change: Decimal
    core_paid_count: int
    core_product_total: int
    all_core_paid: bool
    has_current_plan: bool
    is_top_40: bool
    seg_startup: bool
    seg_annual: bool
    seg_trial: bool
    seg_first_payment: bool
    seg_60k: bool
    seg_20k: bool


# An account read through ``with_revenue``: its fields and the figures above.
# Lazily evaluated: WithAnnotations takes two arguments only for the type checker.
type AccountWithRevenue = WithAnnotations[Account, RevenueFigures]


def with_revenue(
    queryset: QuerySet[Account],
    *,
    today: dt.date,
    month: dt.date | None = None,
    rank_top_40: bool = True,
) -> QuerySet[AccountWithRevenue]:
    """Annotate MRR of ``month`` (default: ``revenue_month(today=today)``, one
    query more), previous MRR, ARR, MoM change, paid core products (and
    ``all_core_paid``: paid for every product the catalog flags core), plan
    freshness, Top 40 and every data segment. One SQL query, after the Top 40 of
    ``month`` is stored if it was not (``rank_top_accounts_if_unranked``: one statement,
    which writes only then; ``rank_top_40=False`` leaves that to a caller that keeps the
    queryset and calls it on each request)."""
    month = month or revenue_month(today=today)
    if rank_top_40:
        rank_top_accounts_if_unranked(month=month)
    credits = _credit_months((month, add_months(month, -1)))
    credit_live = Q(credit_balance__gt=0, credit_expires_on__gt=today)
    core_paid = _core_paid_count(month)
    # Each month's usage is one LEFT JOIN of the per-account summary (unique per
    # account and month), read as a column: a subquery per figure that reads
    # MRR summed the revenue table up to 8 times per row. The credit grants of
    # both months are one LATERAL join (one index scan of the account's grants),
    # read as columns too: inlined where MRR is read (MRR, ARR, MoM, the $20K
    # and $60K segments), their subqueries made up most of an 18 KB statement.
    return queryset.annotate(
        _mrr_this=FilteredRelation("monthly_mrr", condition=Q(monthly_mrr__month=month)),
        _mrr_prev=FilteredRelation(
            "monthly_mrr", condition=Q(monthly_mrr__month=add_months(month, -1))
        ),
        mrr=_mrr_for(credits, 0, usage=F("_mrr_this__mrr")),
        prev_mrr=_mrr_for(credits, 1, usage=F("_mrr_prev__mrr")),
        arr=ExpressionWrapper(F("mrr") * 12, output_field=MONEY),
        mom_change=ExpressionWrapper(F("mrr") - F("prev_mrr"), output_field=MONEY),
        core_paid_count=Coalesce(Subquery(core_paid), Value(0)),
        core_product_total=Coalesce(Subquery(_core_product_total()), Value(0)),
        # count >= total and count > 0, written so the count's subquery is
        # inlined once, not twice.
        all_core_paid=ExpressionWrapper(
            Q(core_paid_count__gte=Greatest(F("core_product_total"), Value(1))),
            output_field=BooleanField(),
        ),
        has_current_plan=Exists(
            AccountPlan.objects.filter(account=OuterRef("pk"), quarter_start=quarter_start(today))
        ),
        is_top_40=_top_40_expression(month=month),
        seg_startup=ExpressionWrapper(
            credit_live & Q(plan=Plan.STARTUP), output_field=BooleanField()
        ),
        seg_annual=ExpressionWrapper(
            Q(plan=Plan.ANNUAL) | (credit_live & ~Q(plan=Plan.STARTUP)),
            output_field=BooleanField(),
        ),
        seg_trial=ExpressionWrapper(Q(trial_ends_on__gt=today), output_field=BooleanField()),
        seg_first_payment=ExpressionWrapper(
            ~Exists(MonthlyRevenue.objects.filter(account=OuterRef("pk"), amount__gt=0))
            & Q(current_period_ends_on__gt=today, forecasted_mrr__gt=FIRST_PAYMENT_MIN_FORECAST),
            output_field=BooleanField(),
        ),
    ).annotate(
        seg_60k=ExpressionWrapper(
            Q(seg_startup=False, arr__gte=ARR_60K), output_field=BooleanField()
        ),
        seg_20k=ExpressionWrapper(
            Q(seg_startup=False, arr__gte=ARR_20K, arr__lt=ARR_60K), output_field=BooleanField()
        ),
    )


class ArrFigures(TypedDict):
    """The annotations ``with_arr`` adds: ``with_revenue``'s of the same names."""

    mrr: Decimal
    arr: Decimal
    all_core_paid: bool
    is_top_40: bool


def with_arr(
    queryset: QuerySet[Account], *, month: dt.date
) -> QuerySet[WithAnnotations[Account, ArrFigures]]:
    """Annotate only MRR and ARR of ``month``, ``all_core_paid`` and ``is_top_40``, as
    ``with_revenue`` does: for lists that order many accounts by ARR to show a page of
    them (the allocation queue). PostgreSQL works out ARR for each row to order them
    and the other figures for the page's rows only; ``with_revenue``'s previous month,
    plan and segments are not read at all. One SQL query, after the Top 40 of ``month``
    is stored if it was not (``rank_top_accounts_if_unranked``: one statement)."""
    rank_top_accounts_if_unranked(month=month)
    return with_mrr(queryset, month=month).annotate(
        arr=ExpressionWrapper(F("mrr") * 12, output_field=MONEY),
        all_core_paid=all_core_paid(month=month),
        is_top_40=_top_40_expression(month=month),
    )


# The boolean annotation ``with_revenue`` sets for each segment, in display order.
SEGMENT_FLAGS: dict[str, str] = {
    Segment.ARR_20K: "seg_20k",
    Segment.ARR_60K: "seg_60k",
    Segment.STARTUP: "seg_startup",
    Segment.ANNUAL: "seg_annual",
    Segment.TRIAL: "seg_trial",
    Segment.FIRST_PAYMENT: "seg_first_payment",
    Segment.TOP_40: "is_top_40",
}
# Filter on a queryset that went through ``with_revenue``.
SEGMENT_FILTERS: dict[str, Q] = {key: Q(**{flag: True}) for key, flag in SEGMENT_FLAGS.items()}


def segments_of(account: Account) -> list[str]:
    """Segment keys of one account annotated by ``with_revenue``, in display order."""
    return [key for key, attr in SEGMENT_FLAGS.items() if getattr(account, attr, False)]


# --- per-account series (one query each, whatever the number of accounts) ---


def sparkline_months(month: dt.date) -> list[dt.date]:
    """The 12 months ending with ``month`` (the sparkline's and the account
    chart's), oldest first. ``month`` is the revenue month, so no month without
    an import is drawn as a drop to zero."""
    return [add_months(month, -i) for i in range(SPARKLINE_MONTHS - 1, -1, -1)]


# mrr_history's, usage_history's and paid_core_products' statements: constant text
# taking the ids as one array parameter. The ORM built and compiled an ``IN (...)`` of
# every id on each call, for two small reads: about a sixth of My book's Python time
# at the seed's scale (pyinstrument; issue 20). Same rows, same order.
_USAGE_HISTORY_SQL = (
    'SELECT "account_id", "month", SUM("amount") FROM "billing_monthlyrevenue" '
    'WHERE "account_id" = ANY(%s) AND "month" >= %s AND "month" <= %s GROUP BY 1, 2'
)
# Each month's MRR by billing configuration, as ``_mrr_for`` reads it for a row's
# ARR: $0 on startup credits, an enterprise purchase's spread, else the month's usage
# (the per-account summary). The accounts' grants and summary rows side by side (a
# FULL JOIN: a month paid by an enterprise purchase may have no usage row); months
# with neither are $0, filled in by the caller. A SELECT around the WITH, which
# pghistory's context would otherwise prefix (see ``_account_chart_sql``). Params:
# the ids and the first and last month, twice (the grants', then the summary's).
_HISTORY_CREDIT_MONTHS = credit_months_sql(
    months_where=f"WHERE g.account_id = ANY(%s) AND {IN_MONTHS}"
)
_MRR_HISTORY_SQL = f"""SELECT h.account_id, h.month, h.mrr FROM (
    WITH {_HISTORY_CREDIT_MONTHS.strip().removesuffix(",")}
    SELECT COALESCE(m.account_id, k.account_id) AS account_id,
           COALESCE(m.month, k.month) AS month,
           CASE WHEN k.on_startup_credits THEN 0 WHEN k.enterprise THEN k.spread
                ELSE m.mrr END AS mrr
    FROM (SELECT account_id, month, mrr FROM billing_accountmonthmrr
          WHERE account_id = ANY(%s) AND month >= %s AND month <= %s) m
    FULL JOIN credit_months k ON k.account_id = m.account_id AND k.month = m.month
) h"""
# A paid core product of revenue row r of product p: more than PAID_PRODUCT_MIN for a
# core product (paid_core_products, and the account page's chart). The amount is
# written in, not a parameter: a prepared statement's generic plan can then read the
# partial index monthly_revenue_paid (amount over $200), where with a parameter it
# filtered every revenue row of the accounts (1,224 for a 18-row page; issue 20).
_PAID_CORE_SQL = f'r."amount" > {PAID_PRODUCT_MIN} AND p."is_core"'
_PAID_CORE_PRODUCTS_SQL = (
    'SELECT r."account_id", p."name" FROM "billing_monthlyrevenue" r '
    'INNER JOIN "billing_product" p ON r."product_id" = p."id" '
    f'WHERE r."account_id" = ANY(%s) AND {_PAID_CORE_SQL} AND r."month" = %s '
    'ORDER BY p."sort_order" ASC'
)


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    # Prepared: the statements are constant text, and planning the history's was
    # 0.16 ms of server CPU on every My book request against its 0.10 ms run
    # (EXPLAIN ANALYZE at the 100,000-account seed; issue 20).
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
    return rows


def _history(
    sql: str, ids: list[int], months: list[dt.date], *, repeat: int = 1
) -> dict[int, list[Decimal]]:
    """Run ``sql`` (rows of account id, month, amount; its params the ids and the
    first and last month, ``repeat`` times) into one series per account over
    ``months``, oldest first, zeros filled."""
    index = {month: i for i, month in enumerate(months)}
    series: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * len(months))
    for account_id, month, total in _rows(sql, [ids, months[0], months[-1]] * repeat):
        series[account_id][index[month]] = to_money(total)
    return dict(series)


def mrr_history(
    account_ids: Iterable[int],
    *,
    today: dt.date,
    month: dt.date | None = None,
) -> dict[int, list[Decimal]]:
    """MRR per account by billing configuration (``with_revenue``'s ``mrr``, whose ARR
    My book shows beside it: $0 on startup credits, an enterprise purchase's spread
    payment, else usage) for the 12 months ending with ``month`` (default: the
    revenue month of ``today``), oldest first, zeros filled. Accounts with neither
    usage nor a credit grant in those months are absent. One query (none without
    ids)."""
    ids = list(account_ids)
    if not ids:
        return {}
    months = sparkline_months(month or revenue_month(today=today))
    return _history(_MRR_HISTORY_SQL, ids, months, repeat=2)


def usage_history(
    account_ids: Iterable[int],
    *,
    today: dt.date,
    month: dt.date | None = None,
) -> dict[int, list[Decimal]]:
    """Usage per account (the sum of its revenue rows, whatever credits paid for it)
    for the 12 months ending with ``month`` (default: the revenue month of
    ``today``), oldest first, zeros filled; accounts without revenue rows in those
    months are absent. One query (none without ids)."""
    ids = list(account_ids)
    if not ids:
        return {}
    months = sparkline_months(month or revenue_month(today=today))
    return _history(_USAGE_HISTORY_SQL, ids, months)


class _ProductAmongCore(Func):
    """``product_id = ANY(ARRAY(the core products' ids))``: the array is read once per
    statement (an InitPlan), where a join to the catalog (``product__is_core``) read it
    again for every revenue row of every account asked about (14,000 scans of the
    catalog for the allocation page's 5,400 CSM accounts)."""

    template = "%(expressions)s)"
    arg_joiner = " = ANY("

    def __init__(self) -> None:
        core = Product.objects.filter(is_core=True).order_by().values("pk")
        super().__init__(F("product"), ArraySubquery(core), output_field=BooleanField())


def _core_paid_count(month: dt.date) -> QuerySet[MonthlyRevenue, Any]:
    """How many core products the row's account paid more than $200 for in ``month``,
    as a one-value subquery (no value without any). One index-only probe of
    ``monthly_revenue_paid`` per account (month, account, product; amount over $200)."""
    return (
        MonthlyRevenue.objects.filter(
            _ProductAmongCore(),
            account=OuterRef("pk"),
            month=month,
            amount__gt=PAID_PRODUCT_MIN,
        )
        .order_by()
        .values("account")
        .annotate(n=Count("product"))
        .values("n")
    )


def all_core_paid(*, month: dt.date) -> GreaterThanOrEqual:
    """Whether the row's account paid more than $200 in ``month`` for every product the
    catalog flags core (and for at least one): ``with_revenue``'s ``all_core_paid`` as
    one expression, for querysets that need only that figure."""
    return GreaterThanOrEqual(
        Coalesce(Subquery(_core_paid_count(month)), Value(0)),
        Greatest(Coalesce(Subquery(_core_product_total()), Value(0)), Value(1)),
    )


def _core_product_total() -> QuerySet[Product, Any]:
    """The number of products the catalog flags core, as a one-value subquery."""
    return (
        Product.objects.filter(is_core=True).order_by().values("is_core").annotate(n=Count("pk"))
    ).values("n")


def core_product_names() -> list[str]:
    """The catalog's core products, in catalog order. One query."""
    return list(Product.objects.filter(is_core=True).values_list("name", flat=True))


def paid_core_products(
    account_ids: Iterable[int],
    *,
    today: dt.date,
    month: dt.date | None = None,
) -> dict[int, list[str]]:
    """Names of the core products each account paid more than $200 for in
    ``month`` (default: the revenue month of ``today``), in catalog order. One
    query (none without ids)."""
    ids = list(account_ids)
    if not ids:
        return {}
    params = [ids, month or revenue_month(today=today)]
    paid: dict[int, list[str]] = defaultdict(list)
    for account_id, name in _rows(_PAID_CORE_PRODUCTS_SQL, params):
        paid[account_id].append(name)
    return dict(paid)


class AccountChart(NamedTuple):
    """``account_chart``'s answer: ``rows`` (month, product name, MRR in dollars by billing
    configuration, as ``billing.adjustments.PRODUCT_MRR_SQL``) for each revenue row, in
    catalog order then month; ``paid``: ``paid_core_products`` of the last month."""

    rows: list[tuple[dt.date, str, Decimal]]
    paid: list[str]


def account_chart(*, account_id: int, months: list[dt.date]) -> AccountChart:
    """One account's MRR per product and month over ``months`` (consecutive, oldest
    first: the account page's chart) and the core products it paid for in the last.
    One query, prepared on the server (its dates written in, the account its only
    parameter, so one generic plan serves every account); the account's filter
    reaches the credit grants through the join, so it reads only its own."""
    with prepared_cursor(connection) as cursor:
        cursor.execute(_account_chart_sql(months[0], months[-1]), [account_id])
        found = cursor.fetchall()
    return AccountChart(
        rows=[(month, name, to_money(amount)) for month, name, amount, _ in found],
        paid=[name for month, name, _, paid in found if paid],
    )


@functools.lru_cache(maxsize=4)
def _account_chart_sql(first: dt.date, last: dt.date) -> str:
    # Two reads of the account's revenue rows were two statements and two round
    # trips; its chart's was a WITH statement, which pghistory's context wraps in
    # set_config calls and nothing prepared (planned on every request; issue 20). A
    # SELECT around it is neither. Dates and amounts as literals: the same all day.
    def day(value: dt.date) -> str:
        return f"'{value.isoformat()}'::date"

    return f"""SELECT chart.month, chart.name, chart.mrr, chart.paid FROM (
    WITH {CREDIT_MONTHS.strip().removesuffix(",")}
    SELECT r.month, p.name, p.sort_order, {PRODUCT_MRR_SQL} AS mrr,
           r.month = {day(last)} AND {_PAID_CORE_SQL} AS paid
    FROM billing_monthlyrevenue r
    JOIN billing_product p ON p.id = r.product_id
    LEFT JOIN credit_months k ON k.account_id = r.account_id AND k.month = r.month
    WHERE r.account_id = %s AND r.month >= {day(first)} AND r.month <= {day(last)}
) chart ORDER BY chart.sort_order, chart.month"""
