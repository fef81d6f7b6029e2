from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError

from accounts.models import AccountSnapshot
from accounts.tests.factories import AccountFactory
from billing.tests.factories import MonthlyRevenueFactory

pytestmark = pytest.mark.django_db


def test_snapshot_weeks_start_on_monday():
    AccountSnapshot.objects.create(account=AccountFactory.create(), week=dt.date(2026, 11, 23))
    with pytest.raises(IntegrityError):
        AccountSnapshot.objects.create(account=AccountFactory.create(), week=dt.date(2026, 11, 24))


def test_revenue_months_are_first_of_month():
    MonthlyRevenueFactory.create(month=dt.date(2026, 3, 1))
    with pytest.raises(IntegrityError):
        MonthlyRevenueFactory.create(month=dt.date(2026, 3, 2))


def test_one_revenue_row_per_account_product_month():
    row = MonthlyRevenueFactory.create()
    with pytest.raises(IntegrityError):
        MonthlyRevenueFactory.create(account=row.account, product=row.product, month=row.month)
