from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import OwnerRole
from accounts.tests.factories import AccountFactory, manager, tam
from billing.models import Invoice, OneTimeCredit
from revopsweb.dates import company_today

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_owner_requests_a_refund_and_a_manager_approves_it(page, login_as):
    owner = tam()
    account = AccountFactory.create(name="Acme", owner=owner, owner_role=OwnerRole.TAM)
    billed = company_today() - dt.timedelta(days=5)
    Invoice.objects.create(
        account=account, number="INV-9", period=billed.replace(day=1), issued_on=billed,
        due_on=billed + dt.timedelta(days=14), amount=Decimal(900), status="paid", paid_on=billed,
    )  # fmt: skip
    login_as(owner)
    page.goto(f"/accounts/{account.pk}/")
    page.get_by_test_id("request-refund").click()
    page.get_by_label("Invoice").select_option(label="INV-9 (Paid)")
    page.get_by_label("Scenario").select_option("under_attack")
    page.get_by_label("Price at the spike's volume").fill("4200")
    page.get_by_label("Price at the baseline volume").fill("1450")
    page.get_by_label("The cause is fixed").check()
    page.get_by_label("Reason").fill("Bot traffic on the signup page.")
    page.get_by_role("button", name="Request").click()
    assert "At most $2,750.00" in page.get_by_test_id("refund-max").inner_text()
    url = page.url

    page.context.clear_cookies()
    login_as(manager())
    page.goto(url)
    page.get_by_label("Amount").fill("2750")
    page.get_by_role("button", name="Approve").click()
    assert page.get_by_test_id("refund-status").inner_text() == "Approved"
    assert OneTimeCredit.objects.get().amount == Decimal("2750.00")
