"""Refund requests and their rules (sales/refunds).

``evaluate_refund`` applies the page's rules to one request and says what each
rule found: the 30-day window from the billing date, the incident count (a
second incident whose cause is not fixed yet gets at most 50%; from the third
on, declined unless extraordinary, e.g. a PostHog bug), the overage computed
the tiered way (price at the spike's volume minus price at the baseline
volume, never the overage volume priced on its own) and the escalation to
RevOps (a customer spending $1,667 or more a month, repeat requests, overdue
invoices). ``request_refund`` records a request with its evaluation;
``decide_refund`` is the approval step (a team lead of the owner's team or a
manager), and an approved refund becomes a one-time credit on the billed
month, which the adjusted revenue reads (billing/adjustments.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from accounts.permissions import is_owner_lead_or_manager

from .facts import revenue_facts_changed
from .models import CreditReason, Invoice, OneTimeCredit, RefundRequest

REFUND_WINDOW_DAYS = 30
UNFIXED_SECOND_INCIDENT_SHARE = Decimal("0.5")
# "It's a big customer (spending $1,667+ monthly)": escalate to RevOps.
ESCALATE_FROM_MONTHLY_SPEND = Decimal(1667)
CENT = Decimal("0.01")

# The credit reason an approved refund is booked under (revops/credits' seven reasons).
CREDIT_REASON = {
    RefundRequest.Scenario.LEARNING_CURVE: CreditReason.FIRST_BIG_BILL,
    RefundRequest.Scenario.UNEXPECTED_STARDOM: CreditReason.UNWANTED_SPIKE,
    RefundRequest.Scenario.UNDER_ATTACK: CreditReason.UNWANTED_SPIKE,
    RefundRequest.Scenario.WRONG_SETUP: CreditReason.OTHER,
}


class RefundError(Exception):
    """A refund request or decision the rules refuse; the message says why."""


@dataclass(frozen=True)
class RuleCheck:
    """What one rule found: ``verdict`` is "ok", "limited", "declined" or "escalate"."""

    rule: str
    verdict: str
    explanation: str


@dataclass(frozen=True)
class RefundEvaluation:
    """The rules applied to one request: each check, the overage and the most that may be
    refunded (dollars; 0 when declined)."""

    incident: int
    overage: Decimal
    max_refund: Decimal
    checks: list[RuleCheck] = field(default_factory=list)

    @property
    def declined(self) -> bool:
        return any(c.verdict == "declined" for c in self.checks)

    @property
    def escalate(self) -> bool:
        return any(c.verdict == "escalate" for c in self.checks)


def tiered_overage(*, price_at_spike: Decimal, price_at_baseline: Decimal) -> Decimal:
    """The refundable overage under tiered pricing: the price of the spike's volume minus the
    price of the baseline volume (both from the pricing calculator, dollars). ValueError when
    the spike is priced below the baseline."""
    if price_at_spike < price_at_baseline:
        raise ValueError("The price at the spike's volume is below the price at the baseline.")
    return (price_at_spike - price_at_baseline).quantize(CENT)


def evaluate_refund(
    *,
    billed_on: dt.date,
    requested_on: dt.date,
    incident: int,
    issue_fixed: bool,
    extraordinary: bool,
    price_at_spike: Decimal,
    price_at_baseline: Decimal,
    monthly_spend: Decimal,
    has_overdue_invoices: bool,
) -> RefundEvaluation:
    """The sales/refunds rules for a request made ``requested_on`` about the bill of
    ``billed_on``; ``incident`` counts this one (1 = first refund of the account)."""
    overage = tiered_overage(price_at_spike=price_at_spike, price_at_baseline=price_at_baseline)
    checks: list[RuleCheck] = []
    days = (requested_on - billed_on).days
    in_window = 0 <= days <= REFUND_WINDOW_DAYS
    checks.append(
        RuleCheck(
            "30-day window",
            "ok" if in_window else "declined",
            f"Requested {days} days after the billing date ({billed_on:%Y-%m-%d}); "
            f"the limit is {REFUND_WINDOW_DAYS}.",
        )
    )
    share = Decimal(1)
    if incident <= 1:
        checks.append(
            RuleCheck(
                "Incident",
                "ok",
                "First incident: standard policy, with guidance to prevent another (billing limits).",
            )
        )
    elif incident == 2:
        if issue_fixed:
            checks.append(
                RuleCheck(
                    "Incident",
                    "ok",
                    "Second incident after good-faith fixes: full or partial refund by severity. "
                    "Warn that repeated incidents may not be refunded again.",
                )
            )
        else:
            share = UNFIXED_SECOND_INCIDENT_SHARE
            checks.append(
                RuleCheck(
                    "Incident",
                    "limited",
                    "Second incident, the issue not fixed yet: conditional, up to 50% while they "
                    "implement the fix. Warn that repeated incidents may not be refunded again.",
                )
            )
    elif extraordinary:
        checks.append(
            RuleCheck(
                "Incident",
                "ok",
                f"Incident {incident}: refunded only for extraordinary circumstances, which are recorded.",
            )
        )
    else:
        checks.append(
            RuleCheck(
                "Incident",
                "declined",
                f"Incident {incident}: from the third incident on, refunds are declined unless "
                "there are extraordinary circumstances (e.g. a PostHog bug).",
            )
        )
    checks.append(
        RuleCheck(
            "Overage",
            "ok",
            f"Price at the spike's volume ${price_at_spike:,.2f} minus price at the baseline "
            f"${price_at_baseline:,.2f} = ${overage:,.2f}.",
        )
    )
    reasons = []
    if monthly_spend >= ESCALATE_FROM_MONTHLY_SPEND:
        reasons.append(f"spends ${monthly_spend:,.2f} a month ($1,667 or more)")
    if incident >= 2:
        reasons.append("has asked for refunds before")
    if has_overdue_invoices:
        reasons.append("has overdue invoices (credit notes needed)")
    checks.append(
        RuleCheck(
            "Escalation",
            "escalate" if reasons else "ok",
            ("Escalate to RevOps: the customer " + "; ".join(reasons) + ".")
            if reasons
            else "No escalation needed.",
        )
    )
    evaluation = RefundEvaluation(
        incident=incident, overage=overage, max_refund=Decimal(0), checks=checks
    )
    if evaluation.declined:
        return evaluation
    return RefundEvaluation(
        incident=incident,
        overage=overage,
        max_refund=(overage * share).quantize(CENT),
        checks=checks,
    )


def _evaluation_of(refund: RefundRequest) -> RefundEvaluation:
    return evaluate_refund(
        billed_on=refund.invoice.issued_on,
        requested_on=refund.requested_on,
        incident=refund.incident,
        issue_fixed=refund.issue_fixed,
        extraordinary=refund.extraordinary,
        price_at_spike=refund.price_at_spike,
        price_at_baseline=refund.price_at_baseline,
        monthly_spend=refund.invoice.amount,
        has_overdue_invoices=Invoice.objects.filter(
            account_id=refund.account_id,
            status__in=(Invoice.Status.OPEN, Invoice.Status.FAILED),
            due_on__lt=refund.requested_on,
        )
        .exclude(pk=refund.invoice_id)
        .exists(),
    )


def evaluation(refund: RefundRequest) -> RefundEvaluation:
    """The rules' verdict on a recorded request (as the account page shows it)."""
    return _evaluation_of(refund)


def request_refund(
    *,
    invoice: Invoice,
    requested_by: User,
    requested_on: dt.date,
    scenario: str,
    issue_fixed: bool,
    extraordinary: bool,
    price_at_spike: Decimal,
    price_at_baseline: Decimal,
    reason: str,
) -> RefundRequest:
    """Record a refund request for ``invoice``; its incident number is the account's approved
    refunds so far + 1. RefundError when the prices are inverted."""
    if price_at_spike < price_at_baseline:
        raise RefundError("The price at the spike's volume is below the price at the baseline.")
    with transaction.atomic():
        incident = (
            RefundRequest.objects.filter(
                account_id=invoice.account_id, status=RefundRequest.Status.APPROVED
            ).count()
            + 1
        )
        return RefundRequest.objects.create(
            account_id=invoice.account_id,
            invoice=invoice,
            requested_by=requested_by,
            requested_on=requested_on,
            scenario=scenario,
            incident=incident,
            issue_fixed=issue_fixed,
            extraordinary=extraordinary,
            price_at_spike=price_at_spike,
            price_at_baseline=price_at_baseline,
            reason=reason,
        )


def may_decide(user: User, refund: RefundRequest) -> bool:
    """Team leads of the owner's team and managers decide; never the requester."""
    if user.pk == refund.requested_by_id:
        return False
    owner = refund.account.owner
    if owner is not None and owner.pk == user.pk and not user.is_manager:
        return False
    return user.is_team_lead_or_manager and is_owner_lead_or_manager(user, refund.account)


def decide_refund(
    *, refund: RefundRequest, by: User, approve: bool, amount: Decimal | None, note: str
) -> RefundRequest:
    """Approve (with ``amount`` at most the rules' maximum) or decline a pending request.

    An approval books ``amount`` as a one-time credit on the invoice's month (added to a
    credit of the same reason there), which the adjusted revenue reads. RefundError
    when ``by`` may not decide, the request is decided, or the amount breaks the rules.
    """
    with transaction.atomic():
        locked = (
            RefundRequest.objects.select_for_update(of=("self",))
            .select_related("account__owner", "invoice")
            .get(pk=refund.pk)
        )
        if locked.status != RefundRequest.Status.REQUESTED:
            raise RefundError(f"Already {locked.get_status_display().lower()}.")
        if not may_decide(by, locked):
            raise RefundError("Refunds are approved by the owner's team lead or a manager.")
        locked.decided_by, locked.decided_at, locked.decision_note = by, timezone.now(), note
        if not approve:
            locked.status = RefundRequest.Status.DECLINED
            locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
            return locked
        verdict = _evaluation_of(locked)
        if verdict.declined:
            raise RefundError("The rules decline this refund; it cannot be approved.")
        if amount is None or amount <= 0 or amount > verdict.max_refund:
            raise RefundError(
                f"The amount must be above $0 and at most ${verdict.max_refund:,.2f}."
            )
        reason = (
            CreditReason.BUG
            if locked.extraordinary
            else CREDIT_REASON[RefundRequest.Scenario(locked.scenario)]
        )
        credit, created = OneTimeCredit.objects.get_or_create(
            account_id=locked.account_id,
            month=locked.invoice.period,
            reason=reason,
            defaults={"amount": amount, "notes": f"Refund {locked.pk}: {note}", "created_by": by},
        )
        if not created:
            OneTimeCredit.objects.filter(pk=credit.pk).update(amount=F("amount") + amount)
        locked.status = RefundRequest.Status.APPROVED
        locked.approved_amount = amount
        locked.credit = credit
        locked.save(
            update_fields=[
                "status",
                "approved_amount",
                "credit",
                "decided_by",
                "decided_at",
                "decision_note",
            ]
        )
        transaction.on_commit(revenue_facts_changed, robust=True)
        return locked
