"""Churn signals read the revenue data month: November not imported yet is not a 100% drop."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from accounts.churn.signals import detect_churn_signals
from accounts.churn.tests.churn_helpers import activity, open_signals, owned_account
from billing.tests.factories import MonthlyRevenueFactory

pytestmark = pytest.mark.django_db

# 2 December 2026, 07:00 in the company's time zone.
SECOND_OF_DECEMBER = dt.datetime(2026, 12, 2, 12, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _on_2_december():
    with time_machine.travel(SECOND_OF_DECEMBER, tick=False):
        yield


def paid_september_and_october():
    account = owned_account()
    activity(account, at=SECOND_OF_DECEMBER - dt.timedelta(days=1))  # only revenue may fire
    for month in (dt.date(2026, 9, 1), dt.date(2026, 10, 1)):
        MonthlyRevenueFactory.create(account=account, month=month, amount=Decimal(1000))
    return account


def test_no_usage_drop_while_november_is_not_imported():
    account = paid_september_and_october()
    detect_churn_signals()
    assert "usage_drop" not in open_signals(account)


def test_once_november_is_in_without_the_account_the_drop_is_real():
    account = paid_september_and_october()
    MonthlyRevenueFactory.create(month=dt.date(2026, 11, 1))  # November imported, another account
    detect_churn_signals()
    drop = open_signals(account)["usage_drop"]
    assert (drop["month"], drop["value"], drop["drop_pct"]) == ("2026-11-01", 0, 100.0)
