"""Dunning (sales/billing, failed payments): alerts, who is told, the timeline, repeated failures."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.api import issue_integration_token
from accounts.models import Account, OwnerRole
from accounts.tests.factories import AccountFactory, manager, tam
from billing.dunning import dunning_cases, repeated_failures
from billing.invoices import InvoiceImport, PaymentAttemptImport
from billing.models import DunningAlert, Invoice, PaymentAttempt
from revopsweb.models import Delivery

pytestmark = pytest.mark.django_db

HOOK = "https://hooks.example.test/sales-alerts"
INVOICES = "number,organization_id,period,issued_on,due_on,amount,status,paid_on\n"
ATTEMPTS = "invoice_number,attempted_on,outcome,failure_reason\n"


@pytest.fixture(autouse=True)
def _june_20(settings):
    settings.SALES_ALERTS_WEBHOOK_URL = HOOK
    with time_machine.travel("2026-06-20 12:00:00-04:00", tick=False):
        yield


def _invoice(org: str, number: str, amount: str, *, period: str = "2026-05", status="failed"):
    result = InvoiceImport().run_csv(
        INVOICES + f"{number},{org},{period},{period}-01,{period}-28,{amount},{status},\n",
        dry_run=False,
    )
    assert result.applied, result.errors


def _attempts(text: str):
    return PaymentAttemptImport().run_csv(ATTEMPTS + text, dry_run=False)


def _case(account: Account, today: dt.date):
    [case] = dunning_cases(accounts=Account.objects.filter(pk=account.pk), today=today)
    return case


def test_a_failed_attempt_tells_the_owner_in_sales_alerts_once():
    owner = tam(email="olivia@example.com")
    AccountFactory.create(organization_id="org_1", name="Acme", owner=owner, owner_role="TAM")
    _invoice("org_1", "INV-1", "800")
    _attempts("INV-1,2026-06-01,failed,card_declined\n")
    alert = DunningAlert.objects.get()
    assert (alert.told, alert.told_emails, alert.amount) == ("owner", [owner.email], Decimal(800))
    delivery = Delivery.objects.get()
    assert alert.delivery == delivery and delivery.url == HOOK
    assert delivery.kind == "billing.payment_failed"
    text = delivery.payload["text"]
    assert "*Acme* (org_1)" in text and "attempt 1 failed on 2026-06-01 (card_declined)" in text
    assert "Owner: @olivia@example.com" in text and "suspended on 2026-06-08" in text
    _attempts("INV-1,2026-06-01,failed,card_declined\n")  # the same file again
    assert DunningAlert.objects.count() == 1 and Delivery.objects.count() == 1


def test_each_further_failed_attempt_is_its_own_alert():
    AccountFactory.create(organization_id="org_1", owner=tam(), owner_role="TAM")
    _invoice("org_1", "INV-1", "800")
    _attempts("INV-1,2026-06-01,failed,\nINV-1,2026-06-04,failed,\nINV-1,2026-06-05,succeeded,\n")
    assert DunningAlert.objects.count() == 2
    texts = sorted(d.payload["text"] for d in Delivery.objects.all())
    assert (
        "attempt 2 failed on 2026-06-04" in texts[1] or "attempt 2 failed on 2026-06-04" in texts[0]
    )


@pytest.mark.parametrize(
    ("amount", "told"), [("1499.99", "channel"), ("1500.00", "managers"), ("1500.01", "managers")]
)
def test_an_unmanaged_account_tags_the_managers_from_1500(amount, told):
    boss = manager(email="simon@example.com")
    AccountFactory.create(organization_id="org_1", owner=None, owner_role="")
    _invoice("org_1", "INV-1", amount)
    _attempts("INV-1,2026-06-01,failed,\n")
    alert = DunningAlert.objects.get()
    assert alert.told == told
    assert alert.told_emails == ([boss.email] if told == "managers" else [])
    text = Delivery.objects.get().payload["text"]
    assert ("@simon@example.com" in text) is (told == "managers")


def test_a_succeeded_attempt_alerts_nobody():
    AccountFactory.create(organization_id="org_1", owner=tam(), owner_role="TAM")
    InvoiceImport().run_csv(
        INVOICES + "INV-1,org_1,2026-05,2026-05-01,2026-05-28,800,paid,2026-06-01\n", dry_run=False
    )
    _attempts("INV-1,2026-06-01,succeeded,\n")
    assert not DunningAlert.objects.exists() and not Delivery.objects.exists()


def test_a_refused_file_alerts_nobody():
    AccountFactory.create(organization_id="org_1", owner=tam(), owner_role="TAM")
    _invoice("org_1", "INV-1", "800")
    result = _attempts("INV-1,2026-06-01,failed,\nINV-404,2026-06-01,failed,\n")
    assert not result.applied
    assert not PaymentAttempt.objects.exists() and not DunningAlert.objects.exists()
    assert not Delivery.objects.exists()


def test_without_a_webhook_the_alert_is_kept_and_nothing_is_posted(settings):
    settings.SALES_ALERTS_WEBHOOK_URL = ""
    AccountFactory.create(organization_id="org_1", owner=tam(), owner_role="TAM")
    _invoice("org_1", "INV-1", "800")
    _attempts("INV-1,2026-06-01,failed,\n")
    assert DunningAlert.objects.get().delivery is None and not Delivery.objects.exists()


def test_a_failed_attempt_through_the_api_alerts_too():
    AccountFactory.create(organization_id="org_1", owner=tam(), owner_role="TAM")
    _invoice("org_1", "INV-1", "800")
    _, raw = issue_integration_token(name="Stripe", scope="payment_attempts", created_by=None)
    row = {"invoice_number": "INV-1", "attempted_on": "2026-06-01", "outcome": "failed"}
    response = Client().post(
        "/api/billing/payment_attempts/",
        data=json.dumps({"rows": [row]}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 200 and DunningAlert.objects.count() == 1


def test_a_failed_attempt_added_in_the_admin_alerts_too(client):
    from accounts.tests.factories import revops

    AccountFactory.create(organization_id="org_1", owner=tam(), owner_role="TAM")
    _invoice("org_1", "INV-1", "800")
    client.force_login(revops(is_superuser=True))
    response = client.post(
        reverse("admin:billing_paymentattempt_add"),
        {
            "invoice": Invoice.objects.get().pk,
            "attempted_on": "2026-06-02",
            "outcome": "failed",
            "failure_reason": "",
        },
    )
    assert response.status_code == 302
    assert DunningAlert.objects.get().attempt.attempted_on == dt.date(2026, 6, 2)


@pytest.mark.parametrize(
    ("today", "day", "stage", "to_suspension", "next_step"),
    [
        (dt.date(2026, 6, 1), 0, "Payment late", 7, "Reach out for payment"),
        (dt.date(2026, 6, 6), 5, "Payment late", 2, "Warn every active user"),
        (dt.date(2026, 6, 7), 6, "Suspension tomorrow", 1, "Warn every active user"),
        (dt.date(2026, 6, 8), 7, "Access suspended", 0, "Suspend user access"),
        (dt.date(2026, 6, 14), 13, "Access suspended", -6, "Warn every contact"),
        (dt.date(2026, 6, 15), 14, "Reverted to the free tier", -7, "Cancel the subscription"),
        (dt.date(2026, 6, 16), 15, "Reverted to the free tier", -8, None),
    ],
)
def test_the_timeline_counts_calendar_days_from_the_first_failure(
    today, day, stage, to_suspension, next_step
):
    account = AccountFactory.create(organization_id="org_1", owner=tam(), owner_role="TAM")
    _invoice("org_1", "INV-1", "800")
    _attempts("INV-1,2026-06-01,failed,\nINV-1,2026-06-04,failed,\n")
    case = _case(account, today)
    assert (case.late_since, case.failed_attempts) == (dt.date(2026, 6, 1), 2)
    assert (case.day, case.stage, case.days_to_suspension) == (day, stage, to_suspension)
    assert (case.next_step.title if case.next_step else None) == next_step
    assert [(s.day, s.on) for s in case.steps] == [
        (0, dt.date(2026, 6, 1)),
        (6, dt.date(2026, 6, 7)),
        (7, dt.date(2026, 6, 8)),
        (13, dt.date(2026, 6, 14)),
        (14, dt.date(2026, 6, 15)),
    ]


def test_paying_the_invoice_closes_the_case():
    account = AccountFactory.create(organization_id="org_1", owner=tam(), owner_role="TAM")
    _invoice("org_1", "INV-1", "800")
    _attempts("INV-1,2026-06-01,failed,\n")
    InvoiceImport().run_csv(
        INVOICES + "INV-1,org_1,2026-05,2026-05-01,2026-05-28,800,paid,2026-06-03\n", dry_run=False
    )
    assert (
        dunning_cases(accounts=Account.objects.filter(pk=account.pk), today=dt.date(2026, 6, 5))
        == []
    )


def _missed(org: str, periods_amounts: list[tuple[str, str, str]]):
    for period, amount, status in periods_amounts:
        _invoice(org, f"INV-{period}", amount, period=period, status=status)
        if status == "failed":
            _attempts(f"INV-{period},{period}-05,failed,\n")


def test_three_missed_periods_in_a_row_ask_three_months_in_advance():
    account = AccountFactory.create(organization_id="org_1", owner=tam(), owner_role="TAM")
    _missed(
        "org_1",
        [("2026-02", "900", "open"), ("2026-03", "1000", "failed"), ("2026-04", "1100", "failed")]
        + [("2026-05", "1200", "failed")],
    )
    cases = dunning_cases(
        accounts=Account.objects.filter(pk=account.pk), today=dt.date(2026, 6, 20)
    )
    repeated = cases[0].repeated
    assert repeated is not None
    assert repeated.periods == (dt.date(2026, 3, 1), dt.date(2026, 4, 1), dt.date(2026, 5, 1))
    assert (repeated.average_invoice, repeated.advance) == (Decimal("1100.00"), Decimal("3300.00"))


@pytest.mark.parametrize(
    "history",
    [
        # two in a row only
        [("2026-03", "1000", "open"), ("2026-04", "1100", "failed"), ("2026-05", "1200", "failed")],
        # a month without an invoice breaks the run
        [
            ("2026-02", "1000", "failed"),
            ("2026-04", "1100", "failed"),
            ("2026-05", "1200", "failed"),
        ],
    ],
)
def test_fewer_than_three_consecutive_missed_periods_is_not_the_advance_rule(history):
    account = AccountFactory.create(organization_id="org_1", owner=tam(), owner_role="TAM")
    _missed("org_1", history)
    cases = dunning_cases(
        accounts=Account.objects.filter(pk=account.pk), today=dt.date(2026, 6, 20)
    )
    assert cases and all(c.repeated is None for c in cases)


def test_repeated_failures_of_no_invoices_is_none():
    assert repeated_failures([]) is None


def test_the_queue_shows_each_person_the_accounts_they_may_open(client):
    mine, theirs = tam(), tam()
    AccountFactory.create(organization_id="org_1", name="Mine", owner=mine, owner_role="TAM")
    AccountFactory.create(organization_id="org_2", name="Theirs", owner=theirs, owner_role="TAM")
    for org, n in (("org_1", "INV-1"), ("org_2", "INV-2")):
        _invoice(org, n, "800")
        _attempts(f"{n},2026-06-01,failed,\n")
    client.force_login(mine)
    response = client.get(reverse("billing:dunning"))
    assert [c.invoice.account.name for c in response.context["cases"]] == ["Mine"]
    client.force_login(manager())
    response = client.get(reverse("billing:dunning"))
    assert [c.invoice.account.name for c in response.context["cases"]] == ["Mine", "Theirs"]


def test_the_queue_issues_the_same_queries_for_one_case_or_five(client, django_assert_num_queries):
    boss = manager()
    client.force_login(boss)

    def add(n: int) -> None:
        for _ in range(n):
            org = f"org_{Account.objects.count() + 1}"
            AccountFactory.create(organization_id=org, owner=tam(), owner_role=OwnerRole.TAM)
            _invoice(org, f"INV-{org}", "800")
            _attempts(f"INV-{org},2026-06-01,failed,\n")

    add(1)
    client.get(reverse("billing:dunning"))  # warm the session
    # session, user with their roles, cases, their accounts' invoice history
    with django_assert_num_queries(4) as one:
        client.get(reverse("billing:dunning"))
    add(4)
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(reverse("billing:dunning"))
    assert len(response.context["cases"]) == 5


def test_the_account_page_shows_the_risk_and_links_the_timeline(client):
    owner = tam()
    account = AccountFactory.create(organization_id="org_1", owner=owner, owner_role="TAM")
    client.force_login(owner)
    page = client.get(reverse("accounts:account", args=[account.pk])).content.decode()
    assert 'data-testid="dunning-panel"' not in page
    _invoice("org_1", "INV-1", "800")
    _attempts("INV-1,2026-06-15,failed,\n")
    page = client.get(reverse("accounts:account", args=[account.pk])).content.decode()
    assert 'data-testid="dunning-panel"' in page
    assert "access suspended in 2 days" in " ".join(page.split())
    assert reverse("billing:account_dunning", args=[account.pk]) in page


def test_the_timeline_page_is_for_those_who_may_open_the_account(client):
    account = AccountFactory.create(organization_id="org_1", owner=tam(), owner_role="TAM")
    _invoice("org_1", "INV-1", "800")
    _attempts("INV-1,2026-06-15,failed,card_declined\n")
    client.force_login(tam())
    assert client.get(reverse("billing:account_dunning", args=[account.pk])).status_code == 404
    client.force_login(account.owner)
    response = client.get(reverse("billing:account_dunning", args=[account.pk]))
    assert response.status_code == 200
    content = " ".join(response.content.decode().split())
    assert "User access is suspended in 2 days, on 2026-06-22, unless it is paid." in content
