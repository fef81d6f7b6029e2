"""What a handover checks (sales/account-allocation "Handing over customers",
"Receiving an account as a CSM", "Pushing back"; sales/how-we-work "Handing off
customers"): each transition's conditions, the preconditions, the reason, and
the flags a receiving CSM digs into. Every check is a ``Check`` (pass/fail and
why); all of it is read-only with a fixed number of queries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import cast

from django.db.models import Q, Subquery

from accounts.books import TAM_MAX_ACCOUNTS, book_at_quarter_start
from accounts.models import Account, AccountPlan, OwnerRole, Plan, User
from accounts.segments import ARR_20K, ARR_50K, AccountWithRevenue, with_revenue
from billing.models import Invoice
from billing.revenue_data import first_paid_months
from revopsweb.dates import months_between, quarter_start

from .checklists import onboarding_status
from .models import HandoverReason

# TAE handovers: typically 3 months after the initial credit purchase.
TAE_ONBOARDED_MONTHS = 3
TAE_RETAINED_MONTHS = 12

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
    to_role: str = ""

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


# Which reasons fit which move (sales/account-allocation): a TAE hands over a customer
# once it is onboarded; a TAM removes an account to a CSM when it is fully expanded
# and committed, has no viable levers, the book is over 15 at quarter start or the
# account is on the YC plan ($20k–$50k go to the YC role on the CS team); a CSM
# hands to a TAM when an expansion opportunity is identified; another owner of the
# same role takes over when the owner leaves or changes role (and a TAM book over
# 15 may move accounts to "another TAM"). An owner leaving fits every move.
TRANSITION_REASONS: dict[tuple[str, str], tuple[HandoverReason, ...]] = {
    (OwnerRole.TAE, OwnerRole.TAM): (HandoverReason.ONBOARDED, HandoverReason.OWNER_CHANGE),
    (OwnerRole.TAE, OwnerRole.CSM): (HandoverReason.ONBOARDED, HandoverReason.OWNER_CHANGE),
    (OwnerRole.TAM, OwnerRole.CSM): (
        HandoverReason.FULLY_EXPANDED,
        HandoverReason.NO_LEVERS,
        HandoverReason.BOOK_OVER_CAP,
        HandoverReason.YC_PLAN,
        HandoverReason.OWNER_CHANGE,
    ),
    (OwnerRole.CSM, OwnerRole.TAM): (HandoverReason.EXPANSION, HandoverReason.OWNER_CHANGE),
    (OwnerRole.TAE, OwnerRole.TAE): (HandoverReason.OWNER_CHANGE,),
    (OwnerRole.TAM, OwnerRole.TAM): (HandoverReason.OWNER_CHANGE, HandoverReason.BOOK_OVER_CAP),
    (OwnerRole.CSM, OwnerRole.CSM): (HandoverReason.OWNER_CHANGE, HandoverReason.YC_PLAN),
}


def reasons_for(*, from_role: str, to_role: str) -> list[HandoverReason]:
    """The reasons offered for handing an account from ``from_role`` to ``to_role``
    (sales/account-allocation): empty for a move the handbook does not describe.
    The handbook's invalid reasons are never offered (they are refused with its
    explanation when posted anyway)."""
    return list(TRANSITION_REASONS.get((from_role, to_role), ()))


def is_handover_transition(*, from_role: str, to_role: str) -> bool:
    """A handbook transition or a same-role takeover."""
    return from_role == to_role or (from_role, to_role) in TRANSITIONS


def handover_roles(from_role: str) -> list[str]:
    """Incoming roles an owner of ``from_role`` may hand to: the handbook's
    transitions first, then the same-role takeover."""
    roles = [to for (frm, to) in TRANSITIONS if frm == from_role]
    return [*roles, from_role] if from_role else []


def _revenue(account: Account, *, today: dt.date) -> AccountWithRevenue:
    """The account annotated with MRR, ARR, core products and plan freshness."""
    if hasattr(account, "core_paid_count") and hasattr(account, "has_current_plan"):
        # Already read through with_revenue by the caller (the propose page).
        return cast(AccountWithRevenue, account)
    return with_revenue(Account.objects.filter(pk=account.pk), today=today).get()


def top_40(account: Account, *, today: dt.date) -> bool:
    """Whether the account is in the Top 40 by ARR now (the books' segment; one
    query, none when ``account`` already carries the ``with_revenue`` annotations)."""
    return bool(getattr(_revenue(account, today=today), "is_top_40", False))


def needs_a_manager(account: Account, *, by: User, today: dt.date) -> bool:
    """Whether ``account`` is a Top 40 account and ``by`` is not a manager: only a
    manager proposes or approves its handover (``top_40``'s queries)."""
    return not by.is_manager and top_40(account, today=today)


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
    core: int = figures.core_paid_count
    # Core products are the catalog's (billing.Product.is_core), not a count of three.
    all_core: bool = figures.all_core_paid
    core_total: int = figures.core_product_total
    checks: list[Check] = []
    if from_role == to_role:
        return Transition(
            key=f"{from_role}_{to_role}".lower(),
            label=f"{from_role} → {to_role} (takeover)",
            timing="Mid-lifecycle, any time",
            condition="Another owner of the same role takes over; the handover checklist applies",
            to_role=to_role,
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
            to_role=to_role,
        )
    timing, condition = TRANSITIONS[(from_role, to_role)]
    if from_role == OwnerRole.TAE:
        if to_role == OwnerRole.TAM:
            checks.append(
                Check(
                    "core",
                    "Onboarded to 1–2 primary products",
                    core >= 1 and not all_core,
                    f"Pays for {core} of the {core_total} primary products"
                    + (
                        "."
                        if core >= 1 and not all_core
                        else "; a TAM takes 1–2 (3 → CSM, 0 → not onboarded)."
                    ),
                )
            )
        else:
            checks.append(
                Check(
                    "core",
                    "Onboarded to all three primary products",
                    all_core,
                    f"Pays for {core} of the {core_total} primary products.",
                )
            )
        # The initial purchase is read from monthly revenue (the first month
        # with a paid amount), never from a hand-kept field.
        first_paid = first_paid_months(account_ids=[account.pk]).get(account.pk)
        if first_paid is None:
            checks.append(
                Check(
                    "timing",
                    "3 months since the initial purchase",
                    False,
                    "No paid month in the imported revenue.",
                )
            )
        else:
            months = months_between(first_paid, today)
            checks.append(
                Check(
                    "timing",
                    "3 months since the initial purchase",
                    months >= TAE_ONBOARDED_MONTHS,
                    f"First paid {first_paid:%b %Y}: {months} months ago"
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
                all_core,
                f"Pays for {core} of the {core_total} primary products.",
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
                not all_core,
                f"Pays for {core} of the {core_total} primary products.",
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
        to_role=to_role,
    )


# --- preconditions --------------------------------------------------------------


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
    transition: tuple[str, str] | None = None,
) -> list[Check]:
    """The handover preconditions, each pass/fail with why: a current account
    plan, no open invoices, onboarding complete for every paid product, a valid
    reason (for ``transition``, (from role, to role), when given). Read-only; a
    fixed number of queries. ``onboarding`` (the account's ``onboarding_status``)
    and ``facts`` are passed when the caller has them."""
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
    checks.append(reason_check(reason, transition=transition))
    return checks


def reason_check(reason: str, *, transition: tuple[str, str] | None = None) -> Check:
    """Whether ``reason`` is a valid reason to hand off, and, when ``transition``
    (from role, to role) is given, one of that move's reasons (``reasons_for``)."""
    if reason in INVALID_REASONS:
        return Check(
            "reason",
            "Valid reason",
            False,
            f"{HandoverReason(reason).label}: {INVALID_REASON_EXPLANATION}",
        )
    if reason not in HandoverReason.values:
        return Check("reason", "Valid reason", False, "Choose a reason.")
    if transition is not None:
        fitting = reasons_for(from_role=transition[0], to_role=transition[1])
        if reason not in fitting:
            offered = "; ".join(r.label for r in fitting) or "none"
            return Check(
                "reason",
                "Valid reason",
                False,
                f"“{HandoverReason(reason).label}” is not a reason for "
                f"{transition[0]} → {transition[1]}. Its reasons: {offered}.",
            )
    return Check("reason", "Valid reason", True, HandoverReason(reason).label + ".")


def reason_fact_check(account: Account, *, reason: str, owner: User, today: dt.date) -> Check:
    """Whether the facts bear ``reason`` out, for the reasons that state a checkable fact
    (sales/account-allocation, "Quarterly book planning"); ``owner`` is the outgoing
    owner, ``today`` the day of the proposal (its quarter is the one read):

    - "Book over 15 accounts at quarter start": ``owner``'s book held more than
      ``TAM_MAX_ACCOUNTS`` accounts on the quarter's first day (``book_at_quarter_start``,
      one query);
    - "YC plan $20k–$50k": the account is on the Startup / YC plan with $20k–$50k ARR
      (as planning's removal reasons read it; no query when the account carries the
      ``with_revenue`` annotations, else one).

    Every other reason passes: its conditions are the transition's, which block accepting.
    Read-only. The one validator of the propose form (through ``propose_handover``) and
    the admin's change form.
    """
    label = "Reason borne out by the facts"
    if reason == HandoverReason.BOOK_OVER_CAP:
        quarter = quarter_start(today)
        held = book_at_quarter_start(owner, quarter=quarter)
        said = f"{owner}'s book held {held} account{'' if held == 1 else 's'} on {quarter:%d %b %Y}"
        if held <= TAM_MAX_ACCOUNTS:
            return Check(
                "reason_facts",
                label,
                False,
                f"“{HandoverReason(reason).label}” does not hold: {said}, "
                f"not over {TAM_MAX_ACCOUNTS}.",
            )
        return Check("reason_facts", label, True, f"{said}: over {TAM_MAX_ACCOUNTS}.")
    if reason == HandoverReason.YC_PLAN:
        arr = _revenue(account, today=today).arr
        yc = account.plan == Plan.STARTUP
        said = f"{account.get_plan_display()} plan at ${arr:,.0f} ARR"
        if not (yc and ARR_20K <= arr <= ARR_50K):
            return Check(
                "reason_facts",
                label,
                False,
                f"“{HandoverReason(reason).label}” does not hold: the account is on {said}; "
                f"the YC role takes Startup / YC plan accounts at ${ARR_20K:,.0f}–${ARR_50K:,.0f}.",
            )
        return Check("reason_facts", label, True, f"{said}.")
    return Check("reason_facts", label, True, "The reason states no fact to check.")
