"""Receiving an account as a CSM (sales/account-allocation "Receiving an account
as a CSM", "Pushing back"): what the incoming owner should dig into, computed
from data. Each flag is one small rule over the same facts; ``receiving_flags``
runs them in the handbook's order. ``Check.ok=False`` is a raised flag.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from accounts.models import Account, AccountSnapshot, Activity, ActivityKind, Plan
from accounts.segments import SPARKLINE_MONTHS, AccountWithRevenue, usage_history
from revopsweb.dates import company_today

from .checks import Check, PlanAndInvoices, _revenue, plan_and_invoices

# Receiving-as-a-CSM thresholds.
MRR_WINDOW_MONTHS = 6
MRR_DECLINE = Decimal("0.10")  # last month ≥ 10% below the first of the window
MRR_SWING = Decimal("0.25")  # a month-over-month change of 25% or more is a swing
MRR_VOLATILE_SWINGS = 2  # this many swings in the window = volatile
CREDIT_MISMATCH_HIGH = Decimal("1.5")  # credits last 1.5× longer than their term
CREDIT_MISMATCH_LOW = Decimal("0.5")  # or run out in half the term
DISCOUNT_STACKING = Decimal("0.10")  # commitment (≤5%) + cash timing (≤5%) on top of volume
MIN_ACTIVE_USERS = 3
ONE_SIDED_TOUCHES = 5  # the last N touches all ours, no customer reply
USAGE_WEEKS = 12
USAGE_SWING = Decimal("0.5")  # week-over-week events change of 50% or more
USAGE_EXPLAINED_DAYS = 14  # a note or conversation within two weeks explains it
PUSH_BACK_FLAGS = 3  # several flags → recommend pushing back

TOUCH_KINDS = (ActivityKind.EMAIL, ActivityKind.CALL, ActivityKind.MEETING, ActivityKind.SLACK)
EXPLAINING_KINDS = (*TOUCH_KINDS, ActivityKind.NOTE)


def standard_discount_max(arr: Decimal) -> Decimal:
    """The highest discount the handbook's levers give at this ARR: the volume
    tier plus commitment and cash-timing extras."""
    tiers = (
        (Decimal(500_000), Decimal("0.40")),
        (Decimal(250_000), Decimal("0.35")),
        (Decimal(100_000), Decimal("0.30")),
        (Decimal(60_000), Decimal("0.25")),
        (Decimal(25_000), Decimal("0.20")),
    )
    for floor, discount in tiers:
        if arr >= floor:
            return discount + DISCOUNT_STACKING
    return Decimal(0)


@dataclass
class ReceivingFacts:
    """What the receiving flags read about one account; each query runs at most
    once, when the first flag needing it asks."""

    account: Account
    today: dt.date
    facts: PlanAndInvoices
    figures: AccountWithRevenue

    @property
    def mrr(self) -> Decimal:
        return self.figures.mrr

    @property
    def arr(self) -> Decimal:
        return self.figures.arr

    @property
    def core_paid_count(self) -> int:
        return self.figures.core_paid_count

    @cached_property
    def weeks(self) -> list[tuple[dt.date, int | None, int | None]]:
        """(week, events, support tickets) of the last USAGE_WEEKS + 1 weeks, oldest first."""
        return list(
            AccountSnapshot.objects.filter(account=self.account, week__gte=self.usage_since)
            .order_by("week")
            .values_list("week", "events", "support_tickets")
        )

    @property
    def usage_since(self) -> dt.date:
        return self.today - dt.timedelta(weeks=USAGE_WEEKS + 1)


def open_invoices_flag(r: ReceivingFacts) -> Check:
    unpaid = len(r.facts.unpaid)
    return Check("invoices", "Open invoices", unpaid == 0, f"{unpaid} unpaid invoice(s).")


def mrr_trajectory_flag(r: ReceivingFacts) -> Check:
    """Declining (last month 10%+ below the first of 6) or volatile (2+ swings of 25%+),
    read from the usage ("is spend steady, declining, increasing, or swinging around?"),
    whatever credits paid for it."""
    series = usage_history([r.account.pk], today=r.today).get(
        r.account.pk, [Decimal(0)] * SPARKLINE_MONTHS
    )
    window = series[-MRR_WINDOW_MONTHS:]
    first, last = window[0], window[-1]
    declining = first > 0 and last <= first * (1 - MRR_DECLINE)
    swings = sum(
        1 for a, b in zip(window, window[1:], strict=False) if a > 0 and abs(b - a) >= a * MRR_SWING
    )
    volatile = swings >= MRR_VOLATILE_SWINGS
    trend = "declining" if declining else ("volatile" if volatile else "steady or growing")
    return Check(
        "mrr",
        "MRR trajectory",
        not (declining or volatile),
        f"Last 6 months ${first:,.0f} → ${last:,.0f}, {swings} swing(s) of 25%+: {trend}.",
    )


def credits_flag(r: ReceivingFacts) -> Check:
    """Pre-purchased credits that last far longer (or shorter) than their term at today's spend."""
    account, mrr, today = r.account, r.mrr, r.today
    label = "Credits vs monthly spend"
    if account.credit_balance <= 0:
        return Check("credits", label, True, "No pre-purchased credits.")
    if mrr <= 0:
        return Check(
            "credits", label, False, f"${account.credit_balance:,.0f} credits but no monthly spend."
        )
    if not (account.credit_expires_on and account.credit_expires_on > today):
        return Check(
            "credits", label, True, f"${account.credit_balance:,.0f} credits, no live expiry date."
        )
    months_left = Decimal((account.credit_expires_on - today).days) / Decimal("30.4")
    ratio = account.credit_balance / (mrr * months_left) if months_left > 0 else Decimal(0)
    return Check(
        "credits",
        label,
        CREDIT_MISMATCH_LOW <= ratio <= CREDIT_MISMATCH_HIGH,
        f"${account.credit_balance:,.0f} credits against ${mrr:,.0f}/month for "
        f"{months_left:.1f} months: {ratio:.0%} of the expected spend.",
    )


def discount_problems(*, discount: Decimal, account: Account, arr: Decimal) -> list[str]:
    """Why a discount is non-standard: undocumented, on a monthly plan, or above the levers."""
    if discount <= 0:
        return []
    problems: list[str] = []
    if not account.has_discount_agreement:
        problems.append("no documented discount agreement")
    if account.plan == Plan.MONTHLY:
        problems.append("we don't discount monthly plans")
    if discount > standard_discount_max(arr):
        problems.append(f"above the {standard_discount_max(arr):.0%} the levers give at this ARR")
    return problems


def discount_flag(r: ReceivingFacts) -> Check:
    discount = r.account.annual_discount or Decimal(0)
    problems = discount_problems(discount=discount, account=r.account, arr=r.arr)
    if problems:
        why = f"{discount:.0%} discount: " + "; ".join(problems) + "."
    else:
        why = f"{discount:.0%} discount, documented." if discount else "No discount."
    return Check("discount", "Non-standard discounts", not problems, why)


def core_coverage_flag(r: ReceivingFacts) -> Check:
    """Fewer than 3 core products without a documented reason there is no path to expand."""
    core = r.core_paid_count
    all_core: bool = r.figures.all_core_paid
    core_total: int = r.figures.core_product_total
    latest = r.facts.latest_plan
    documented = bool(latest and latest.no_viable_levers and latest.levers_tried.strip())
    if all_core:
        tail = "."
    elif documented:
        tail = ", reason documented in the plan."
    else:
        tail = ", no documented reason there is no path to expand."
    return Check(
        "core",
        "Core product coverage",
        all_core or documented,
        f"{core} of {core_total} core products{tail}",
    )


def user_concentration_flag(r: ReceivingFacts) -> Check:
    users = r.account.active_users_30d
    return Check(
        "users",
        "User concentration",
        users is not None and users >= MIN_ACTIVE_USERS,
        f"{users} active users (30 days)." if users is not None else "No active-user data.",
    )


def engagement_flag(r: ReceivingFacts) -> Check:
    """One-sided: the last ONE_SIDED_TOUCHES touches all ours, no customer reply."""
    touches = list(
        Activity.objects.filter(account=r.account, kind__in=TOUCH_KINDS)
        .order_by("-occurred_at", "-id")
        .values_list("from_customer", flat=True)[:ONE_SIDED_TOUCHES]
    )
    one_sided = len(touches) == ONE_SIDED_TOUCHES and not any(touches)
    if one_sided:
        why = f"No customer reply in the last {ONE_SIDED_TOUCHES} touches."
    elif touches:
        why = f"{sum(touches)} customer message(s) in the last {len(touches)} touches."
    else:
        why = "No touches recorded yet."
    return Check("engagement", "Two-sided engagement", not one_sided, why)


def plan_flag(r: ReceivingFacts) -> Check:
    plan_ok = bool(r.figures.has_current_plan)
    latest = r.facts.latest_plan
    if plan_ok:
        why = "This quarter's plan exists."
    else:
        why = f"Stale: latest is {latest.title}." if latest else "Missing: no account plan."
    return Check("plan", "Account plan current", plan_ok, why)


def unexplained_usage_swings(
    weeks: list[tuple[dt.date, int | None, int | None]], talked_days: list[dt.date]
) -> list[dt.date]:
    """Weeks whose events moved 50%+ from the week before with no conversation or
    note from a week before to USAGE_EXPLAINED_DAYS after. Pure."""
    unexplained: list[dt.date] = []
    for (_, before, _t), (week, after, _t2) in zip(weeks, weeks[1:], strict=False):
        if before and after is not None and abs(after - before) >= before * USAGE_SWING:
            window_end = week + dt.timedelta(days=USAGE_EXPLAINED_DAYS)
            if not any(week - dt.timedelta(days=7) <= d <= window_end for d in talked_days):
                unexplained.append(week)
    return unexplained


def usage_flag(r: ReceivingFacts) -> Check:
    talked = Activity.objects.filter(
        account=r.account,
        kind__in=EXPLAINING_KINDS,
        occurred_at__date__gte=r.usage_since,
        from_customer=False,
    ).values_list("occurred_at", flat=True)
    unexplained = unexplained_usage_swings(r.weeks, [company_today(now=t) for t in talked])
    return Check(
        "usage",
        "Usage changes explained",
        not unexplained,
        "Unexplained swing(s) of 50%+ in weekly events: "
        + ", ".join(f"{w:%d %b}" for w in unexplained)
        + "."
        if unexplained
        else "No unexplained weekly usage swings.",
    )


def support_tickets_flag(r: ReceivingFacts) -> Check:
    tickets = r.weeks[-1][2] if r.weeks else None
    return Check(
        "tickets",
        "Open support tickets",
        not tickets,
        f"{tickets} open support ticket(s) in the latest week." if tickets else "None open.",
    )


# The flags in the order the page lists them (the handbook's order).
RECEIVING_FLAGS: tuple[Callable[[ReceivingFacts], Check], ...] = (
    open_invoices_flag,
    mrr_trajectory_flag,
    credits_flag,
    discount_flag,
    core_coverage_flag,
    user_concentration_flag,
    engagement_flag,
    plan_flag,
    usage_flag,
    support_tickets_flag,
)


def receiving_flags(
    account: Account, *, today: dt.date, facts: PlanAndInvoices | None = None
) -> list[Check]:
    """What a receiving CSM should dig into, computed from data; ``ok=False`` is a
    raised flag. A fixed number of queries. Read-only."""
    facts = facts or plan_and_invoices(account, today=today)
    r = ReceivingFacts(
        account=account, today=today, facts=facts, figures=_revenue(account, today=today)
    )
    return [flag(r) for flag in RECEIVING_FLAGS]


def recommend_push_back(flags: list[Check]) -> bool:
    """Several flags → the page recommends pushing back."""
    return sum(1 for f in flags if not f.ok) >= PUSH_BACK_FLAGS
