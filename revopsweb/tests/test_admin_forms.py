"""The admin forms of imported kinds are validated by the same row forms as CSV and API."""

from __future__ import annotations

import pytest

from accounts.admin import AccountAdminForm, AccountSnapshotAdminForm
from accounts.tests.factories import AccountFactory
from billing.admin import MonthlyRevenueAdminForm
from billing.tests.factories import product

pytestmark = pytest.mark.django_db


def test_the_snapshot_admin_refuses_a_future_week_like_the_csv():
    account = AccountFactory.create()
    form = AccountSnapshotAdminForm({"account": account.pk, "week": "2099-01-05", "health": "good"})
    assert not form.is_valid()
    assert form.errors["week"] == ["The week has not started yet."]


def test_the_snapshot_admin_refuses_a_measure_above_the_column():
    account = AccountFactory.create()
    form = AccountSnapshotAdminForm(
        {"account": account.pk, "week": "2026-11-16", "support_tickets": "2147483648"}
    )
    assert not form.is_valid() and "support_tickets" in form.errors


def test_the_revenue_admin_refuses_a_month_outside_the_window_and_normalises_the_day():
    account = AccountFactory.create()
    logs = product("logs")
    bad = MonthlyRevenueAdminForm(
        {"account": account.pk, "product": logs.pk, "month": "9999-12-01", "amount": "10"}
    )
    assert not bad.is_valid() and "month" in bad.errors
    good = MonthlyRevenueAdminForm(
        {"account": account.pk, "product": logs.pk, "month": "2026-03-17", "amount": "10"}
    )
    assert good.is_valid(), good.errors
    assert str(good.cleaned_data["month"]) == "2026-03-01"


def test_the_account_admin_refuses_an_employee_count_above_the_column():
    account = AccountFactory.create()
    data = {
        "name": account.name,
        "organization_id": account.organization_id,
        "plan": "monthly",
        "employee_count": "2147483648",
        "credit_balance": "0",
    }
    form = AccountAdminForm(data, instance=account)
    form.is_valid()
    assert "employee_count" in form.errors
