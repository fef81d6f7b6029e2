"""The quota page in a browser: a TAM opens their group of accounts (loaded on demand) and
asks to exclude an optimisation drop, the team lead and then a manager approve it, and the
account's contribution loses the drop."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.tests.factories import AccountFactory, manager, tam, team_lead
from billing.models import Invoice, MonthlyRevenue
from billing.tests.factories import product
from revopsweb.dates import add_months, company_today, month_start, quarter_label, quarter_start

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_optimisation_drop_is_excluded_after_lead_and_manager_approve(page, login_as):
    lead = team_lead(name="Lena Lead")
    owner = tam(team_lead=lead, quarterly_quota=Decimal(100000))
    account = AccountFactory.create(name="Shrinkco", owner=owner, owner_role="TAM", am_managed=True)
    # Two full quarters that end before this month: $3,000 a month, then $1,000.
    last_quarter = add_months(quarter_start(add_months(month_start(company_today()), -1)), -3)
    first = add_months(last_quarter, -3)
    MonthlyRevenue.objects.bulk_create(
        MonthlyRevenue(
            account=account,
            product=product("product_analytics"),
            month=add_months(first, n),
            amount=Decimal(3000 if n < 3 else 1000),
        )
        for n in range(6)
    )
    for i in range(2):
        Invoice.objects.create(
            account=account, number=f"S-{i}", issued_on=first, due_on=first,
            amount=Decimal(3000), status=Invoice.Status.PAID,
        )  # fmt: skip
    quarter = quarter_label(last_quarter)

    login_as(owner)
    page.goto(f"/revenue/quota/?quarter={quarter}")
    page.get_by_text(f"{owner.name}: 1 AM-managed account").click()
    row = page.get_by_test_id("quota-account")
    assert "−$16,800" in row.inner_text()  # money with its sign and a true minus
    row.get_by_text("Request an optimisation exclusion").click()
    row.get_by_label("ARR drop to exclude ($)").fill("16800")
    row.get_by_label("Evidence of the optimisation work").fill("Sampling cut bot events by 60%")
    row.get_by_role("button", name="Request exclusion").click()
    # Back where the form was: the owner's group of accounts, open on the page.
    page.wait_for_url(f"**?quarter={quarter}&tam={owner.pk}#tam-{owner.pk}")
    assert page.get_by_test_id("quota-account").is_visible()
    assert page.get_by_test_id("exclusions").locator(".badge").inner_text() == "Requested"

    page.context.clear_cookies()
    login_as(lead)
    page.goto(f"/revenue/quota/?quarter={quarter}")
    page.get_by_test_id("exclusions").get_by_role("button", name="Approve").click()
    assert (
        page.get_by_test_id("exclusions").locator(".badge").inner_text() == "Approved by team lead"
    )

    page.context.clear_cookies()
    login_as(manager())
    page.goto(f"/revenue/quota/?quarter={quarter}")
    page.get_by_test_id("exclusions").get_by_role("button", name="Approve").click()
    page.get_by_text(f"{owner.name}: 1 AM-managed account").click()
    text = page.get_by_test_id("quota-account").inner_text()
    assert "16,800 of the drop excluded" in text
