from __future__ import annotations

import json
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from accounts.api import issue_integration_token
from accounts.tests.factories import AccountFactory
from billing.imports import import_mrr_csv
from billing.models import MonthlyRevenue
from billing.tests.helpers import month

pytestmark = pytest.mark.django_db
HEADER = "organization_id,product,month,amount\n"


def test_valid_csv_is_imported_and_reimporting_updates_in_place():
    account = AccountFactory.create(organization_id="org_1")
    result = import_mrr_csv(text=HEADER + "org_1,session_replay,2026-01,1200.50\n")
    assert result.applied and result.created == 1
    again = import_mrr_csv(text=HEADER + "org_1,session_replay,2026-01,1300\n")
    assert again.applied and again.updated == 1 and again.created == 0
    row = MonthlyRevenue.objects.get(account=account)
    assert row.amount == Decimal("1300.00") and row.month == month(0)


def test_every_bad_row_is_reported_with_line_and_column_and_nothing_is_applied():
    AccountFactory.create(organization_id="org_1")
    text = HEADER + (
        "org_1,session_replay,2026-01,100\n"
        "org_missing,session_replay,2026-01,100\n"
        "org_1,no_such_product,2026-01,100\n"
        "org_1,session_replay,2026-13,100\n"
        "org_1,feature_flags,2026-01,10.123\n"
        "org_1,surveys,2026-01,-5\n"
        "org_1,session_replay,2026-01,200\n"
    )
    result = import_mrr_csv(text=text)
    assert not result.applied
    assert [(e.line, e.column) for e in result.errors] == [
        (3, "organization_id"),
        (4, "product"),
        (5, "month"),
        (6, "amount"),
        (7, "amount"),
        (8, "month"),  # duplicates line 2
    ]
    assert not MonthlyRevenue.objects.exists()


def test_a_wrong_header_is_refused():
    result = import_mrr_csv(text="org,product,month,amount\n")
    assert result.errors[0].column == "header" and not result.applied


def test_a_row_with_missing_columns_is_a_row_error():
    AccountFactory.create(organization_id="org_1")
    result = import_mrr_csv(text=HEADER + "org_1,session_replay,2026-01,1\norg_1,surveys\n")
    assert [(e.line, e.column) for e in result.errors] == [(3, "row")]
    assert not MonthlyRevenue.objects.exists()


def test_dry_run_checks_but_writes_nothing():
    AccountFactory.create(organization_id="org_1")
    result = import_mrr_csv(text=HEADER + "org_1,session_replay,2026-01,100\n", dry_run=True)
    assert result.created == 1 and not result.applied
    assert not MonthlyRevenue.objects.exists()


def test_import_command_applies_a_file_and_reports_errors(tmp_path, capsys):
    AccountFactory.create(organization_id="org_1")
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "org_1,session_replay,2026-01,100\n")
    call_command("import_mrr", str(good), "--dry-run")
    assert not MonthlyRevenue.objects.exists()
    call_command("import_mrr", str(good))
    assert MonthlyRevenue.objects.count() == 1
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "org_2,session_replay,2026-01,100\n")
    with pytest.raises(CommandError):
        call_command("import_mrr", str(bad))
    assert "line 2, organization_id" in capsys.readouterr().err


def _api(client: Client, raw: str, body: dict):
    return client.post(
        reverse("billing:api_monthly_revenue"),
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )


def test_api_imports_rows_with_a_revenue_token():
    AccountFactory.create(organization_id="org_1")
    _, raw = issue_integration_token(name="Billing", scope="revenue", created_by=None)
    row = {"organization_id": "org_1", "product": "logs", "month": "2026-02", "amount": "99.90"}
    response = _api(Client(), raw, {"rows": [row]})
    assert response.status_code == 200 and response.json()["created"] == 1
    assert MonthlyRevenue.objects.get().amount == Decimal("99.90")


def test_api_reports_row_errors_and_applies_nothing():
    AccountFactory.create(organization_id="org_1")
    _, raw = issue_integration_token(name="Billing", scope="revenue", created_by=None)
    rows = [
        {"organization_id": "org_1", "product": "logs", "month": "2026-02", "amount": "1"},
        {"organization_id": "org_x", "product": "logs", "month": "2026-02", "amount": "1"},
    ]
    response = _api(Client(), raw, {"rows": rows})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"line": 2, "column": "organization_id", "message": "No account 'org_x'."}
    ]
    assert not MonthlyRevenue.objects.exists()


def test_api_refuses_a_token_of_another_scope():
    _, raw = issue_integration_token(name="Intake", scope="intake", created_by=None)
    assert _api(Client(), raw, {"rows": []}).status_code == 403


@time_machine.travel("2026-06-15 12:00:00-04:00", tick=False)
def test_api_get_returns_the_revenue_report_of_a_month():
    AccountFactory.create(organization_id="org_1")
    assert not import_mrr_csv(text=HEADER + "org_1,session_replay,2026-02,100\n").errors
    _, raw = issue_integration_token(name="Billing", scope="revenue", created_by=None)
    response = Client().get(
        reverse("billing:api_monthly_revenue") + "?month=2026-02",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 200 and response.json()["month"] == "2026-02"


@time_machine.travel("2026-06-15 12:00:00-04:00", tick=False)
def test_api_get_refuses_a_month_not_imported_yet():
    # February is in; March, April and May are complete months with no import.
    AccountFactory.create(organization_id="org_1")
    assert not import_mrr_csv(text=HEADER + "org_1,session_replay,2026-02,100\n").errors
    _, raw = issue_integration_token(name="Billing", scope="revenue", created_by=None)
    response = Client().get(
        reverse("billing:api_monthly_revenue") + "?month=2026-03",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "month"
    assert "March 2026 is not imported yet" in response.json()["errors"][0]["message"]


# --- issue 16 §2 examples: the same strict parsing on the CSV and the API ------------


@pytest.mark.parametrize("amount", ["12,50", "1,5"])
def test_an_ambiguous_decimal_comma_is_a_row_error_in_the_csv(amount):
    AccountFactory.create(organization_id="org_1")
    result = import_mrr_csv(text=HEADER + f'org_1,logs,2026-01,"{amount}"\n')
    assert [(e.line, e.column) for e in result.errors] == [(2, "amount")]
    assert "Ambiguous decimal separator" in result.errors[0].reason
    assert not MonthlyRevenue.objects.exists()


@pytest.mark.parametrize("amount", ["12,50", "1,5"])
def test_an_ambiguous_decimal_comma_is_a_row_error_in_the_api(amount):
    AccountFactory.create(organization_id="org_1")
    _, raw = issue_integration_token(name="Billing", scope="revenue", created_by=None)
    row = {"organization_id": "org_1", "product": "logs", "month": "2026-02", "amount": amount}
    response = _api(Client(), raw, {"rows": [row]})
    assert response.status_code == 400
    assert [(e["line"], e["column"]) for e in response.json()["errors"]] == [(1, "amount")]
    assert not MonthlyRevenue.objects.exists()


def test_unambiguous_grouping_is_read_as_thousands():
    AccountFactory.create(organization_id="org_1")
    assert import_mrr_csv(text=HEADER + 'org_1,logs,2026-01,"1,250.00"\n').applied
    assert MonthlyRevenue.objects.get().amount == Decimal("1250.00")


@pytest.mark.parametrize("value", ["9999-12", "0001-01", "1999-12"])
def test_a_month_outside_the_window_is_a_row_error(value):
    AccountFactory.create(organization_id="org_1")
    result = import_mrr_csv(text=HEADER + f"org_1,logs,{value},10\n")
    assert [(e.line, e.column) for e in result.errors] == [(2, "month")]


def test_product_keys_are_trimmed_and_lower_cased_before_the_duplicate_check():
    AccountFactory.create(organization_id="org_1")
    result = import_mrr_csv(text=HEADER + "org_1,logs,2026-01,10\norg_1, LOGS ,2026-01,11\n")
    assert [(e.line, e.column, e.reason) for e in result.errors] == [
        (3, "month", "Repeats line 2.")
    ]


def test_api_reads_the_string_false_as_false_for_dry_run():
    AccountFactory.create(organization_id="org_1")
    _, raw = issue_integration_token(name="Billing", scope="revenue", created_by=None)
    row = {"organization_id": "org_1", "product": "logs", "month": "2026-02", "amount": "5"}
    response = _api(Client(), raw, {"rows": [row], "dry_run": "false"})
    assert response.status_code == 200 and response.json()["applied"] is True
    assert MonthlyRevenue.objects.count() == 1


def test_api_refuses_a_dry_run_that_is_no_boolean_and_writes_nothing():
    AccountFactory.create(organization_id="org_1")
    _, raw = issue_integration_token(name="Billing", scope="revenue", created_by=None)
    row = {"organization_id": "org_1", "product": "logs", "month": "2026-02", "amount": "5"}
    response = _api(Client(), raw, {"rows": [row], "dry_run": "maybe"})
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "dry_run", "message": "Use true or false."}]
    assert not MonthlyRevenue.objects.exists()


@pytest.mark.parametrize("month_text", ["9999-12", "0001-01"])
def test_api_get_refuses_a_month_outside_the_window_with_400(month_text):
    _, raw = issue_integration_token(name="Billing", scope="revenue", created_by=None)
    response = Client().get(
        reverse("billing:api_monthly_revenue") + f"?month={month_text}",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "month"
