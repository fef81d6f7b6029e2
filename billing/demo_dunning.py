"""Invoices, payment attempts and dunning of the demo company (a step of ``seed_demo``).

Three months of paid invoices for a slice of paying accounts, and a handful of
failed invoices with attempts in flight at different days of the dunning
timeline (a day-1 failure, one the day before suspension, a suspended one, one
reverted to the free tier), an unmanaged account over $1,500 and one under it,
and one customer with three missed periods in a row. Written through the
invoice and payment-attempt fact kinds, so the alerts are what an import makes.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from accounts.demo import DEMO_EMAIL_DOMAIN, DemoContext
from accounts.models import Account, Plan, User
from accounts.roles import Role
from revopsweb.dates import add_months, company_today, month_start

from .invoices import InvoiceImport, PaymentAttemptImport
from .models import Invoice, MonthlyRevenue

PAID_ACCOUNTS = 60
# Days since the first failed attempt of each failing account (see the docstring).
FAILING_DAYS = (1, 3, 6, 9, 15)


def _row(
    number: str, org: str, period: dt.date, amount: Decimal, status: str, paid: str
) -> dict[str, str]:
    issued = period + dt.timedelta(days=1)
    return {
        "number": number,
        "organization_id": org,
        "period": f"{period:%Y-%m}",
        "issued_on": f"{issued:%Y-%m-%d}",
        "due_on": f"{issued + dt.timedelta(days=14):%Y-%m-%d}",
        "amount": str(amount),
        "status": status,
        "paid_on": paid,
    }


def seed_dunning(ctx: DemoContext) -> dict[str, int]:
    """Seed invoices and attempts; returns the rows written by label."""
    rng = random.Random(f"{ctx.seed}:dunning")
    today = ctx.today
    last = add_months(month_start(today), -1)
    mrr = dict(
        MonthlyRevenue.objects.filter(month=last)
        .values("account_id")
        .annotate(total=Sum("amount"))
        .filter(total__gt=300)
        .values_list("account_id", "total")
    )
    accounts = list(
        Account.objects.filter(pk__in=mrr)
        .order_by("pk")
        .values("pk", "organization_id", "owner_id")
    )
    owned = [a for a in accounts if a["owner_id"]]
    unowned = [a for a in accounts if not a["owner_id"]]
    if len(owned) <= len(FAILING_DAYS):
        return {}
    rng.shuffle(owned)
    # The demo TAM's and CSM's homes show a failed payment of their own: one account of
    # each goes first (the day-1 and day-3 failures).
    logins = User.objects.filter(
        email__in=[f"tam@{DEMO_EMAIL_DOMAIN}", f"csm@{DEMO_EMAIL_DOMAIN}"]
    ).order_by("email")
    firsts = [
        next((a for a in owned if a["owner_id"] == pk), None)
        for pk in logins.values_list("pk", flat=True)
    ]
    chosen = [a for a in firsts if a is not None]
    owned = chosen + [a for a in owned if a not in chosen]
    failing = owned[: len(FAILING_DAYS)]
    repeated = owned[len(FAILING_DAYS)]
    paying = owned[len(FAILING_DAYS) + 1 : len(FAILING_DAYS) + 1 + PAID_ACCOUNTS]
    invoices: list[dict[str, str]] = []
    attempts: list[dict[str, str]] = []
    periods = [add_months(last, -2), add_months(last, -1), last]

    def amount(pk: int) -> Decimal:
        return Decimal(mrr[pk]).quantize(Decimal("0.01"))

    for a in [*paying, *failing]:
        for period in periods[:2] if a in failing else periods:
            paid = period + dt.timedelta(days=3)
            invoices.append(
                _row(
                    f"DEMO-{a['pk']}-{period:%Y%m}",
                    a["organization_id"],
                    period,
                    amount(a["pk"]),
                    "paid",
                    f"{paid:%Y-%m-%d}",
                )
            )
    for a, days in zip(failing, FAILING_DAYS, strict=True):
        number = f"DEMO-{a['pk']}-{last:%Y%m}"
        invoices.append(_row(number, a["organization_id"], last, amount(a["pk"]), "failed", ""))
        first = today - dt.timedelta(days=days)
        for back in range(0, days + 1, 3)[:4]:  # the card is retried every three days, 4 tries
            attempts.append(
                {
                    "invoice_number": number,
                    "attempted_on": f"{first + dt.timedelta(days=back):%Y-%m-%d}",
                    "outcome": "failed",
                    "failure_reason": rng.choice(
                        ("card_declined", "insufficient_funds", "expired_card")
                    ),
                }
            )
    for period in periods:
        number = f"DEMO-{repeated['pk']}-{period:%Y%m}"
        invoices.append(
            _row(number, repeated["organization_id"], period, amount(repeated["pk"]), "failed", "")
        )
        day = min(period + dt.timedelta(days=20), today)
        attempts.append(
            {
                "invoice_number": number,
                "attempted_on": f"{day:%Y-%m-%d}",
                "outcome": "failed",
                "failure_reason": "card_declined",
            }
        )
    # Unmanaged: one failed payment at $1,500 or more (managers tagged), one under.
    for a, value in zip(unowned[:2], (Decimal("2400.00"), Decimal("480.00")), strict=False):
        number = f"DEMO-{a['pk']}-{last:%Y%m}-U"
        invoices.append(_row(number, a["organization_id"], last, value, "failed", ""))
        attempts.append(
            {
                "invoice_number": number,
                "attempted_on": f"{today - dt.timedelta(days=2):%Y-%m-%d}",
                "outcome": "failed",
                "failure_reason": "card_declined",
            }
        )
    done = InvoiceImport().run(list(enumerate(invoices, start=2)), dry_run=False)
    tried = PaymentAttemptImport().run(list(enumerate(attempts, start=2)), dry_run=False)
    if done.errors or tried.errors:
        raise RuntimeError(f"Demo invoices refused: {[*done.errors, *tried.errors][:3]}")
    return {
        "invoices": done.rows,
        "payment attempts": tried.rows,
        "refund requests": _refunds(paying),
        "approved refunds": _approved_refunds(paying[2:], last=last, today=today),
    }


def _refunds(paying: Sequence[Mapping[str, Any]]) -> int:
    """Two refund requests waiting for a decision: a bot spike within the window and a
    third incident's request (declined by the rules unless extraordinary)."""
    from .refunds import request_refund

    made = 0
    for a, (spike, baseline, days) in zip(
        paying[:2],
        ((Decimal(4200), Decimal(1450), 12), (Decimal(2600), Decimal(2100), 31)),
        strict=False,
    ):
        invoice = Invoice.objects.filter(account_id=a["pk"]).order_by("-issued_on").first()
        owner = Account.objects.get(pk=a["pk"]).owner
        if invoice is None or owner is None:
            continue
        request_refund(
            invoice=invoice,
            requested_by=owner,
            requested_on=min(invoice.issued_on + dt.timedelta(days=days), company_today()),
            scenario="under_attack" if made == 0 else "unexpected_stardom",
            issue_fixed=made == 0,
            extraordinary=False,
            price_at_spike=spike,
            price_at_baseline=baseline,
            reason="Bot traffic on the signup form." if made == 0 else "A launch went viral.",
        )
        made += 1
    return made


def _approved_refunds(paying: Sequence[Mapping[str, Any]], *, last: dt.date, today: dt.date) -> int:
    """Two refunds a manager approved, each booked as a one-time credit on the month billed:
    a bot spike (first incident, the full overage, an Unwanted Spike credit) and a
    PostHog bug (extraordinary, a Bug credit the adjusted revenue reads: the credit is
    at least half the month before's revenue and the customer's next month is back at
    its level, so the adjusted revenue keeps that month at the month before's, as
    revops/revenue-adjustments' one-time credit rule says)."""
    from .refunds import decide_refund, request_refund

    manager = User.objects.filter(groups__name=Role.MANAGER, is_active=True).order_by("pk").first()
    if manager is None:
        return 0
    rows = (
        MonthlyRevenue.objects.filter(
            account_id__in=[a["pk"] for a in paying],
            month__gte=add_months(last, -2),
            month__lte=add_months(last, 1),
        )
        .values("account_id", "month")
        .annotate(total=Sum("amount"))
        .values_list("account_id", "month", "total")
    )
    revenue: dict[tuple[int, dt.date], Decimal] = {(pk, m): total for pk, m, total in rows}

    def month_of(pk: int, offset: int) -> Decimal:
        return revenue.get((pk, add_months(last, offset)), Decimal(0))

    def recovers(pk: int) -> bool:
        before = month_of(pk, -1)
        return before > 0 and month_of(pk, 1) >= (before + month_of(pk, -2)) / 2

    # Accounts whose revenue no other rule reshapes, so the credit is what moves it.
    plain = set(
        Account.objects.filter(
            pk__in=[a["pk"] for a in paying],
            credit_grants__isnull=True,
            annual_contracts__isnull=True,
            trials__isnull=True,
            consolidation__isnull=True,
            consolidated_accounts__isnull=True,
        )
        .exclude(plan=Plan.TRIAL)
        .values_list("pk", flat=True)
    )
    chosen = [a for a in paying if a["pk"] in plain and recovers(a["pk"])][:2]
    made = 0
    for a, extraordinary in zip(chosen, (False, True), strict=False):
        invoice = Invoice.objects.get(number=f"DEMO-{a['pk']}-{last:%Y%m}")
        owner = Account.objects.get(pk=a["pk"]).owner
        if owner is None:
            continue
        # The overage priced as the tiered difference; 60% of the month before's revenue,
        # so the bug credit passes the one-time credit rule's half.
        overage = (month_of(a["pk"], -1) * Decimal("0.6")).quantize(Decimal("0.01"))
        refund = request_refund(
            invoice=invoice,
            requested_by=owner,
            requested_on=min(invoice.issued_on + dt.timedelta(days=5), today),
            scenario="wrong_setup" if extraordinary else "under_attack",
            issue_fixed=True,
            extraordinary=extraordinary,
            price_at_spike=invoice.amount + overage,
            price_at_baseline=invoice.amount,
            reason="A PostHog bug billed replay sessions twice."
            if extraordinary
            else "A bot hammered the signup form; a billing limit is set now.",
        )
        decide_refund(
            refund=refund,
            by=manager,
            approve=True,
            amount=overage,
            note="The overage in full, as the rules allow.",
        )
        made += 1
    return made
