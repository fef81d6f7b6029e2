"""Refund rules (sales/refunds) with numbers of our own, and the approval feeding a credit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import OwnerRole
from accounts.tests.factories import AccountFactory, manager, tam, team_lead
from billing.models import CreditReason, Invoice, OneTimeCredit, RefundRequest
from billing.refunds import (
    RefundError,
    decide_refund,
    evaluate_refund,
    request_refund,
    tiered_overage,
)

BILLED = dt.date(2026, 5, 1)


def _evaluate(**overrides):
    args = {
        "billed_on": BILLED,
        "requested_on": BILLED + dt.timedelta(days=10),
        "incident": 1,
        "issue_fixed": True,
        "extraordinary": False,
        "price_at_spike": Decimal("4200.00"),
        "price_at_baseline": Decimal("1450.00"),
        "monthly_spend": Decimal("900.00"),
        "has_overdue_invoices": False,
    }
    return evaluate_refund(**{**args, **overrides})


def _verdicts(result) -> dict[str, str]:
    return {c.rule: c.verdict for c in result.checks}


@pytest.mark.parametrize(("days", "verdict"), [(0, "ok"), (30, "ok"), (31, "declined")])
def test_the_window_is_thirty_days_from_the_billing_date(days, verdict):
    result = _evaluate(requested_on=BILLED + dt.timedelta(days=days))
    assert _verdicts(result)["30-day window"] == verdict
    assert result.max_refund == (Decimal("2750.00") if verdict == "ok" else Decimal(0))


def test_the_overage_is_the_difference_of_the_two_prices_not_the_overage_priced_alone():
    # 1M events baseline priced $1,450, 3M events at the spike $4,200 (tiers make the
    # extra 2M cheaper than 2 × the first million): refundable $2,750.
    assert tiered_overage(
        price_at_spike=Decimal("4200"), price_at_baseline=Decimal("1450")
    ) == Decimal("2750.00")
    with pytest.raises(ValueError):
        tiered_overage(price_at_spike=Decimal("100"), price_at_baseline=Decimal("100.01"))


@pytest.mark.parametrize(
    ("incident", "fixed", "extraordinary", "most", "declined"),
    [
        (1, False, False, "2750.00", False),
        (2, True, False, "2750.00", False),
        (2, False, False, "1375.00", False),  # up to 50% while they fix it
        (3, True, False, "0", True),  # third: declined
        (3, True, True, "2750.00", False),  # unless extraordinary
        (4, False, True, "2750.00", False),
    ],
)
def test_repeat_incidents(incident, fixed, extraordinary, most, declined):
    result = _evaluate(incident=incident, issue_fixed=fixed, extraordinary=extraordinary)
    assert result.max_refund == Decimal(most) and result.declined is declined


@pytest.mark.parametrize(
    ("spend", "incident", "overdue", "escalate"),
    [
        ("1666.99", 1, False, False),
        ("1667.00", 1, False, True),
        ("500.00", 2, False, True),  # asked for refunds before
        ("500.00", 1, True, True),  # overdue invoices need credit notes
    ],
)
def test_escalation_to_revops(spend, incident, overdue, escalate):
    result = _evaluate(
        monthly_spend=Decimal(spend), incident=incident, has_overdue_invoices=overdue
    )
    assert result.escalate is escalate


def _invoice(account, *, number="INV-1", amount="900"):
    return Invoice.objects.create(
        account=account,
        number=number,
        period=BILLED,
        issued_on=BILLED,
        due_on=BILLED + dt.timedelta(days=14),
        amount=Decimal(amount),
        status=Invoice.Status.PAID,
        paid_on=BILLED + dt.timedelta(days=2),
    )


def _request(invoice, by, **overrides):
    args = {
        "invoice": invoice,
        "requested_by": by,
        "requested_on": BILLED + dt.timedelta(days=10),
        "scenario": RefundRequest.Scenario.UNDER_ATTACK,
        "issue_fixed": True,
        "extraordinary": False,
        "price_at_spike": Decimal("4200"),
        "price_at_baseline": Decimal("1450"),
        "reason": "Bot traffic on the signup page.",
    }
    return request_refund(**{**args, **overrides})


@pytest.mark.django_db
def test_a_team_lead_approves_and_the_refund_becomes_a_credit_on_the_billed_month(
    django_capture_on_commit_callbacks, monkeypatch
):
    from accounts import tasks as account_tasks
    from billing import tasks

    monkeypatch.setattr(tasks.refresh_revenue_cache, "delay", lambda: None)
    monkeypatch.setattr(account_tasks.refresh_top_accounts_task, "delay", lambda: None)
    lead = team_lead()
    owner = tam(team_lead=lead)
    account = AccountFactory.create(owner=owner, owner_role=OwnerRole.TAM)
    refund = _request(_invoice(account), owner)
    assert refund.incident == 1
    with pytest.raises(RefundError, match="at most \\$2,750.00"):
        decide_refund(refund=refund, by=lead, approve=True, amount=Decimal("2750.01"), note="")
    with django_capture_on_commit_callbacks(execute=True):
        decided = decide_refund(
            refund=refund, by=lead, approve=True, amount=Decimal("2750.00"), note="overage"
        )
    assert decided.status == "approved" and decided.approved_amount == Decimal("2750.00")
    credit = OneTimeCredit.objects.get()
    assert (credit.month, credit.reason, credit.amount) == (
        BILLED,
        CreditReason.UNWANTED_SPIKE,
        Decimal("2750.00"),
    )
    # The next request on this account is its second incident.
    assert _request(_invoice(account, number="INV-2"), owner).incident == 2


@pytest.mark.django_db
def test_the_owner_and_other_teams_cannot_approve_and_a_decided_request_stays_decided():
    owner = tam(team_lead=team_lead())
    account = AccountFactory.create(owner=owner, owner_role=OwnerRole.TAM)
    refund = _request(_invoice(account), owner)
    for who in (owner, team_lead(), tam()):
        with pytest.raises(RefundError, match="team lead or a manager"):
            decide_refund(refund=refund, by=who, approve=False, amount=None, note="")
    boss = manager()
    decide_refund(refund=refund, by=boss, approve=False, amount=None, note="not eligible")
    with pytest.raises(RefundError, match="Already declined"):
        decide_refund(refund=refund, by=boss, approve=True, amount=Decimal(1), note="")
    assert not OneTimeCredit.objects.exists()


@pytest.mark.django_db
def test_a_request_the_rules_decline_cannot_be_approved():
    owner = tam()
    account = AccountFactory.create(owner=owner, owner_role=OwnerRole.TAM)
    refund = _request(_invoice(account), owner, requested_on=BILLED + dt.timedelta(days=31))
    with pytest.raises(RefundError, match="rules decline"):
        decide_refund(refund=refund, by=manager(), approve=True, amount=Decimal(10), note="")


def _form(invoice, **overrides):
    return {
        "invoice": invoice.pk,
        "scenario": "under_attack",
        "price_at_spike": "4,200.00",
        "price_at_baseline": "1450",
        "issue_fixed": "on",
        "reason": "Bot traffic.",
        **overrides,
    }


@pytest.mark.django_db
def test_the_owner_requests_from_the_account_page_and_sees_the_rules(client):
    import time_machine
    from django.urls import reverse

    owner = tam()
    account = AccountFactory.create(owner=owner, owner_role=OwnerRole.TAM)
    invoice = _invoice(account)
    client.force_login(owner)
    page = client.get(reverse("accounts:account", args=[account.pk])).content.decode()
    assert reverse("billing:new_refund", args=[account.pk]) in page
    with time_machine.travel("2026-05-31 12:00:00-04:00", tick=False):  # day 30
        response = client.post(reverse("billing:new_refund", args=[account.pk]), _form(invoice))
    refund = RefundRequest.objects.get()
    assert response.status_code == 302 and refund.requested_on == dt.date(2026, 5, 31)
    page = client.get(reverse("billing:refund", args=[refund.pk])).content.decode()
    assert "At most $2,750.00 may be refunded." in " ".join(page.split())
    assert "Approve" not in page  # the owner does not decide


@pytest.mark.django_db
def test_a_bad_request_form_is_refused_with_field_errors(client):
    from django.urls import reverse

    owner = tam()
    account = AccountFactory.create(owner=owner, owner_role=OwnerRole.TAM)
    invoice = _invoice(account)
    client.force_login(owner)
    response = client.post(
        reverse("billing:new_refund", args=[account.pk]),
        _form(invoice, price_at_spike="100", price_at_baseline="abc"),
    )
    assert response.status_code == 200 and not RefundRequest.objects.exists()
    assert set(response.context["form"].errors) == {"price_at_baseline"}
    client.force_login(tam())
    assert client.get(reverse("billing:new_refund", args=[account.pk])).status_code == 404


@pytest.mark.django_db
def test_a_manager_approves_through_the_page(client, monkeypatch):
    from django.urls import reverse

    from accounts import tasks as account_tasks
    from billing import tasks

    monkeypatch.setattr(tasks.refresh_revenue_cache, "delay", lambda: None)
    monkeypatch.setattr(account_tasks.refresh_top_accounts_task, "delay", lambda: None)
    owner = tam()
    account = AccountFactory.create(owner=owner, owner_role=OwnerRole.TAM)
    refund = _request(_invoice(account), owner)
    client.force_login(manager())
    url = reverse("billing:refund_decide", args=[refund.pk])
    client.post(url, {"decision": "approve", "amount": "9999", "note": ""})
    assert RefundRequest.objects.get().status == "requested"
    client.post(url, {"decision": "approve", "amount": "2000", "note": "half the spike"})
    assert RefundRequest.objects.get().approved_amount == Decimal("2000.00")
    assert OneTimeCredit.objects.get().amount == Decimal("2000.00")
