from __future__ import annotations

import pytest

from accounts.tests.factories import AccountFactory, manager, tam
from billing.invoices import InvoiceImport, PaymentAttemptImport
from revopsweb.dates import add_months, company_today

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


def test_the_owner_reads_a_suspended_accounts_timeline_with_three_missed_periods(page, login_as):
    import datetime as dt

    today = company_today()
    owner = tam()
    account = AccountFactory.create(
        organization_id="org_2", name="Initech", owner=owner, owner_role="TAM"
    )
    invoices, attempts = [], []
    # Three monthly invoices in a row unpaid with a failed attempt; the first failure of
    # the latest was 9 days ago: access suspended on day 7, the free tier on day 14.
    latest = add_months(today.replace(day=1), -1)
    for n, amount in enumerate(("900", "1200", "1500")):
        period = add_months(latest, n - 2)
        invoices.append(
            {
                "number": f"INV-{n}",
                "organization_id": "org_2",
                "period": f"{period:%Y-%m}",
                "issued_on": f"{period:%Y-%m-%d}",
                "due_on": f"{period + dt.timedelta(days=14):%Y-%m-%d}",
                "amount": amount,
                "status": "failed",
            }
        )
        tried = today - dt.timedelta(days=9) if n == 2 else period + dt.timedelta(days=16)
        attempts.append(
            {"invoice_number": f"INV-{n}", "attempted_on": f"{tried:%Y-%m-%d}", "outcome": "failed"}
        )
    assert InvoiceImport().run(list(enumerate(invoices, start=2)), dry_run=False).applied
    assert PaymentAttemptImport().run(list(enumerate(attempts, start=2)), dry_run=False).applied
    login_as(owner)
    page.goto(f"/billing/dunning/{account.pk}/")
    latest_case = page.get_by_test_id("dunning-case").filter(has_text="Invoice INV-2")
    assert latest_case.get_by_test_id("dunning-stage").inner_text() == "Access suspended"
    suspended_on = today - dt.timedelta(days=2)
    assert f"suspended since {suspended_on:%Y-%m-%d}" in (
        latest_case.get_by_test_id("dunning-countdown").inner_text()
    )
    states = latest_case.locator("[data-testid=dunning-timeline] tbody tr")
    assert [states.nth(i).get_attribute("data-state") for i in range(5)] == [
        "done", "done", "done", "upcoming", "upcoming",
    ]  # fmt: skip
    repeated = latest_case.get_by_test_id("dunning-repeated").inner_text()
    assert "3 periods in a row unpaid" in repeated and "$3,600.00" in repeated  # 3 × $1,200
    assert page.get_by_test_id("dunning-alerts").locator("tbody tr").count() == 3
