from __future__ import annotations

import pytest

from accounts.tests.factories import AccountFactory, manager, tam
from billing.invoices import InvoiceImport, PaymentAttemptImport
from revopsweb.dates import company_today

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_opens_a_failed_payment_from_the_queue_and_sees_its_timeline(page, login_as):
    import datetime as dt

    today = company_today()
    account = AccountFactory.create(
        organization_id="org_1", name="Acme", owner=tam(), owner_role="TAM"
    )
    issued = today - dt.timedelta(days=20)
    InvoiceImport().run(
        [
            (
                2,
                {
                    "number": "INV-1",
                    "organization_id": "org_1",
                    "period": f"{issued:%Y-%m}",
                    "issued_on": f"{issued:%Y-%m-%d}",
                    "due_on": f"{issued + dt.timedelta(days=14):%Y-%m-%d}",
                    "amount": "1800",
                    "status": "failed",
                },
            )
        ],
        dry_run=False,
    )
    first = today - dt.timedelta(days=5)
    PaymentAttemptImport().run(
        [
            (
                2,
                {
                    "invoice_number": "INV-1",
                    "attempted_on": f"{first:%Y-%m-%d}",
                    "outcome": "failed",
                },
            )
        ],
        dry_run=False,
    )
    login_as(manager())
    page.goto("/billing/dunning/")
    row = page.get_by_test_id("dunning-row")
    assert "Acme" in row.inner_text() and "in 2 days" in row.inner_text()
    page.get_by_role("link", name="Acme").click()
    page.wait_for_url(f"**/billing/dunning/{account.pk}/")
    assert page.get_by_test_id("dunning-stage").inner_text() == "Payment late"
    timeline = page.get_by_test_id("dunning-timeline").inner_text()
    assert "Suspend user access" in timeline and "Cancel the subscription" in timeline
    assert "The owner" in page.get_by_test_id("dunning-alerts").inner_text()
    page.get_by_role("link", name="Acme").first.click()
    page.get_by_test_id("dunning-panel").wait_for()
