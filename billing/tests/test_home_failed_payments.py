"""The owner is told of a failed payment in the app too (issue 17, sales/billing): the
home's Failed payments panel lists the person's accounts in dunning; a team lead's, the
team's; a manager's, the unmanaged accounts with a failed payment of $1,500 or more."""

from __future__ import annotations

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import AccountFactory, manager, tam, team_lead
from billing.invoices import InvoiceImport, PaymentAttemptImport

pytestmark = pytest.mark.django_db

INVOICES = "number,organization_id,period,issued_on,due_on,amount,status,paid_on\n"
ATTEMPTS = "invoice_number,attempted_on,outcome,failure_reason\n"


@pytest.fixture(autouse=True)
def _june_20():
    with time_machine.travel("2026-06-20 12:00:00-04:00", tick=False):
        yield


def _failed(org: str, name: str, amount: str, *, owner=None, status: str = "failed") -> None:
    AccountFactory.create(
        organization_id=org, name=name, owner=owner, owner_role="TAM" if owner else ""
    )
    number = f"INV-{org}"
    row = f"{number},{org},2026-05,2026-05-01,2026-05-28,{amount},{status},"
    paid = "2026-06-19" if status == "paid" else ""
    assert InvoiceImport().run_csv(INVOICES + row + paid + "\n", dry_run=False).applied
    # First failure on June 15: day 5, access suspended on June 22.
    result = PaymentAttemptImport().run_csv(
        ATTEMPTS + f"{number},2026-06-15,failed,card_declined\n", dry_run=False
    )
    assert result.applied, result.errors


def _panel(user) -> str:
    client = Client()
    client.force_login(user)
    content = client.get(reverse("home")).content.decode()
    start = content.index('data-testid="home-failed-payments"')
    return content[start : content.index("</article>", start)]


def test_the_owner_sees_their_failed_payment_with_its_countdown_and_no_one_elses():
    owner, other = tam(), tam()
    _failed("org_1", "Acme", "800", owner=owner)
    _failed("org_2", "Globex", "900", owner=other)
    panel = _panel(owner)
    assert "<strong>1</strong> unpaid invoice with a failed payment on your accounts" in panel
    assert "Acme" in panel and "Globex" not in panel
    assert "$800.00" in panel and "in 2 days" in panel
    assert "Warn every active user (2026-06-21)" in panel


def test_a_paid_invoice_leaves_the_owners_panel():
    owner = tam()
    _failed("org_1", "Acme", "800", owner=owner, status="paid")
    assert "<strong>0</strong> unpaid invoices" in _panel(owner)


def test_a_team_lead_sees_the_failed_payments_of_their_team():
    lead = team_lead()
    _failed("org_1", "Acme", "800", owner=tam(team_lead=lead))
    _failed("org_2", "Globex", "900", owner=tam())
    panel = _panel(lead)
    assert "Acme" in panel and "Globex" not in panel


def test_managers_see_unmanaged_failed_payments_from_1500_dollars():
    _failed("org_1", "Just Under", "1499.99")
    _failed("org_2", "At The Line", "1500.00")
    _failed("org_3", "Owned Big", "9000", owner=tam())
    panel = _panel(manager())
    assert "unmanaged accounts, $1,500 or more" in panel
    assert "At The Line" in panel
    assert "Just Under" not in panel and "Owned Big" not in panel
