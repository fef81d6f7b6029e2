"""Account handovers (sales/account-allocation "Handing over customers", "Account
handover checklist", "Receiving an account as a CSM", "Pushing back", "High
potential customers", "Top 40"; sales/how-we-work "Handing off customers").

A handover moves an account from its owner to a new owner through these states::

    proposed ─┬─ accept ──→ accepted ─ schedule_call → call_scheduled ─ hold_call → call_held ─ complete → completed
              └─ push_back → pushed_back ─ resubmit → proposed
    (any open state) ─ cancel → cancelled

Each step writes a HandoverEvent (who, when, note). Accepting is blocked while a
transition condition or precondition fails, and completing while a precondition
fails; a manager may do a blocked step anyway with a written reason, recorded on
the event. Ownership changes only at completion, through
accounts.ownership.change_account_owner, so the account's history shows it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet, Subquery
from django.utils import timezone

from billing.models import PAID_PRODUCT_MIN, Invoice, MonthlyRevenue

from .books import CORE_PRODUCTS, is_owner_lead_or_manager
from .handover_models import (
    OPEN_STATES,
    Handover,
    HandoverEvent,
    HandoverReason,
    HandoverState,
    OnboardingCheck,
)
from .models import (
    Account,
    AccountPlan,
    AccountSnapshot,
    Activity,
    ActivityKind,
    OwnerRole,
    Plan,
    User,
)
from .ownership import change_account_owner
from .roles import Role
from .segments import (
    SPARKLINE_MONTHS,
    latest_complete_month,
    mrr_history,
    quarter_end,
    quarter_start,
    with_revenue,
)

HIGH_POTENTIAL_ARR = Decimal(100_000)
# TAE handovers: typically 3 months after the initial credit purchase.
TAE_ONBOARDED_MONTHS = 3
TAE_RETAINED_MONTHS = 12

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

INVALID_REASONS = frozenset(
    {
        HandoverReason.UNRESPONSIVE,
        HandoverReason.CHAMPION_LEFT,
        HandoverReason.LOW_ENGAGEMENT,
        HandoverReason.DISLIKE,
    }
)
INVALID_REASON_EXPLANATION = (
    "Low engagement or an account being “difficult to work with” is not a reason to pass "
    "them off. That's literally your job. If an account is struggling on these dimensions, "
    "that's a signal you need to invest more effort – not hand them off. You should only "
    "hand off accounts that are in a good state."
)

# --- checklists from the handbook ---------------------------------------------

ONBOARDING_CHECKLIST: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "general": (
        "General principles",
        (
            ("support", "They know how to get support via Slack and in-app, and when in-app fits."),
            ("admins", "The correct owners and admins are set up in their PostHog organization."),
            ("finance", "We have the correct finance contact details in Stripe."),
        ),
    ),
    "product_analytics": (
        "Product analytics",
        (
            ("tracking", "Tracking set up, posthog.identify() and posthog.group() used correctly."),
            ("anon", "They know the difference between anonymous and identified events."),
            ("capture", "Event capture tuned; unwanted automatic events turned off."),
            ("training", "Core users trained on Actions, Cohorts and other concepts."),
            ("insights", "Insights and dashboards set up for their use case."),
        ),
    ),
    "session_replay": (
        "Session replay",
        (
            ("tracking", "Tracking set up with posthog-js."),
            ("controls", "They know the recording controls and how to use them."),
            ("privacy", "Privacy controls implemented where necessary."),
            ("training", "Core users trained to find recordings and navigate from other products."),
        ),
    ),
    "feature_flags": (
        "Feature flags",
        (
            ("workflow", "They understand how to integrate feature flags into their workflow."),
            ("calls", "Flag calls implemented so they don't inflate the bill."),
            ("targeting", "They understand the available targeting mechanisms."),
            ("training", "Training done on setting up Feature Flags and Experiments."),
        ),
    ),
    "data_warehouse": (
        "Data warehouse",
        (
            ("sources", "The sources they need are connected."),
            ("sync", "They know incremental vs full sync and the impact on billing."),
            ("training", "Training done on SQL, views and joining person data."),
        ),
    ),
    "error_tracking": (
        "Error tracking",
        (("tracking", "Tracking set up with posthog-js."),),
    ),
}

PREP_CHECKLIST: tuple[tuple[str, str], ...] = (
    (
        "overview",
        "Account overview – MRR, ARR, health score, segments, paid products, usage traits",
    ),
    (
        "billing",
        "Billing & contract details – plan dates, credit balances, discounts, renewal, limits",
    ),
    ("adoption", "Product adoption – which products are they paying for? What's underutilized?"),
    ("usage", "Usage metrics – active users, projects, flag requests, replay volume, dashboards"),
    ("support", "Support history – recent tickets, tags, severity, resolution status"),
    ("notes", "Conversations & notes – all notes, meeting summaries, conversation history"),
    ("customer_slack", "Customer Slack channel – who is active, issues, open threads"),
    ("internal_slack", "Internal Slack discussions – engineering, pricing, escalations"),
    ("opportunity", "CRM opportunity – deal value, stage, next steps, close date"),
    ("users", "Admin emails & user list – who's active, who has admin, which domains"),
    ("product", "The customer's product – what they do and how they make money"),
)

AGENDA_CHECKLIST: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Relationships & people",
        (
            ("champion", "Who is the champion? Role, communication style, motivation"),
            ("decision_maker", "Who is the economic decision-maker for renewals and expansion?"),
            ("power_users", "Who are the power users?"),
            ("org", "Org structure – parent/subsidiary, teams, reporting lines"),
            ("people_changes", "Recent people changes – champions left, new hires, reorgs"),
            ("vibe", "General vibe – easy, high-maintenance, responsive?"),
            ("comms", "Preferred communication style – Slack, email, calls or async?"),
            (
                "told",
                "Has the customer been told about the handover? How to introduce the new owner",
            ),
        ),
    ),
    (
        "Commercial context",
        (
            ("proposals", "Open proposals or negotiations needing follow-up"),
            ("renewal", "Renewal strategy and risks"),
            ("discounts", "Discount/credit context – why given, what was promised"),
            ("budget", "Budget & procurement – budget cycle, process, finance contacts"),
            ("expansion", "Expansion potential – realistic growth ceiling"),
        ),
    ),
    (
        "Technical & product state",
        (
            ("maturity", "Implementation maturity – basic or advanced setup"),
            ("issues", "Known technical issues – bugs, workarounds, frustrations"),
            ("integrations", "Integration landscape – other tools, competitors in play"),
            ("gaps", "Product gaps – blocking requests, committed delivery timelines"),
            ("onboarding", "Onboarding completeness per the onboarding checklist"),
        ),
    ),
    (
        "Risks & opportunities",
        (
            ("risks", "Top risks – champion, competitor, budget"),
            ("opportunities", "Top opportunities – lowest-hanging fruit"),
            ("unfinished", "Unfinished business"),
            ("avoid", "Anything to avoid – sensitive topics, past friction, politics"),
        ),
    ),
)


def checklist_labels() -> dict[str, str]:
    """Each key a handover's checklist may hold ("prep:…" and "agenda:…") with its label."""
    labels = {f"prep:{key}": label for key, label in PREP_CHECKLIST}
    for _, items in AGENDA_CHECKLIST:
        labels.update({f"agenda:{key}": label for key, label in items})
    return labels


# --- results ------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One condition, precondition or flag: its label, whether it passes, and why."""

    key: str
    label: str
    ok: bool
    why: str


@dataclass(frozen=True)
class Transition:
    key: str
    label: str
    timing: str
    condition: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


TRANSITIONS: dict[tuple[str, str], tuple[str, str]] = {
    (OwnerRole.TAE, OwnerRole.TAM): (
        "When onboarded, typically 3 months after the initial credit purchase "
        "(12 months if the TAE retains it)",
        "Customer onboarded to 1–2 primary products",
    ),
    (OwnerRole.TAE, OwnerRole.CSM): (
        "When onboarded, typically 3 months after the initial credit purchase "
        "(12 months if the TAE retains it)",
        "Customer onboarded to all three primary products",
    ),
    (OwnerRole.TAM, OwnerRole.CSM): (
        "After expansion completes",
        "All 3 core products adopted, discount agreement in place, no remaining expansion levers",
    ),
    (OwnerRole.CSM, OwnerRole.TAM): (
        "When an expansion opportunity is identified",
        "Customer not fully expanded and has clear growth potential",
    ),
}


def is_handover_transition(*, from_role: str, to_role: str) -> bool:
    """A handbook transition or a same-role takeover."""
    return from_role == to_role or (from_role, to_role) in TRANSITIONS


def handover_roles(from_role: str) -> list[str]:
    """Incoming roles an owner of ``from_role`` may hand to: the handbook's
    transitions first, then the same-role takeover."""
    roles = [to for (frm, to) in TRANSITIONS if frm == from_role]
    return [*roles, from_role] if from_role else []


def _months_between(start: dt.date, end: dt.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def _revenue(account: Account, *, today: dt.date) -> Account:
    """The account annotated with MRR, ARR, core products and plan freshness."""
    if hasattr(account, "core_paid_count") and hasattr(account, "has_current_plan"):
        return account
    return with_revenue(Account.objects.filter(pk=account.pk), today=today).get()


def top_40(account: Account, *, today: dt.date) -> bool:
    """Whether the account is in the Top 40 by ARR now (the books' segment; one
    query, none when ``account`` already carries the ``with_revenue`` annotations)."""
    return bool(getattr(_revenue(account, today=today), "is_top_40", False))


def transition_for(
    account: Account,
    *,
    from_role: str,
    to_role: str,
    today: dt.date,
    facts: PlanAndInvoices | None = None,
) -> Transition:
    """The transition ``from_role → to_role`` for this account with its conditions
    checked from data. Same-role moves (another TAM or TAE taking over
    mid-lifecycle) have no conditions beyond the preconditions. Read-only;
    ``facts`` (this quarter's plan) is passed when the caller has them."""
    figures = _revenue(account, today=today)
    core: int = figures.core_paid_count  # type: ignore[attr-defined]
    checks: list[Check] = []
    if from_role == to_role:
        return Transition(
            key=f"{from_role}_{to_role}".lower(),
            label=f"{from_role} → {to_role} (takeover)",
            timing="Mid-lifecycle, any time",
            condition="Another owner of the same role takes over; the handover checklist applies",
        )
    if (from_role, to_role) not in TRANSITIONS:
        return Transition(
            key=f"{from_role}_{to_role}".lower(),
            label=f"{from_role} → {to_role}",
            timing="–",
            condition="Not a handover the handbook describes",
            checks=[
                Check(
                    "known",
                    "Known transition",
                    False,
                    f"{from_role} → {to_role} is not one of the handbook's handovers.",
                )
            ],
        )
    timing, condition = TRANSITIONS[(from_role, to_role)]
    if from_role == OwnerRole.TAE:
        if to_role == OwnerRole.TAM:
            checks.append(
                Check(
                    "core",
                    "Onboarded to 1–2 primary products",
                    1 <= core <= 2,
                    f"Pays for {core} of the 3 primary products"
                    + (
                        "." if 1 <= core <= 2 else "; a TAM takes 1–2 (3 → CSM, 0 → not onboarded)."
                    ),
                )
            )
        else:
            checks.append(
                Check(
                    "core",
                    "Onboarded to all three primary products",
                    core >= CORE_PRODUCTS,
                    f"Pays for {core} of the 3 primary products.",
                )
            )
        if account.first_paid_month is None:
            checks.append(
                Check(
                    "timing",
                    "3 months since the initial purchase",
                    False,
                    "No first paid month recorded.",
                )
            )
        else:
            months = _months_between(account.first_paid_month, today)
            checks.append(
                Check(
                    "timing",
                    "3 months since the initial purchase",
                    months >= TAE_ONBOARDED_MONTHS,
                    f"First paid {account.first_paid_month:%b %Y}: {months} months ago"
                    + (
                        f" (a TAE may retain it up to {TAE_RETAINED_MONTHS} months)."
                        if months < TAE_RETAINED_MONTHS
                        else "."
                    ),
                )
            )
    elif from_role == OwnerRole.TAM:
        plan = (facts or plan_and_invoices(account, today=today)).current_plan
        checks += [
            Check(
                "core",
                "All 3 core products adopted",
                core >= CORE_PRODUCTS,
                f"Pays for {core} of the 3 primary products.",
            ),
            Check(
                "discount",
                "Discount agreement in place",
                account.has_discount_agreement,
                "Discount agreement recorded."
                if account.has_discount_agreement
                else "No discount agreement on the account.",
            ),
            Check(
                "levers",
                "No remaining expansion levers",
                bool(plan and plan.no_viable_levers and plan.levers_tried.strip()),
                "This quarter's plan marks no viable levers and documents what was tried."
                if plan and plan.no_viable_levers and plan.levers_tried.strip()
                else "This quarter's plan must mark no viable levers and document what was tried.",
            ),
        ]
    else:  # CSM → TAM
        plan = (facts or plan_and_invoices(account, today=today)).current_plan
        growth = bool(plan and not plan.no_viable_levers and plan.objectives.strip())
        checks += [
            Check(
                "core",
                "Not fully expanded",
                core < CORE_PRODUCTS,
                f"Pays for {core} of the 3 primary products.",
            ),
            Check(
                "growth",
                "Clear growth potential",
                growth,
                "This quarter's plan sets expansion objectives."
                if growth
                else "Write the expansion objectives in this quarter's account plan.",
            ),
        ]
    return Transition(
        key=f"{from_role}_{to_role}".lower(),
        label=f"{from_role} → {to_role}",
        timing=timing,
        condition=condition,
        checks=checks,
    )


# --- preconditions --------------------------------------------------------------


def paid_product_keys(account: Account, *, today: dt.date) -> list[str]:
    """Keys of every product the account paid more than $200 for last month."""
    return list(
        MonthlyRevenue.objects.filter(
            account=account, month=latest_complete_month(today), amount__gt=PAID_PRODUCT_MIN
        )
        .order_by("product__sort_order")
        .values_list("product__key", flat=True)
    )


def onboarding_sections(account: Account, *, today: dt.date) -> list[str]:
    """Sections of the onboarding checklist that apply: general principles plus
    each paid product that has a checklist."""
    paid = paid_product_keys(account, today=today)
    return ["general", *[key for key in paid if key in ONBOARDING_CHECKLIST]]


def onboarding_status(account: Account, *, today: dt.date) -> list[dict[str, object]]:
    """The applicable onboarding sections with each item and whether it is ticked."""
    ticked = set(OnboardingCheck.objects.filter(account=account).values_list("section", "item"))
    result: list[dict[str, object]] = []
    for section in onboarding_sections(account, today=today):
        title, items = ONBOARDING_CHECKLIST[section]
        rows = [
            {"key": key, "label": label, "done": (section, key) in ticked} for key, label in items
        ]
        result.append(
            {
                "section": section,
                "title": title,
                "items": rows,
                "done": all(r["done"] for r in rows),
            }
        )
    return result


@dataclass(frozen=True)
class PlanAndInvoices:
    """What the transition conditions, the preconditions and the receiving flags
    read: this quarter's plan, the account's latest plan and its unpaid invoice
    numbers (two queries, read once)."""

    current_plan: AccountPlan | None
    latest_plan: AccountPlan | None
    unpaid: list[str]


def plan_and_invoices(account: Account, *, today: dt.date) -> PlanAndInvoices:
    this_quarter = quarter_start(today)
    newest = (
        AccountPlan.objects.filter(account=account)
        .order_by("-quarter_start")
        .values("quarter_start")[:1]
    )
    # This quarter's plan and the newest plan in one query: one row when they
    # are the same, two when a later quarter's plan was already written.
    plans = list(
        AccountPlan.objects.filter(account=account)
        .filter(Q(quarter_start=this_quarter) | Q(quarter_start=Subquery(newest)))
        .order_by("-quarter_start")
    )
    return PlanAndInvoices(
        current_plan=next((p for p in plans if p.quarter_start == this_quarter), None),
        latest_plan=plans[0] if plans else None,
        unpaid=list(
            Invoice.objects.filter(
                account=account, status__in=[Invoice.Status.OPEN, Invoice.Status.FAILED]
            ).values_list("number", flat=True)
        ),
    )


def preconditions(
    account: Account,
    *,
    reason: str,
    today: dt.date,
    onboarding: list[dict[str, object]] | None = None,
    facts: PlanAndInvoices | None = None,
) -> list[Check]:
    """The handover preconditions, each pass/fail with why: a current account
    plan, no open invoices, onboarding complete for every paid product, a valid
    reason. Read-only; a fixed number of queries. ``onboarding`` (the account's
    ``onboarding_status``) and ``facts`` are passed when the caller has them."""
    facts = facts or plan_and_invoices(account, today=today)
    plan = facts.current_plan
    latest = facts.latest_plan
    checks = [
        Check(
            "plan",
            "Current account plan",
            plan is not None,
            f"{plan.title} saved."
            if plan
            else (
                f"Latest plan is {latest.title}; write this quarter's."
                if latest
                else "No account plan yet."
            ),
        )
    ]
    unpaid = facts.unpaid
    checks.append(
        Check(
            "invoices",
            "All open invoices paid",
            not unpaid,
            "No open invoices."
            if not unpaid
            else f"Unpaid: {', '.join(unpaid)}. Chase them before handing over.",
        )
    )
    status = onboarding if onboarding is not None else onboarding_status(account, today=today)
    missing = [str(s["title"]) for s in status if not s["done"]]
    checks.append(
        Check(
            "onboarding",
            "Onboarded to every paid product",
            not missing,
            "Checklist complete for " + ", ".join(str(s["title"]) for s in status) + "."
            if not missing
            else "Checklist incomplete: " + ", ".join(missing) + ".",
        )
    )
    checks.append(reason_check(reason))
    return checks


def reason_check(reason: str) -> Check:
    if reason in INVALID_REASONS:
        return Check(
            "reason",
            "Valid reason",
            False,
            f"{HandoverReason(reason).label}: {INVALID_REASON_EXPLANATION}",
        )
    if reason not in HandoverReason.values:
        return Check("reason", "Valid reason", False, "Choose a reason.")
    return Check("reason", "Valid reason", True, HandoverReason(reason).label + ".")


# --- receiving-as-a-CSM flags -----------------------------------------------------


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


def receiving_flags(
    account: Account, *, today: dt.date, facts: PlanAndInvoices | None = None
) -> list[Check]:
    """What a receiving CSM should dig into, computed from data; ``ok=False`` is a
    raised flag. A fixed number of queries. Read-only."""
    facts = facts or plan_and_invoices(account, today=today)
    figures = _revenue(account, today=today)
    flags: list[Check] = []

    unpaid = len(facts.unpaid)
    flags.append(Check("invoices", "Open invoices", unpaid == 0, f"{unpaid} unpaid invoice(s)."))

    series = mrr_history([account.pk], today=today).get(account.pk, [Decimal(0)] * SPARKLINE_MONTHS)
    window = series[-MRR_WINDOW_MONTHS:]
    first, last = window[0], window[-1]
    declining = first > 0 and last <= first * (1 - MRR_DECLINE)
    swings = sum(
        1 for a, b in zip(window, window[1:], strict=False) if a > 0 and abs(b - a) >= a * MRR_SWING
    )
    volatile = swings >= MRR_VOLATILE_SWINGS
    trend = "declining" if declining else ("volatile" if volatile else "steady or growing")
    flags.append(
        Check(
            "mrr",
            "MRR trajectory",
            not (declining or volatile),
            f"Last 6 months ${first:,.0f} → ${last:,.0f}, {swings} swing(s) of 25%+: {trend}.",
        )
    )

    mrr: Decimal = figures.mrr  # type: ignore[attr-defined]
    credit_ok, credit_why = True, "No pre-purchased credits."
    if account.credit_balance > 0:
        if mrr <= 0:
            credit_ok, credit_why = (
                False,
                f"${account.credit_balance:,.0f} credits but no monthly spend.",
            )
        elif account.credit_expires_on and account.credit_expires_on > today:
            months_left = Decimal((account.credit_expires_on - today).days) / Decimal("30.4")
            ratio = account.credit_balance / (mrr * months_left) if months_left > 0 else Decimal(0)
            credit_ok = CREDIT_MISMATCH_LOW <= ratio <= CREDIT_MISMATCH_HIGH
            credit_why = (
                f"${account.credit_balance:,.0f} credits against ${mrr:,.0f}/month for "
                f"{months_left:.1f} months: {ratio:.0%} of the expected spend."
            )
        else:
            credit_why = f"${account.credit_balance:,.0f} credits, no live expiry date."
    flags.append(Check("credits", "Credits vs monthly spend", credit_ok, credit_why))

    discount = account.annual_discount or Decimal(0)
    arr: Decimal = figures.arr  # type: ignore[attr-defined]
    discount_problems: list[str] = []
    if discount > 0:
        if not account.has_discount_agreement:
            discount_problems.append("no documented discount agreement")
        if account.plan == Plan.MONTHLY:
            discount_problems.append("we don't discount monthly plans")
        if discount > standard_discount_max(arr):
            discount_problems.append(
                f"above the {standard_discount_max(arr):.0%} the levers give at this ARR"
            )
    flags.append(
        Check(
            "discount",
            "Non-standard discounts",
            not discount_problems,
            f"{discount:.0%} discount: " + "; ".join(discount_problems) + "."
            if discount_problems
            else (f"{discount:.0%} discount, documented." if discount else "No discount."),
        )
    )

    core: int = figures.core_paid_count  # type: ignore[attr-defined]
    latest = facts.latest_plan
    documented = bool(latest and latest.no_viable_levers and latest.levers_tried.strip())
    flags.append(
        Check(
            "core",
            "Core product coverage",
            core >= CORE_PRODUCTS or documented,
            f"{core} of 3 core products"
            + (
                "."
                if core >= CORE_PRODUCTS
                else (
                    ", reason documented in the plan."
                    if documented
                    else ", no documented reason there is no path to expand."
                )
            ),
        )
    )

    users = account.active_users_30d
    flags.append(
        Check(
            "users",
            "User concentration",
            users is not None and users >= MIN_ACTIVE_USERS,
            f"{users} active users (30 days)." if users is not None else "No active-user data.",
        )
    )

    touches = list(
        Activity.objects.filter(account=account, kind__in=TOUCH_KINDS)
        .order_by("-occurred_at", "-id")
        .values_list("from_customer", flat=True)[:ONE_SIDED_TOUCHES]
    )
    one_sided = len(touches) == ONE_SIDED_TOUCHES and not any(touches)
    flags.append(
        Check(
            "engagement",
            "Two-sided engagement",
            not one_sided,
            f"No customer reply in the last {ONE_SIDED_TOUCHES} touches."
            if one_sided
            else (
                f"{sum(touches)} customer message(s) in the last {len(touches)} touches."
                if touches
                else "No touches recorded yet."
            ),
        )
    )

    plan_ok = bool(figures.has_current_plan)  # type: ignore[attr-defined]
    flags.append(
        Check(
            "plan",
            "Account plan current",
            plan_ok,
            "This quarter's plan exists."
            if plan_ok
            else (f"Stale: latest is {latest.title}." if latest else "Missing: no account plan."),
        )
    )

    since = today - dt.timedelta(weeks=USAGE_WEEKS + 1)
    weeks = list(
        AccountSnapshot.objects.filter(account=account, week__gte=since)
        .order_by("week")
        .values_list("week", "events", "support_tickets")
    )
    talked = list(
        Activity.objects.filter(
            account=account,
            kind__in=EXPLAINING_KINDS,
            occurred_at__date__gte=since,
            from_customer=False,
        ).values_list("occurred_at", flat=True)
    )
    talked_days = [timezone.localdate(t) for t in talked]
    unexplained: list[dt.date] = []
    for (_, before, _t), (week, after, _t2) in zip(weeks, weeks[1:], strict=False):
        if before and after is not None and abs(after - before) >= before * USAGE_SWING:
            window_end = week + dt.timedelta(days=USAGE_EXPLAINED_DAYS)
            if not any(week - dt.timedelta(days=7) <= d <= window_end for d in talked_days):
                unexplained.append(week)
    flags.append(
        Check(
            "usage",
            "Usage changes explained",
            not unexplained,
            "Unexplained swing(s) of 50%+ in weekly events: "
            + ", ".join(f"{w:%d %b}" for w in unexplained)
            + "."
            if unexplained
            else "No unexplained weekly usage swings.",
        )
    )

    tickets = weeks[-1][2] if weeks else None
    flags.append(
        Check(
            "tickets",
            "Open support tickets",
            not tickets,
            f"{tickets} open support ticket(s) in the latest week." if tickets else "None open.",
        )
    )
    return flags


def recommend_push_back(flags: list[Check]) -> bool:
    """Several flags → the page recommends pushing back."""
    return sum(1 for f in flags if not f.ok) >= PUSH_BACK_FLAGS


# --- timing and high potential -----------------------------------------------------


def attribution_timing(
    *, from_role: str, account: Account, today: dt.date
) -> tuple[dt.date, dt.date | None]:
    """When quota attribution moves: removals from a TAM's managed (AM-managed)
    book wait for quarter end (effective the day after); TAE and other handovers
    take effect today. Returns (effective day, quarter end waited for or None)."""
    if from_role == OwnerRole.TAM and account.am_managed:
        end = quarter_end(today)
        return end + dt.timedelta(days=1), end
    return today, None


def high_potential(account: Account, *, today: dt.date) -> Check:
    """A TAE-led customer landing at $100k+ a year (ARR or forecasted MRR × 12)."""
    figures = _revenue(account, today=today)
    arr: Decimal = figures.arr  # type: ignore[attr-defined]
    forecast = (account.forecasted_mrr or Decimal(0)) * 12
    landing = max(arr, forecast)
    return Check(
        "high_potential",
        "Landing at $100k+ a year",
        landing >= HIGH_POTENTIAL_ARR,
        f"Landing at ${landing:,.0f} a year.",
    )


@transaction.atomic
def add_tam_overlay(
    *, account: Account, tam: User, by: User, expansion_note: str, today: dt.date
) -> Activity:
    """Introduce a TAM early on a high-potential TAE-led account: sets the TAM
    overlay, not the owner (the TAE keeps the deal and the commission). Needs a
    $100k+ landing or a written note on the high expansion potential. Only the
    TAE owner, their team lead or a manager. Idempotent for the same TAM."""
    if account.owner_role != OwnerRole.TAE:
        raise ValidationError("An early TAM overlay is for TAE-led accounts.")
    if not tam.has_role(Role.TAM):
        raise ValidationError(f"{tam} is not a TAM.")
    if not is_owner_lead_or_manager(by, account):
        raise PermissionDenied("Only the TAE owner, their team lead or a manager adds an overlay.")
    if not high_potential(account, today=today).ok and not expansion_note.strip():
        raise ValidationError(
            "Below a $100k landing: describe the high expansion potential to add a TAM early."
        )
    Account.objects.filter(pk=account.pk).update(tam_overlay=tam)
    account.tam_overlay = tam
    return Activity.objects.create(
        account=account,
        kind=ActivityKind.NOTE,
        author=by,
        occurred_at=timezone.now(),
        summary=f"{tam} introduced early as TAM overlay (ownership stays with the TAE)",
        body=expansion_note,
    )


# --- permissions ----------------------------------------------------------------------


def _leads_of(handover: Handover) -> set[int]:
    return {
        pk
        for pk in (handover.from_owner.team_lead_id, handover.to_owner.team_lead_id)
        if pk is not None
    }


def can_act(user: User, handover: Handover) -> bool:
    """Only the parties, their team leads and managers act on a handover."""
    return (
        user.is_manager
        or user.pk in (handover.from_owner_id, handover.to_owner_id, handover.proposed_by_id)
        or user.pk in _leads_of(handover)
    )


def visible_handovers(user: User) -> QuerySet[Handover]:
    """Handovers the user may open: managers all; others those they are a party
    to or lead a party of."""
    qs = Handover.objects.all()
    if user.is_manager:
        return qs
    return qs.filter(
        Q(from_owner=user)
        | Q(to_owner=user)
        | Q(proposed_by=user)
        | Q(from_owner__team_lead=user)
        | Q(to_owner__team_lead=user)
    )


def _incoming_side(user: User, handover: Handover) -> bool:
    return (
        user.is_manager
        or user.pk == handover.to_owner_id
        or user.pk == handover.to_owner.team_lead_id
    )


def _outgoing_side(user: User, handover: Handover) -> bool:
    return (
        user.is_manager
        or user.pk in (handover.from_owner_id, handover.proposed_by_id)
        or user.pk == handover.from_owner.team_lead_id
    )


# --- proposing ---------------------------------------------------------------------


def role_of(user: User) -> str:
    """The role a person takes an account in (TAE, TAM or CSM)."""
    for role in (OwnerRole.TAM, OwnerRole.CSM, OwnerRole.TAE):
        if user.has_role(role):
            return role
    return ""


@transaction.atomic
def propose_handover(
    *,
    account: Account,
    to_owner: User,
    to_role: str,
    reason: str,
    reason_detail: str,
    by: User,
    today: dt.date,
) -> Handover:
    """Open a handover of ``account`` from its owner to ``to_owner``.

    Refuses (ValidationError) an unowned account, handing to the current owner,
    an invalid reason (with the handbook's explanation), a second open handover
    of the same account; PermissionDenied for anyone but the owner, their team
    lead or a manager, and for a non-manager on a Top 40 account. Conditions and
    preconditions may still fail: they block accepting, not proposing.
    """
    if account.owner is None:
        raise ValidationError(
            "This account has no owner: it is assigned at allocation, not handed over."
        )
    if not is_owner_lead_or_manager(by, account):
        raise PermissionDenied("Only the owner, their team lead or a manager proposes a handover.")
    if top_40(account, today=today) and not by.is_manager:
        raise PermissionDenied("Top 40 account: only a manager proposes or approves a handover.")
    if to_owner.pk == account.owner_id:
        raise ValidationError("The incoming owner already owns the account.")
    if to_role not in (OwnerRole.TAE, OwnerRole.TAM, OwnerRole.CSM):
        raise ValidationError("The incoming role must be TAE, TAM or CSM.")
    if not is_handover_transition(from_role=account.owner_role, to_role=to_role):
        raise ValidationError(
            f"{account.owner_role} → {to_role} is not one of the handbook's handovers."
        )
    if not to_owner.has_role(to_role):
        raise ValidationError(f"{to_owner} does not work as a {to_role}.")
    check = reason_check(reason)
    if not check.ok:
        raise ValidationError(check.why)
    locked = Account.objects.select_for_update().get(pk=account.pk)
    if locked.owner_id is None or locked.owner_id != account.owner_id:
        raise ValidationError("The account's owner changed meanwhile; reload and propose again.")
    if Handover.objects.filter(account=locked, state__in=OPEN_STATES).exists():
        raise ValidationError("This account already has an open handover.")
    now = timezone.now()
    handover = Handover.objects.create(
        account=locked,
        from_owner_id=locked.owner_id,
        from_role=locked.owner_role,
        to_owner=to_owner,
        to_role=to_role,
        reason=reason,
        reason_detail=reason_detail,
        proposed_by=by,
        proposed_at=now,
        state_changed_at=now,
    )
    HandoverEvent.objects.create(
        handover=handover,
        action="propose",
        to_state=HandoverState.PROPOSED,
        actor=by,
        at=now,
        note=f"{HandoverReason(reason).label}. {reason_detail}".strip(),
    )
    return handover


# --- steps ----------------------------------------------------------------------------


class Step:
    ACCEPT = "accept"
    PUSH_BACK = "push_back"
    RESUBMIT = "resubmit"
    SCHEDULE_CALL = "schedule_call"
    HOLD_CALL = "hold_call"
    COMPLETE = "complete"
    CANCEL = "cancel"

    LABELS: dict[str, str] = {  # noqa: RUF012
        ACCEPT: "Accept",
        PUSH_BACK: "Push back",
        RESUBMIT: "Resubmit",
        SCHEDULE_CALL: "Schedule the handover call",
        HOLD_CALL: "Call held",
        COMPLETE: "Complete (intro sent)",
        CANCEL: "Cancel",
    }


MOVES: dict[str, tuple[tuple[str, ...], str]] = {
    Step.ACCEPT: ((HandoverState.PROPOSED,), HandoverState.ACCEPTED),
    Step.PUSH_BACK: ((HandoverState.PROPOSED, HandoverState.ACCEPTED), HandoverState.PUSHED_BACK),
    Step.RESUBMIT: ((HandoverState.PUSHED_BACK,), HandoverState.PROPOSED),
    Step.SCHEDULE_CALL: (
        (HandoverState.ACCEPTED, HandoverState.CALL_SCHEDULED),
        HandoverState.CALL_SCHEDULED,
    ),
    Step.HOLD_CALL: ((HandoverState.CALL_SCHEDULED,), HandoverState.CALL_HELD),
    Step.COMPLETE: ((HandoverState.CALL_HELD,), HandoverState.COMPLETED),
    Step.CANCEL: (tuple(OPEN_STATES), HandoverState.CANCELLED),
}

NEXT_STEP: dict[str, str] = {
    HandoverState.PROPOSED: "Incoming owner accepts or pushes back",
    HandoverState.PUSHED_BACK: "Outgoing owner fixes the issues and resubmits",
    HandoverState.ACCEPTED: "Schedule the 15–30 minute handover call",
    HandoverState.CALL_SCHEDULED: "Hold the handover call",
    HandoverState.CALL_HELD: "Send the intro and complete",
    HandoverState.COMPLETED: "Done",
    HandoverState.CANCELLED: "–",
}


def available_steps(user: User, handover: Handover) -> list[str]:
    """Steps the user may try from the handover's current state."""
    if not can_act(user, handover):
        return []
    steps = [s for s, (sources, _) in MOVES.items() if handover.state in sources]
    allowed = []
    for step in steps:
        if step in (Step.ACCEPT, Step.PUSH_BACK) and not _incoming_side(user, handover):
            continue
        if step in (Step.RESUBMIT, Step.CANCEL) and not _outgoing_side(user, handover):
            continue
        allowed.append(step)
    return allowed


BLOCKABLE_STEPS = (Step.ACCEPT, Step.COMPLETE)


def failing_checks(
    step: str, *, transition_checks: list[Check], conditions: list[Check]
) -> list[Check]:
    """The failing checks that block ``step``: accepting needs the transition's
    conditions and every precondition; completing needs the preconditions.
    Pure: give it what ``transition_for`` and ``preconditions`` returned."""
    if step not in BLOCKABLE_STEPS:
        return []
    checks = [*transition_checks, *conditions] if step == Step.ACCEPT else conditions
    return [c for c in checks if not c.ok]


def blockers(handover: Handover, *, step: str, today: dt.date) -> list[Check]:
    """``failing_checks`` for ``step``, computing only the checks the step needs."""
    if step not in BLOCKABLE_STEPS:
        return []
    facts = plan_and_invoices(handover.account, today=today)
    transition_checks = (
        transition_for(
            handover.account,
            from_role=handover.from_role,
            to_role=handover.to_role,
            today=today,
            facts=facts,
        ).checks
        if step == Step.ACCEPT
        else []
    )
    return failing_checks(
        step,
        transition_checks=transition_checks,
        conditions=preconditions(
            handover.account, reason=handover.reason, today=today, facts=facts
        ),
    )


@transaction.atomic
def advance_handover(
    *,
    handover: Handover,
    step: str,
    by: User,
    today: dt.date,
    note: str = "",
    override_reason: str = "",
    call_at: dt.datetime | None = None,
    intro_sent: bool = False,
) -> Handover:
    """Take one step of the workflow and record it as a HandoverEvent.

    Raises PermissionDenied for anyone but the parties, their team leads and
    managers (accept/push back: the incoming side; Top 40 accept: managers
    only), ValidationError for a step the state does not allow, a push back
    without reasons, a call without a time, completion without the intro, or a
    blocked step (failing conditions or preconditions) unless a manager gives
    ``override_reason``. Completing sets the new owner through
    change_account_owner (the outgoing owner is unassigned; quota attribution
    moves at quarter end for TAM managed books). A step already taken by a
    concurrent request fails on the state check, so a retry cannot complete twice.
    """
    locked = (
        Handover.objects.select_for_update()
        .select_related("account", "from_owner", "to_owner")
        .get(pk=handover.pk)
    )
    if step not in MOVES:
        raise ValidationError(f"Unknown step {step!r}.")
    if not can_act(by, locked):
        raise PermissionDenied("Only the parties, their team leads and managers act on a handover.")
    if step not in available_steps(by, locked):
        if locked.state in MOVES[step][0]:
            raise PermissionDenied(
                f"{Step.LABELS[step]} is for the incoming owner's side or a manager."
            )
        raise ValidationError(
            f"Cannot {Step.LABELS[step].lower()} a handover that is {locked.get_state_display().lower()}."
        )
    if step == Step.ACCEPT:
        # One revenue read serves the Top 40 rule here and the transition's conditions below.
        locked.account = _revenue(locked.account, today=today)
        if top_40(locked.account, today=today) and not by.is_manager:
            raise PermissionDenied("Top 40 account: only a manager approves a handover.")
    override_reason = override_reason.strip()
    failing = blockers(locked, step=step, today=today)
    if failing:
        if not override_reason:
            raise ValidationError("Blocked: " + " ".join(f"{c.label}: {c.why}" for c in failing))
        if not by.is_manager:
            raise PermissionDenied("Only a manager overrides a blocked step.")
        if any(c.key == "reason" for c in failing):
            raise ValidationError(INVALID_REASON_EXPLANATION)
    elif override_reason:
        override_reason = ""  # nothing was blocked: nothing to override
    if step == Step.PUSH_BACK:
        if not note.strip():
            raise ValidationError("Say why you push back (which flags, what needs fixing).")
        locked.pushback_reasons = note.strip()
    if step == Step.SCHEDULE_CALL:
        if call_at is None:
            raise ValidationError("Give the call's date and time.")
        locked.call_at = call_at
    now = timezone.now()
    if step == Step.COMPLETE:
        if not intro_sent:
            raise ValidationError("Record the introduction to the customer before completing.")
        account = locked.account
        effective_on, waited_for = attribution_timing(
            from_role=locked.from_role, account=account, today=today
        )
        change = change_account_owner(
            account=account,
            new_owner=locked.to_owner,
            new_owner_role=locked.to_role,
            changed_by=by,
            reason=f"Handover #{locked.pk} ({locked.transition_label}): "
            f"{HandoverReason(locked.reason).label}",
            source="handover",
            effective_on=effective_on,
        )
        fields: dict[str, object] = {"new_owner_trait": ""}
        if account.tam_overlay_id in (locked.to_owner_id, locked.from_owner_id):
            fields["tam_overlay"] = None
        Account.objects.filter(pk=account.pk).update(**fields)
        locked.ownership_change = change
        locked.attribution_moves_on = effective_on
        locked.quarter_end = waited_for
        locked.intro_sent_at = now
        locked.intro_note = note.strip()[:300]
        locked.completed_at = now
    previous = locked.state
    locked.state = MOVES[step][1]
    locked.state_changed_at = now
    locked.save()
    HandoverEvent.objects.create(
        handover=locked,
        action=step,
        from_state=previous,
        to_state=locked.state,
        actor=by,
        at=now,
        note=note.strip(),
        override_reason=override_reason,
    )
    return locked


# --- checklists -----------------------------------------------------------------------


@transaction.atomic
def tick_checklist_item(
    *, handover: Handover, key: str, done: bool, note: str, by: User
) -> Handover:
    """Tick or untick one preparation/agenda item and save its note.

    A change goes on the handover's timeline (who ticked what, when); saving
    the same tick and note again changes nothing and records nothing.
    """
    labels = checklist_labels()
    if key not in labels:
        raise ValidationError(f"Unknown checklist item {key!r}.")
    locked = (
        Handover.objects.select_for_update()
        .select_related("from_owner", "to_owner")
        .get(pk=handover.pk)
    )
    if not can_act(by, locked):
        raise PermissionDenied(
            "Only the parties, their team leads and managers edit the checklist."
        )
    entry = {"done": done, "note": note.strip()[:1000]}
    previous = locked.checklist.get(key, {"done": False, "note": ""})
    if previous == entry:
        return locked
    locked.checklist = {**locked.checklist, key: entry}
    locked.save(update_fields=["checklist"])
    what = "Ticked" if done else "Unticked"
    if previous.get("done") == done:
        what = "Note on"
    HandoverEvent.objects.create(
        handover=locked,
        action="checklist",
        actor=by,
        at=timezone.now(),
        note=f"{what} “{labels[key]}”" + (f": {entry['note']}" if entry["note"] else ""),
    )
    return locked


@transaction.atomic
def save_handover_notes(*, handover: Handover, notes: str, by: User) -> Handover:
    if not can_act(by, handover):
        raise PermissionDenied("Only the parties, their team leads and managers edit the notes.")
    Handover.objects.filter(pk=handover.pk).update(notes=notes)
    handover.notes = notes
    return handover


@transaction.atomic
def set_onboarding_item(*, account: Account, section: str, item: str, done: bool, by: User) -> None:
    """Tick or untick one onboarding item of ``account`` for ``section`` (general
    or a product key). Idempotent."""
    if section not in ONBOARDING_CHECKLIST or item not in dict(ONBOARDING_CHECKLIST[section][1]):
        raise ValidationError(f"Unknown onboarding item {section}:{item}.")
    if done:
        OnboardingCheck.objects.get_or_create(
            account=account,
            section=section,
            item=item,
            defaults={"checked_by": by, "checked_at": timezone.now()},
        )
    else:
        OnboardingCheck.objects.filter(account=account, section=section, item=item).delete()
