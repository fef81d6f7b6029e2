from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command

from accounts.tests.factories import AccountFactory, tam
from billing.tests.helpers import series

pytestmark = pytest.mark.django_db


def _run(*args) -> Any:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return json.loads(out.getvalue())


def test_revenue_report_json_has_exactly_the_documented_keys():
    grower, churner = AccountFactory.create_batch(2)
    series(grower, [800, 900])
    series(churner, [200, 0])
    report = _run("revenue_report", "--month", "2026-02", "--json")
    assert list(report) == [
        "month", "baseline", "new", "reactivated", "retained", "expansion",
        "contraction", "churned", "rates", "ndr", "gdr",
    ]  # fmt: skip
    assert list(report["rates"]) == ["new", "expansion", "contraction", "churn"]
    assert list(report["ndr"]) == ["3", "6", "12"] and list(report["gdr"]) == ["3", "6", "12"]
    assert report["baseline"] == 1000.0 and report["churned"] == -200.0
    assert report["rates"]["expansion"] == 10.0 and report["rates"]["churn"] == -20.0


def test_revenue_report_adjusted_flag_applies_the_adjustments():
    account = AccountFactory.create(plan="trial")
    series(account, [800, 900])
    assert _run("revenue_report", "--month", "2026-02", "--json")["baseline"] == 800.0
    assert _run("revenue_report", "--month", "2026-02", "--adjusted", "--json")["baseline"] == 0.0


def test_quota_report_json_has_exactly_the_documented_keys():
    owner = tam(email="tam@example.test", quarterly_quota=Decimal("100000"))
    account = AccountFactory.create(
        owner=owner, owner_role="TAM", am_managed=True, organization_id="org_q"
    )
    series(account, [1000, 1000, 1000, 1500, 1500, 1500])
    [row] = _run("quota_report", "--quarter", "2026Q2", "--json")
    assert list(row) == ["email", "quota", "start_arr", "end_arr", "attainment", "accounts"]
    assert list(row["accounts"][0]) == ["organization_id", "start_arr", "end_arr"]
    assert row["email"] == "tam@example.test" and row["quota"] == 100000.0
    assert row["start_arr"] == 8400.0 and row["end_arr"] == 12600.0 and row["attainment"] == 4200.0


def test_quota_report_reads_the_revenue_data_month_once(django_assert_num_queries):
    owner = tam()
    account = AccountFactory.create(owner=owner, owner_role="TAM", am_managed=True)
    series(account, [1000, 1000, 1000, 1500, 1500, 1500])
    # The revenue data month (the command's "imported yet?" check, then reused
    # as the month counted through), the TAMs, their quota books, the invoices,
    # annual contracts, approved exclusions, paid invoices.
    with django_assert_num_queries(7):
        _run("quota_report", "--quarter", "2026Q2", "--json")
