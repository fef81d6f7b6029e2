"""TAM quota attainment and team quota (sales/how-we-work).

For each account in a TAM's AM-managed book and a quarter:

- each month's quota invoice = the month's invoice (all products) × the
  cross-sell multiplier: 0.7 with one paid product, +0.2 per further paid
  product (3 paid products = 1.1); a product is paid when that product's
  invoice that month is over $200 and it counts for the cross-sell multiplier
  (``Product.counts_for_cross_sell``). A month with no paid product still
  counts at the 0.7 base;
- quarterly ARR = 4 × the sum of the quarter's quota invoices; with only two
  invoiced months 6 ×, with one 12 ×; no revenue in the quarter's final month
  means the customer churned and the quarter counts $0. A quarter in progress
  counts the months imported so far (so one month × 12, two × 6);
- the account's contribution = end ARR (this quarter) − start ARR (previous
  quarter), except that an account taken over with no previous owner that
  churns within three months of ``owner_since`` contributes nothing (the grace
  period);
- attainment = the sum of contributions, against ``User.quarterly_quota``.

Billing terms (issue 17, the quota section's details):

- annual customers: in a month covered by an ``AnnualContract``, only usage
  beyond the run rate (annual amount ÷ 12) counts: a $120k contract invoiced
  $20k in a month counts $10k; $8k counts $0 (the month is still invoiced, so
  it is not churn);
- no double dipping: a contract converted from monthly under the old plan
  counts $0 in its first twelve months;
- an optimisation exclusion approved by the team lead and then a manager
  (``billing.exclusions``) removes up to its amount of the account's drop in
  that quarter (never turning a drop into growth);
- commission is recognised only once the account has paid its first two
  invoices ever (``Invoice`` status paid): ``recognised`` on each account,
  ``recognised_attainment`` per TAM; attainment itself counts every account.

The book is the TAM's AM-managed accounts as they stood at quarter start
(``quota_owner``): an account moved during the quarter (allocation, completed
handover) counts for its owner at quarter start until quarter end, and for
the new owner from the next quarter; the handbook keeps accounts in the book
until the quarter's calculation is done.

Team quota: 100% of each ramped member's quota plus 50% for members who begin
the quarter in their first three months; people who join during the quarter
do not change the team target.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThanOrEqual

from accounts.models import Account, OwnershipChange, User
from accounts.roles import Role
from revopsweb.dates import add_months, company_today, month_range, month_start

from .models import (
    PAID_PRODUCT_MIN,
    AnnualContract,
    ExclusionStatus,
    Invoice,
    MonthlyRevenue,
    OptimisationExclusion,
)
from .revenue_data import RevenueDataThrough, revenue_data_through

BASE_MULTIPLIER = Decimal("0.7")
EXTRA_PRODUCT_MULTIPLIER = Decimal("0.2")
ANNUALISE = {3: 4, 2: 6, 1: 12}  # invoiced months in the quarter → factor
GRACE_MONTHS = 3
FIRST_PAID_INVOICES = 2
RAMP_MONTHS = 3
RAMPING_SHARE = Decimal("0.5")
ZERO = Decimal("0.00")


def cross_sell_multiplier(paid_products: int) -> Decimal:
    """0.7 for one (or no) paid product, plus 0.2 for each further one."""
    return BASE_MULTIPLIER + EXTRA_PRODUCT_MULTIPLIER * max(paid_products - 1, 0)


@dataclass(frozen=True)
class MonthInvoice:
    """One month's invoice; ``counted`` is what of it counts for quota (None: all of it)
    and ``note`` says why the rest does not."""

    month: dt.date
    amount: Decimal
    paid_products: int
    counted: Decimal | None = None
    note: str = ""

    @property
    def multiplier(self) -> Decimal:
        return cross_sell_multiplier(self.paid_products)

    @property
    def counted_amount(self) -> Decimal:
        return self.amount if self.counted is None else self.counted

    @property
    def quota_amount(self) -> Decimal:
        return self.counted_amount * self.multiplier


@dataclass(frozen=True)
class ContractTerm:
    """An annual contract as quota reads it: its months, run rate and first-year rule."""

    first_month: dt.date
    last_day: dt.date
    run_rate: Decimal
    no_double_dipping_until: dt.date | None  # first month counted again

    def counted(self, invoice: MonthInvoice) -> MonthInvoice:
        """``invoice`` with only the usage beyond the run rate counted (sales/how-we-work)."""
        if not self.first_month <= invoice.month <= self.last_day:
            return invoice
        if self.no_double_dipping_until and invoice.month < self.no_double_dipping_until:
            return replace(
                invoice,
                counted=ZERO,
                note="converted from monthly: nothing beyond the run rate counts in the "
                "contract's first year (no double dipping)",
            )
        beyond = max(invoice.amount - self.run_rate, ZERO)
        return replace(
            invoice,
            counted=beyond,
            note=f"annual run rate ${self.run_rate:,.0f}/month not counted",
        )


def contract_terms(*, account_ids: Iterable[int]) -> dict[int, list[ContractTerm]]:
    """Annual contracts of ``account_ids`` as ``ContractTerm``s, per account. One query."""
    result: dict[int, list[ContractTerm]] = defaultdict(list)
    for c in AnnualContract.objects.filter(account_id__in=list(account_ids)).order_by("starts_on"):
        first = month_start(c.starts_on)
        result[c.account_id].append(
            ContractTerm(
                first_month=first,
                last_day=c.ends_on,
                run_rate=c.run_rate,
                no_double_dipping_until=add_months(first, 12) if c.converted_from_monthly else None,
            )
        )
    return result


def apply_contracts(
    invoices: list[MonthInvoice], contracts: list[ContractTerm]
) -> list[MonthInvoice]:
    """Each month's invoice with its contract's run rate taken off (the latest contract wins)."""
    result = []
    for invoice in invoices:
        for term in contracts:
            if term.first_month <= invoice.month <= term.last_day:
                invoice = term.counted(replace(invoice, counted=None, note=""))
        result.append(invoice)
    return result


def quarter_arr(invoices: list[MonthInvoice]) -> Decimal:
    """Annualised ARR of a quarter's monthly invoices (oldest first).

    Three months for a closed quarter; one or two for the quarter so far. $0
    when the latest month has no revenue (churned) or there is no month;
    otherwise the quota invoices' sum × 4, 6 or 12 for 3, 2 or 1 invoiced
    months.
    """
    if len(invoices) > 3:
        raise ValueError("A quarter has at most three monthly invoices.")
    if not invoices or invoices[-1].amount <= 0:
        return ZERO
    invoiced = [i for i in invoices if i.amount > 0]
    total = sum((i.quota_amount for i in invoiced), ZERO)
    # Usage within an annual run rate counts $0 but the month is still invoiced.
    return (total * ANNUALISE[len(invoiced)]).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class AccountQuota:
    account_id: int
    organization_id: str
    name: str
    start_invoices: list[MonthInvoice]
    end_invoices: list[MonthInvoice]
    start_arr: Decimal
    end_arr: Decimal
    in_grace: bool
    excluded: Decimal = ZERO
    exclusion_note: str = ""
    paid_invoices: int = FIRST_PAID_INVOICES

    @property
    def change(self) -> Decimal:
        return self.end_arr - self.start_arr

    @property
    def excluded_drop(self) -> Decimal:
        """The part of a drop an approved optimisation exclusion removes (never more)."""
        if self.in_grace or self.change >= 0:
            return ZERO
        return min(self.excluded, -self.change)

    @property
    def contribution(self) -> Decimal:
        return ZERO if self.in_grace else self.change + self.excluded_drop

    @property
    def recognised(self) -> bool:
        """Commission is paid only after the account's first two invoices are paid."""
        return self.paid_invoices >= FIRST_PAID_INVOICES

    @property
    def notes(self) -> list[str]:
        """Why parts of this account did not count, one sentence each."""
        notes = sorted({i.note for i in (*self.start_invoices, *self.end_invoices) if i.note})
        if self.in_grace:
            notes.append("churned within 3 months of takeover: grace period, not counted")
        if self.excluded_drop:
            notes.append(f"${self.excluded_drop:,.0f} of the drop excluded: {self.exclusion_note}")
        if not self.recognised:
            notes.append(
                f"commission waits for the first {FIRST_PAID_INVOICES} paid invoices "
                f"({self.paid_invoices} paid)"
            )
        return notes


@dataclass(frozen=True)
class TamQuota:
    user: User
    quota: Decimal
    accounts: list[AccountQuota]

    @property
    def counted(self) -> list[AccountQuota]:
        return [a for a in self.accounts if not a.in_grace]

    @property
    def start_arr(self) -> Decimal:
        return sum((a.start_arr for a in self.counted), ZERO)

    @property
    def end_arr(self) -> Decimal:
        return sum((a.end_arr for a in self.counted), ZERO)

    @property
    def attainment(self) -> Decimal:
        return sum((a.contribution for a in self.counted), ZERO)

    @property
    def recognised_attainment(self) -> Decimal:
        """Attainment of the accounts whose first two invoices are paid (commission basis)."""
        return sum((a.contribution for a in self.counted if a.recognised), ZERO)

    @property
    def recognised_growth(self) -> Decimal:
        """The commission basis' growing accounts: the sum of its positive contributions."""
        return sum(
            (a.contribution for a in self.counted if a.recognised and a.contribution > 0), ZERO
        )

    @property
    def attainment_percent(self) -> Decimal | None:
        return _percent(self.attainment, self.quota)

    def totals(self) -> TamTotals:
        """This TAM's figures without the accounts (what ``tam_quota_totals`` returns)."""
        return TamTotals(
            user=self.user,
            quota=self.quota,
            accounts=len(self.accounts),
            start_arr=self.start_arr,
            end_arr=self.end_arr,
            attainment=self.attainment,
            recognised_attainment=self.recognised_attainment,
            recognised_growth=self.recognised_growth,
        )


@dataclass(frozen=True)
class TamTotals:
    """One TAM's quota figures for a quarter without the per-account rows: ``accounts``
    counts the quota book (AM-managed, owned at quarter start, grace-period accounts
    included), the dollar sums leave out the accounts in their grace period, as
    ``TamQuota``'s properties do.

    ``recognised_attainment`` (the commission basis) is ``recognised_growth`` (the
    recognised accounts' positive contributions) less ``recognised_drops`` (their drops
    and churn, a positive amount): negative when drops exceed growth, whatever the
    attainment, which also counts the accounts still waiting for their first two paid
    invoices (``pending_attainment``).

    ``owned_now`` is what My book counts for the TAM today (owned accounts outside the
    Leads state, AM-managed or not, TAM overlays apart): ``tam_quota_totals`` reads it
    beside the quota book so the page can say why the two differ; ``TamQuota.totals``
    leaves it 0, and equality ignores it.
    """

    user: User
    quota: Decimal
    accounts: int
    start_arr: Decimal
    end_arr: Decimal
    attainment: Decimal
    recognised_attainment: Decimal
    recognised_growth: Decimal = ZERO
    owned_now: int = field(default=0, compare=False)

    @property
    def attainment_percent(self) -> Decimal | None:
        return _percent(self.attainment, self.quota)

    @property
    def recognised_drops(self) -> Decimal:
        """Drops and churn in the commission basis, as a positive amount."""
        return self.recognised_growth - self.recognised_attainment

    @property
    def pending_attainment(self) -> Decimal:
        """Attainment of accounts whose first two invoices are not paid yet: not in the
        commission basis."""
        return self.attainment - self.recognised_attainment


def _percent(attainment: Decimal, quota: Decimal) -> Decimal | None:
    if not quota:
        return None
    return (attainment / quota * 100).quantize(Decimal("0.1"))


def monthly_invoices(
    *, account_ids: Iterable[int], months: list[dt.date]
) -> dict[int, dict[dt.date, MonthInvoice]]:
    """Invoice total and paid cross-sell products per account and month. One query."""
    rows = (
        MonthlyRevenue.objects.filter(account_id__in=list(account_ids), month__in=months)
        .values("account_id", "month")
        .annotate(
            total=Sum("amount"),
            paid=Count(
                "id", filter=Q(product__counts_for_cross_sell=True, amount__gt=PAID_PRODUCT_MIN)
            ),
        )
        .order_by()
    )
    result: dict[int, dict[dt.date, MonthInvoice]] = defaultdict(dict)
    for row in rows:
        result[row["account_id"]][row["month"]] = MonthInvoice(
            month=row["month"], amount=row["total"], paid_products=row["paid"]
        )
    return result


def _quarter_invoices(
    by_month: dict[dt.date, MonthInvoice], first_month: dt.date, through: dt.date
) -> list[MonthInvoice]:
    last = min(add_months(first_month, 2), through)
    return [
        by_month.get(m, MonthInvoice(month=m, amount=ZERO, paid_products=0))
        for m in month_range(first_month, last)
    ]


def counted_through(*, quarter: dt.date, data: RevenueDataThrough) -> dt.date:
    """The month ``quarter`` (its first month) is counted up to: ``data.month``, the
    latest imported complete month (a quarter in progress is measured so far and a
    month not imported yet never reads as churn), else the quarter's last month."""
    return data.month or add_months(quarter, 2)


def in_grace_period(
    *, owner_since: dt.date | None, had_previous_owner: bool, churn_month: dt.date, end_arr: Decimal
) -> bool:
    """A new account (no previous owner) that churned within three months of takeover.

    ``churn_month`` is the quarter's last month counted: churn shows as $0 there.
    """
    if had_previous_owner or owner_since is None or end_arr > 0:
        return False
    return churn_month < add_months(month_start(owner_since), GRACE_MONTHS)


def quota_owner(*, quarter: dt.date) -> Case:
    """Annotation: whose quota an account counts for in ``quarter`` (its first month).

    The owner at quarter start keeps the account for the whole quarter; a move
    during it counts from the next quarter (sales/how-we-work: "Removal of
    accounts should only happen at the end of the quarter so that quota can be
    calculated"; sales/account-allocation, "Mid-quarter changes"). Read from
    the ownership history's effective dates, whatever the account's ``owner``
    says today (an allocation or a completed handover changes it at once and
    records the move as effective at quarter end):

    - no move effective after the quarter's first day: the current owner;
    - else the first such move's previous owner, if it had one (owned at
      quarter start);
    - else (unowned at quarter start) the owner it was added to during the
      quarter ("accounts can be added to your book at any time");
    - else nobody.
    """
    later = OwnershipChange.objects.filter(
        account=OuterRef("pk"), effective_on__gt=quarter
    ).order_by("effective_on", "at", "pk")
    first_previous = Subquery(later.values("previous_owner")[:1])
    first_new = Subquery(later.values("new_owner")[:1])
    first_on = Subquery(later.values("effective_on")[:1])
    quarter_last_day = add_months(quarter, 3) - dt.timedelta(days=1)
    return Case(
        When(~Exists(later), then=F("owner")),
        When(
            LessThanOrEqual(first_on, Value(quarter_last_day)),
            then=Coalesce(first_previous, first_new),
        ),
        default=first_previous,
        output_field=IntegerField(),
    )


def book_for_quota(tams: Iterable[User], *, quarter: dt.date) -> QuerySet[Account]:
    """AM-managed accounts that count for ``tams`` in ``quarter`` (``quota_owner``,
    annotated as ``quota_owner_id``), flagged when they ever had a previous owner."""
    tam_ids = [t.pk for t in tams]
    # quota_owner is the owner or someone in a move effective after the quarter's first
    # day: this narrower filter, the same accounts, lets PostgreSQL start from the owner
    # index rather than work out quota_owner for every AM-managed account.
    # A union rather than an OR: each side reads its own index.
    owned = Account.objects.filter(owner__in=tam_ids).values("pk")
    moved = OwnershipChange.objects.filter(
        Q(previous_owner__in=tam_ids) | Q(new_owner__in=tam_ids), effective_on__gt=quarter
    ).values("account")
    return (
        Account.objects.filter(pk__in=owned.union(moved), am_managed=True)
        .annotate(
            quota_owner_id=quota_owner(quarter=quarter),
            had_previous_owner=Exists(
                OwnershipChange.objects.filter(account=OuterRef("pk"), previous_owner__isnull=False)
            ),
        )
        .filter(quota_owner_id__in=tam_ids)
        .order_by("name")
    )


def tam_quotas(
    *, quarter: dt.date, tams: Iterable[User] | None = None, through: dt.date | None = None
) -> list[TamQuota]:
    """Quota attainment for ``quarter`` (its first month) per TAM, by TAM name.

    ``tams`` defaults to every active user with the TAM role (team lead joined). The quarter
    counts its months up to ``through`` (default: ``counted_through`` of today's
    revenue data), so a quarter in progress is measured so far rather than as
    churned. At most seven queries whatever the number of TAMs and accounts;
    read-only.
    """
    last = add_months(quarter, 2)
    tam_list, through = _tams_through(quarter=quarter, tams=tams, through=through)
    churn_month = min(last, through)
    previous = add_months(quarter, -3)
    accounts = list(book_for_quota(tam_list, quarter=quarter))
    account_ids = [a.pk for a in accounts]
    invoices = monthly_invoices(account_ids=account_ids, months=month_range(previous, last))
    contracts = contract_terms(account_ids=account_ids)
    exclusions = approved_exclusions(account_ids=account_ids, quarter=quarter)
    paid = paid_invoice_counts(account_ids=account_ids)
    per_owner: dict[int, list[AccountQuota]] = defaultdict(list)
    for account in accounts:
        by_month = invoices.get(account.pk, {})
        terms = contracts.get(account.pk, [])
        start = apply_contracts(_quarter_invoices(by_month, previous, through), terms)
        end = apply_contracts(_quarter_invoices(by_month, quarter, through), terms)
        end_arr = quarter_arr(end)
        excluded, exclusion_note = exclusions.get(account.pk, (ZERO, ""))
        per_owner[account.quota_owner_id].append(  # type: ignore[attr-defined]
            AccountQuota(
                account_id=account.pk,
                organization_id=account.organization_id,
                name=account.name,
                start_invoices=start,
                end_invoices=end,
                start_arr=quarter_arr(start),
                end_arr=end_arr,
                in_grace=in_grace_period(
                    owner_since=account.owner_since,
                    had_previous_owner=account.had_previous_owner,  # type: ignore[attr-defined]
                    churn_month=churn_month,
                    end_arr=end_arr,
                ),
                excluded=excluded,
                exclusion_note=exclusion_note,
                paid_invoices=paid.get(account.pk, 0),
            )
        )
    return [
        TamQuota(user=u, quota=u.quarterly_quota or ZERO, accounts=per_owner.get(u.pk, []))
        for u in tam_list
    ]


def active_tams() -> QuerySet[User]:
    """Every active TAM, team lead joined, by name: whose quota the quota page shows."""
    return (
        User.objects.filter(groups__name=Role.TAM, is_active=True)
        .select_related("team_lead")
        .order_by("name")
    )


def _tams_through(
    *, quarter: dt.date, tams: Iterable[User] | None, through: dt.date | None
) -> tuple[list[User], dt.date]:
    """``tams`` (default: every active TAM, team lead joined, by name) and ``through``
    (default: ``counted_through`` of today's revenue data) as ``tam_quotas`` reads them."""
    if through is None:
        data = revenue_data_through(today=company_today())
        through = counted_through(quarter=quarter, data=data)
    if tams is None:
        tams = active_tams()
    return list(tams), through


def _cents(expression: str) -> str:
    """SQL rounding ``expression`` (numeric) to cents half to even, as ``Decimal.quantize``
    does by default (PostgreSQL's ``round`` rounds half away from zero)."""
    x = f"({expression}) * 100"
    return (
        f"(CASE WHEN abs({x} - trunc({x})) = 0.5 "
        f"THEN round((trunc({x}) + CASE WHEN mod(trunc({x}), 2) = 0 THEN 0 ELSE sign({x}) END) / 100, 2) "
        f"ELSE round(({expression}), 2) END)"
    )


def _arr_sql(key: str) -> str:
    """SQL over ``quota_months q`` grouped by account: ``quarter_arr`` of the quarter
    ``key`` (``start`` or ``end``), its months ``%(key_first)s``..``%(key_last)s`` ($0 for
    no month, or no revenue in the last one; a last month before the first reads none)."""
    months = f"q.month BETWEEN %({key}_first)s AND %({key}_last)s"
    invoiced = f"{months} AND q.amount > 0"
    factor = " ".join(f"WHEN {n} THEN {f}" for n, f in ANNUALISE.items())
    total = (
        f"SUM(q.quota_amount) FILTER (WHERE {invoiced}) "
        f"* CASE COUNT(*) FILTER (WHERE {invoiced}) {factor} END"
    )
    return (
        f"CASE WHEN COALESCE(SUM(q.amount) FILTER (WHERE {months} AND q.month = %({key}_last)s), 0)"
        f" > 0 THEN {_cents(total)} ELSE 0 END"
    )


# tam_quotas' rules per account, summed per TAM in the database:
# - candidates and owners (book_for_quota): the TAMs' AM-managed accounts, read once by
#   the owner index, and those in a move effective after the quarter's first day (a few
#   hundred), each read by its primary key: OFFSET 0 keeps that lookup, where the
#   planner would scan the whole accounts table. quota_owner is read from the first such
#   move (effective_on, changed_at, id), one index probe per account, rather than from
#   the ORM's four correlated subqueries, evaluated twice;
# - months: the month's invoice and paid products (monthly_invoices);
# - terms: the latest annual contract covering the month (apply_contracts: run rate off,
#   or $0 in a converted contract's first year), joined for the few months under one
#   rather than probed by an index for every month;
# - quota_months and arr: the cross-sell multiplier and quarter_arr, grouped by account
#   alone (one integer key) before the book's columns are joined back;
# - accounts: in_grace_period, the approved exclusion and the first two paid invoices;
# - per_tam: the sums, and the commission basis' growth apart from its drops;
# - owned_now: My book's count beside it (owned, not leads; by the owner index), joined
#   in full so a TAM whose owned accounts are none of them AM-managed still reads it.
# The TAMs are one array parameter and the quarters' months parameters, so the text is
# the same for every request. test_quota_totals holds it equal to tam_quotas.
TOTALS_SQL = """
WITH candidates AS (
    SELECT id, owner_id, owner_since FROM accounts_account
    WHERE am_managed AND owner_id = ANY(%(tams)s)
    UNION
    SELECT a.id, a.owner_id, a.owner_since
    FROM (
        SELECT DISTINCT account_id FROM accounts_ownershipchange
        WHERE effective_on > %(quarter)s
          AND (previous_owner_id = ANY(%(tams)s) OR new_owner_id = ANY(%(tams)s))
    ) moved
    CROSS JOIN LATERAL (
        SELECT id, owner_id, owner_since FROM accounts_account
        WHERE id = moved.account_id AND am_managed OFFSET 0
    ) a
),
owners AS (
    SELECT a.id, a.owner_since,
           CASE WHEN mv.effective_on IS NULL THEN a.owner_id
                WHEN mv.effective_on <= %(quarter_last_day)s
                THEN COALESCE(mv.previous_owner_id, mv.new_owner_id)
                ELSE mv.previous_owner_id END AS quota_owner_id,
           EXISTS (SELECT 1 FROM accounts_ownershipchange p
                   WHERE p.account_id = a.id AND p.previous_owner_id IS NOT NULL)
             AS had_previous_owner
    FROM candidates a
    LEFT JOIN LATERAL (
        SELECT m.effective_on, m.previous_owner_id, m.new_owner_id
        FROM accounts_ownershipchange m
        WHERE m.account_id = a.id AND m.effective_on > %(quarter)s
        ORDER BY m.effective_on, m.changed_at, m.id
        LIMIT 1
    ) mv ON true
),
book AS MATERIALIZED (SELECT * FROM owners WHERE quota_owner_id = ANY(%(tams)s)),
months AS MATERIALIZED (
    SELECT r.account_id, r.month, SUM(r.amount) AS amount,
           COUNT(*) FILTER (WHERE p.counts_for_cross_sell AND r.amount > %(paid_min)s) AS paid
    FROM billing_monthlyrevenue r
    JOIN billing_product p ON p.id = r.product_id
    WHERE r.account_id IN (SELECT id FROM book)
      AND r.month BETWEEN %(start_first)s AND %(end_last)s
    GROUP BY r.account_id, r.month
),
terms AS (
    SELECT DISTINCT ON (m.account_id, m.month) m.account_id, m.month,
           CASE WHEN c.converted_from_monthly AND m.month < (
                        c.starts_on - (EXTRACT(DAY FROM c.starts_on)::int - 1)
                        + interval '12 months')::date
                THEN 0
                ELSE GREATEST(m.amount - {run_rate}, 0) END AS counted
    FROM months m
    JOIN billing_annualcontract c
      ON c.account_id = m.account_id AND m.month <= c.ends_on
     AND c.starts_on - (EXTRACT(DAY FROM c.starts_on)::int - 1) <= m.month
    ORDER BY m.account_id, m.month, c.starts_on DESC
),
quota_months AS (
    SELECT m.account_id, m.month, m.amount,
           COALESCE(t.counted, m.amount)
           * (%(base)s + %(extra)s * GREATEST(m.paid - 1, 0)) AS quota_amount
    FROM months m
    LEFT JOIN terms t ON t.account_id = m.account_id AND t.month = m.month
),
arr AS (
    SELECT b.id, b.quota_owner_id, b.owner_since, b.had_previous_owner,
           COALESCE(q.start_arr, 0) AS start_arr, COALESCE(q.end_arr, 0) AS end_arr
    FROM book b
    LEFT JOIN (
        SELECT q.account_id, {start_arr} AS start_arr, {end_arr} AS end_arr
        FROM quota_months q
        GROUP BY q.account_id
    ) q ON q.account_id = b.id
),
paid AS (
    SELECT account_id, COUNT(*) AS n FROM billing_invoice
    WHERE status = %(invoice_paid)s AND account_id IN (SELECT id FROM book)
    GROUP BY account_id
),
accounts AS (
    SELECT a.quota_owner_id, a.start_arr, a.end_arr,
           a.end_arr - a.start_arr
           + CASE WHEN a.end_arr < a.start_arr
                  THEN LEAST(COALESCE(x.amount, 0), a.start_arr - a.end_arr) ELSE 0 END
             AS contribution,
           NOT a.had_previous_owner AND a.owner_since IS NOT NULL AND a.end_arr <= 0
           AND %(churn_month)s < (
               a.owner_since - (EXTRACT(DAY FROM a.owner_since)::int - 1)
               + interval '{grace} months')::date AS in_grace,
           COALESCE(paid.n, 0) >= %(first_paid)s AS recognised
    FROM arr a
    LEFT JOIN billing_optimisationexclusion x
           ON x.account_id = a.id AND x.quarter = %(quarter)s AND x.status = %(approved)s
    LEFT JOIN paid ON paid.account_id = a.id
),
per_tam AS (
    SELECT quota_owner_id, COUNT(*) AS n,
           COALESCE(SUM(start_arr) FILTER (WHERE NOT in_grace), 0) AS start_arr,
           COALESCE(SUM(end_arr) FILTER (WHERE NOT in_grace), 0) AS end_arr,
           COALESCE(SUM(contribution) FILTER (WHERE NOT in_grace), 0) AS attainment,
           COALESCE(SUM(contribution) FILTER (WHERE NOT in_grace AND recognised), 0)
             AS recognised,
           COALESCE(SUM(contribution)
                    FILTER (WHERE NOT in_grace AND recognised AND contribution > 0), 0)
             AS recognised_growth
    FROM accounts
    GROUP BY quota_owner_id
),
owned_now AS (
    SELECT owner_id, COUNT(*) AS n FROM accounts_account
    WHERE owner_id = ANY(%(tams)s) AND NOT is_lead
    GROUP BY owner_id
)
SELECT COALESCE(p.quota_owner_id, o.owner_id), COALESCE(p.n, 0),
       COALESCE(p.start_arr, 0), COALESCE(p.end_arr, 0), COALESCE(p.attainment, 0),
       COALESCE(p.recognised, 0), COALESCE(p.recognised_growth, 0), COALESCE(o.n, 0)
FROM per_tam p
FULL JOIN owned_now o ON o.owner_id = p.quota_owner_id
""".format(
    run_rate=_cents("c.annual_amount / 12"),
    start_arr=_arr_sql("start"),
    end_arr=_arr_sql("end"),
    grace=GRACE_MONTHS,
)


def tam_quota_totals(
    *, quarter: dt.date, tams: Iterable[User] | None = None, through: dt.date | None = None
) -> list[TamTotals]:
    """Each TAM's figures of ``tam_quotas`` (same arguments and defaults, same order)
    without the per-account rows, summed by PostgreSQL: ``[t.totals() for t in
    tam_quotas(...)]``, with ``owned_now`` (My book's count) read as well. Two queries at
    most (the TAMs when ``tams`` is None, then one whatever the size of the books);
    read-only.
    """
    tam_list, through = _tams_through(quarter=quarter, tams=tams, through=through)
    if not tam_list:
        return []
    previous = add_months(quarter, -3)
    last = min(add_months(quarter, 2), through)
    params: dict[str, Any] = {
        "tams": [u.pk for u in tam_list],
        "quarter": quarter,
        "quarter_last_day": add_months(quarter, 3) - dt.timedelta(days=1),
        # The quarters' months counted: the previous quarter's and this one's, each up
        # to ``through``; a range whose last month is before its first reads no month
        # (quarter_arr of nothing is $0).
        "start_first": previous,
        "start_last": min(add_months(previous, 2), through),
        "end_first": quarter,
        "end_last": last,
        "paid_min": PAID_PRODUCT_MIN,
        "base": BASE_MULTIPLIER,
        "extra": EXTRA_PRODUCT_MULTIPLIER,
        "invoice_paid": Invoice.Status.PAID,
        "churn_month": last,
        "first_paid": FIRST_PAID_INVOICES,
        "approved": ExclusionStatus.APPROVED,
    }
    with connection.cursor() as cursor:
        cursor.execute(TOTALS_SQL, params)
        sums = {row[0]: row[1:] for row in cursor.fetchall()}
    totals = []
    for u in tam_list:
        count, start, end, attainment, recognised, growth, owned = sums.get(
            u.pk, (0, ZERO, ZERO, ZERO, ZERO, ZERO, 0)
        )
        totals.append(
            TamTotals(
                user=u,
                quota=u.quarterly_quota or ZERO,
                accounts=count,
                start_arr=start,
                end_arr=end,
                attainment=attainment,
                recognised_attainment=recognised,
                recognised_growth=growth,
                owned_now=owned,
            )
        )
    return totals


def approved_exclusions(
    *, account_ids: Iterable[int], quarter: dt.date
) -> dict[int, tuple[Decimal, str]]:
    """Approved optimisation exclusions of ``quarter``: ``{account id: (dollars of ARR, who
    approved)}``. One query."""
    rows = OptimisationExclusion.objects.filter(
        account_id__in=list(account_ids), quarter=quarter, status=ExclusionStatus.APPROVED
    ).select_related("lead_decided_by", "manager_decided_by")
    return {
        e.account_id: (
            e.amount,
            f"optimisation approved by {e.lead_decided_by} (team lead) and "
            f"{e.manager_decided_by} (manager)",
        )
        for e in rows
    }


def paid_invoice_counts(*, account_ids: Iterable[int]) -> dict[int, int]:
    """Paid invoices per account, counted up to two (all the commission rule needs). One query."""
    rows = (
        Invoice.objects.filter(account_id__in=list(account_ids), status=Invoice.Status.PAID)
        .values("account_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {r["account_id"]: min(r["n"], FIRST_PAID_INVOICES) for r in rows}


def quota_share(*, started_on: dt.date | None, quarter: dt.date) -> Decimal:
    """Share of a member's quota in the team quota: 1, 0.5 while ramping, 0 if joining later."""
    if started_on is None or started_on <= add_months(quarter, -RAMP_MONTHS):
        return Decimal(1)
    if started_on <= quarter:
        return RAMPING_SHARE
    return Decimal(0)


def team_quota(*, members: Iterable[User], quarter: dt.date) -> Decimal:
    """100% of ramped members' quotas plus 50% for those in their first three months."""
    return sum(
        (
            (m.quarterly_quota or ZERO) * quota_share(started_on=m.started_on, quarter=quarter)
            for m in members
        ),
        ZERO,
    ).quantize(Decimal("0.01"))
