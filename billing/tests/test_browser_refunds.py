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


def test_the_refund_form_keeps_what_was_typed_on_an_error_and_a_late_request_is_declined(
    page, login_as
):
    owner = tam()
    account = AccountFactory.create(name="Initech", owner=owner, owner_role=OwnerRole.TAM)
    billed = company_today() - dt.timedelta(days=31)
    Invoice.objects.create(
        account=account, number="INV-31", period=billed.replace(day=1), issued_on=billed,
        due_on=billed + dt.timedelta(days=14), amount=Decimal(700), status="paid", paid_on=billed,
    )  # fmt: skip
    login_as(owner)
    page.goto(f"/billing/refunds/new/{account.pk}/")
    page.get_by_label("Invoice").select_option(label="INV-31 (Paid)")
    page.get_by_label("Scenario").select_option("unexpected_stardom")
    page.get_by_label("Price at the spike's volume").fill("900")
    page.get_by_label("Price at the baseline volume").fill("1,250.00")
    page.get_by_label("Reason").fill("A launch went viral.")
    page.get_by_role("button", name="Request").click()
    page.get_by_text("Is below the price at the baseline.").wait_for()
    assert page.get_by_label("Reason").input_value() == "A launch went viral."
    assert page.get_by_label("Price at the baseline volume").input_value() == "1,250.00"

    page.get_by_label("Price at the spike's volume").fill("2000")
    page.get_by_role("button", name="Request").click()
    page.wait_for_url("**/billing/refunds/*/")
    rules = page.get_by_test_id("refund-rules").inner_text()
    assert "Requested 31 days after the billing date" in rules and "declined" in rules
    assert (
        page.get_by_test_id("refund-max").inner_text().startswith("The rules decline this refund.")
    )
    assert page.get_by_test_id("refund-status").inner_text() == "Requested"
