"""The demo's refunds and failed payments: approved refunds booked as credits (the bug refund
moves the adjusted revenue), and a failed payment on the demo TAM's and CSM's homes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum

from billing.adjustments import adjusted_revenue
from billing.models import CreditReason, MonthlyRevenue, RefundRequest
from revopsweb.dates import add_months


@pytest.mark.django_db
def test_the_demo_approves_two_refunds_and_the_bug_refund_feeds_the_adjusted_revenue():
    call_command("seed_demo", accounts=400, months=13, stdout=StringIO())
    approved = list(
        RefundRequest.objects.filter(status=RefundRequest.Status.APPROVED)
        .select_related("credit", "invoice")
        .order_by("pk")
    )
    credits = [r.credit for r in approved]
    assert all(credit is not None for credit in credits)
    assert [c.reason for c in credits if c] == [CreditReason.UNWANTED_SPIKE, CreditReason.BUG]
    assert all(
        r.credit and r.approved_amount and r.credit.amount == r.approved_amount > 0
        for r in approved
    )
    bug = approved[1]
    month = bug.invoice.period

    def billed(n: int) -> Decimal:
        total = MonthlyRevenue.objects.filter(
            account_id=bug.account_id, month=add_months(month, n)
        ).aggregate(total=Sum("amount"))["total"]
        return total.quantize(Decimal("0.01"))

    assert billed(0) != billed(-1)
    adjusted = adjusted_revenue(first_month=month, last_month=month)
    # revops/revenue-adjustments: the credited month counts as the month before it.
    assert adjusted[(bug.account_id, month)] == billed(-1)


@pytest.mark.django_db
def test_the_demo_tam_and_csm_each_have_a_failed_payment_on_their_home(client, time_machine):
    from accounts.demo import DEMO_EMAIL_DOMAIN
    from accounts.models import User

    # On a fixed day: the demo draws its company from today's months, and at 400
    # accounts the TAM books can take every owned account of the CSM login's region
    # (from 1 December 2026 they did, and the CSM owned nothing); the quick start's
    # 2,000 leave CSMs their books. What this checks is that dunning's failures go to
    # the logins' own accounts first.
    time_machine.move_to(dt.datetime(2026, 11, 30, 17, 0, tzinfo=dt.UTC))
    call_command("seed_demo", accounts=400, months=13, stdout=StringIO())
    for login in ("tam", "csm"):
        client.force_login(User.objects.get(email=f"{login}@{DEMO_EMAIL_DOMAIN}"))
        home = client.get("/").content.decode()
        assert "<strong>1</strong> unpaid invoice with a failed payment" in home, login
