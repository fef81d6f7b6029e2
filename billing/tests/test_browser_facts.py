from __future__ import annotations

import pytest

from accounts.tests.factories import AccountFactory, revops
from billing.models import Invoice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADER = "number,organization_id,period,issued_on,due_on,amount,status,paid_on\n"


def test_revops_checks_then_imports_an_invoice_file(page, login_as, tmp_path):
    AccountFactory.create(organization_id="org_1")
    login_as(revops())
    page.goto("/billing/import/")
    page.get_by_role("link", name="Invoices").click()
    page.wait_for_url("**/billing/import/invoices/")
    assert "The month billed, YYYY-MM." in page.get_by_test_id("fact-columns").inner_text()

    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "INV-1,org_1,2026-05,2026-05-01,2026-04-30,100,open,\n")
    page.get_by_label("File").set_input_files(str(bad))
    page.get_by_role("button", name="Check / import").click()
    errors = page.get_by_test_id("import-errors")
    assert "Is before issued_on." in errors.inner_text()

    good = tmp_path / "good.csv"
    good.write_text(HEADER + "INV-1,org_1,2026-05,2026-05-01,2026-05-31,100,open,\n")
    page.get_by_label("File").set_input_files(str(good))
    page.get_by_role("button", name="Check / import").click()
    assert "1 row valid (1 new" in page.get_by_test_id("import-dry-run").inner_text()
    assert not Invoice.objects.exists()

    page.get_by_label("File").set_input_files(str(good))
    page.get_by_label("Dry run (check only)").uncheck()
    page.get_by_role("button", name="Check / import").click()
    page.get_by_text("Invoices: imported 1 rows, 1 new, 0 updated.").wait_for()
    assert Invoice.objects.get().number == "INV-1"


def test_revops_finds_every_kind_on_the_index_and_opens_one(page, login_as):
    from billing.facts import FACT_KINDS

    login_as(revops())
    page.goto("/revenue/")
    page.get_by_role("link", name="Billing imports").click()
    page.wait_for_url("**/billing/import/")
    rows = page.get_by_test_id("fact-kinds").locator("tbody tr")
    assert rows.count() == len(FACT_KINDS) == 8
    grants = rows.filter(has=page.get_by_role("link", name="Credit grants", exact=True))
    assert (
        "organization_id,kind,granted_on,expires_on,amount,balance,paid_amount,depleted_on"
        in grants.inner_text()
    )
    assert "POST /api/billing/credit_grants/" in grants.inner_text()
    grants.get_by_role("link", name="Credit grants", exact=True).click()
    page.wait_for_url("**/billing/import/credit_grants/")
    page.get_by_role("link", name="Billing imports").click()
    page.wait_for_url("**/billing/import/")
