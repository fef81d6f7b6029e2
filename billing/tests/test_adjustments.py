from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import Plan
from accounts.tests.factories import AccountFactory
from billing.adjustments import adjusted_revenue
from billing.models import (
    AnnualContract,
    Consolidation,
    CreditReason,
    OneTimeCredit,
    Trial,
    TrialExtension,
    TrialKind,
)
from billing.tests.factories import product
from billing.tests.helpers import month, series

pytestmark = pytest.mark.django_db


def _adjusted(account_id, n, *, adjusted=True, last=5):
    values = adjusted_revenue(first_month=month(0), last_month=month(last), adjusted=adjusted)
    return values.get((account_id, month(n)))


def test_trial_account_revenue_is_removed_but_stays_unadjusted():
    account = AccountFactory.create(plan=Plan.TRIAL)
    series(account, [5000, 5000])
    assert _adjusted(account.id, 1) is None  # no adjusted revenue at all
    assert _adjusted(account.id, 1, adjusted=False) == Decimal("5000.00")


def test_annual_plan_revenue_is_divided_by_one_minus_discount_within_the_contract():
    account = AccountFactory.create(plan=Plan.ANNUAL)
    AnnualContract.objects.create(
        account=account,
        starts_on=month(1) + dt.timedelta(days=9),  # from 10 February: February counts
        ends_on=month(2) + dt.timedelta(days=30),
        annual_amount=Decimal(96000),
        discount_percent=Decimal(20),
    )
    series(account, [8000, 8000, 8000, 8000])
    assert _adjusted(account.id, 0) == Decimal("8000.00")  # before the contract
    assert _adjusted(account.id, 1) == Decimal("10000.00")
    assert _adjusted(account.id, 2) == Decimal("10000.00")
    assert _adjusted(account.id, 3) == Decimal("8000.00")  # after it
    assert _adjusted(account.id, 1, adjusted=False) == Decimal("8000.00")


def test_no_discount_leaves_annual_plan_revenue_unchanged():
    account = AccountFactory.create(plan=Plan.ANNUAL)
    AnnualContract.objects.create(
        account=account, starts_on=month(0), ends_on=month(12), annual_amount=Decimal(96000)
    )
    series(account, [8000])
    assert _adjusted(account.id, 0) == Decimal("8000.00")


def test_a_whole_platform_trial_removes_the_months_it_overlaps_extensions_included():
    account = AccountFactory.create()
    trial = Trial.objects.create(
        account=account,
        kind=TrialKind.SALES_ASSISTED,
        starts_on=month(1) + dt.timedelta(days=20),  # 21 February
        ends_on=month(2) + dt.timedelta(days=6),  # 7 March
        deal_arr=Decimal(45000),
    )
    series(account, [1000, 2000, 3000, 4000, 5000])
    assert [_adjusted(account.id, n) for n in range(4)] == [
        Decimal("1000.00"),
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("4000.00"),
    ]
    TrialExtension.objects.create(
        trial=trial, granted_on=month(2), days=30, reason="Holidays", get="Procurement started"
    )
    assert _adjusted(account.id, 3) == Decimal("0.00")  # 6 April with the extension
    assert _adjusted(account.id, 3, adjusted=False) == Decimal("4000.00")


def test_a_cross_sell_trial_removes_only_its_product():
    account = AccountFactory.create()
    Trial.objects.create(
        account=account,
        kind=TrialKind.CROSS_SELL,
        product=product("session_replay"),
        starts_on=month(0),
        ends_on=month(0) + dt.timedelta(days=14),
        deal_arr=Decimal(30000),
    )
    series(account, [1000, 1000])
    series(account, [700, 700], key="session_replay")
    assert _adjusted(account.id, 0) == Decimal("1000.00")
    assert _adjusted(account.id, 1) == Decimal("1700.00")


def test_consolidated_accounts_count_as_one_customer_so_a_move_is_not_churn():
    eu = AccountFactory.create(region="EU")
    us = AccountFactory.create()
    series(eu, [3000, 3000, None])
    series(us, [None, None, 3000])
    Consolidation.objects.create(account=eu, customer=us, reason="moved EU to US")
    assert _adjusted(us.id, 1) == Decimal("3000.00")
    assert _adjusted(us.id, 2) == Decimal("3000.00")
    assert (eu.id, month(1)) not in adjusted_revenue(first_month=month(0), last_month=month(3))
    assert _adjusted(eu.id, 2, adjusted=False) == Decimal("0.00")


# Spike: month > 2 × avg(previous two), increase ≥ $1,000 over the previous
# month, next month ≥ 50% lower. The spike month becomes the previous average.
@pytest.mark.parametrize(
    ("spike", "after", "expected"),
    [
        ("4000.01", "2000.00", "2000.00"),  # just over twice, next month exactly half: spike
        ("4000.00", "2000.00", "4000.00"),  # exactly twice is not "more than twice"
        ("4000.01", "2000.01", "4000.01"),  # next month drop just under 50%: no spike
    ],
)
def test_spike_needs_more_than_double_and_a_half_drop_after(spike, after, expected):
    account = AccountFactory.create()
    series(account, ["2000", "2000", spike, after])
    assert _adjusted(account.id, 2) == Decimal(expected)


@pytest.mark.parametrize(("spike", "expected"), [("1800", "800.00"), ("1799.99", "1799.99")])
def test_spike_increase_must_be_at_least_one_thousand_dollars(spike, expected):
    account = AccountFactory.create()
    series(account, ["800", "800", spike, "100"])
    assert _adjusted(account.id, 2) == Decimal(expected)


def test_spike_in_the_latest_month_is_not_adjusted_before_the_next_month_exists():
    account = AccountFactory.create()
    series(account, ["2000", "2000", "9000"])
    assert _adjusted(account.id, 2, last=2) == Decimal("9000.00")


def _credit(account, n, amount, reason=CreditReason.INCIDENT):
    OneTimeCredit.objects.create(
        account=account, month=month(n), amount=Decimal(amount), reason=reason
    )


@pytest.mark.parametrize(("credit", "expected"), [("1000.00", "2000.00"), ("999.99", "0.00")])
def test_credit_of_at_least_half_the_prior_month_restores_the_prior_month(credit, expected):
    account = AccountFactory.create()
    series(account, ["2000", "2000", "0", "2000"])
    _credit(account, 2, credit)
    assert _adjusted(account.id, 2) == Decimal(expected)


@pytest.mark.parametrize(("after", "expected"), [("1500.00", "2000.00"), ("1499.99", "0.00")])
def test_credit_override_needs_next_month_at_least_the_previous_two_month_average(after, expected):
    account = AccountFactory.create()
    series(account, ["1000", "2000", "0", after])
    _credit(account, 2, "2000")
    assert _adjusted(account.id, 2) == Decimal(expected)


@pytest.mark.parametrize(
    ("reason", "overridden"),
    [
        (CreditReason.PROMO, True),
        (CreditReason.INCIDENT, True),
        (CreditReason.BUG, True),
        (CreditReason.FIRST_BIG_BILL, False),
        (CreditReason.TRIAL_ACCOMMODATION, False),
        (CreditReason.UNWANTED_SPIKE, False),
        (CreditReason.OTHER, False),
    ],
)
def test_only_promo_outage_and_billing_correction_credits_override(reason, overridden):
    account = AccountFactory.create()
    series(account, ["2000", "2000", "0", "2000"])
    _credit(account, 2, "2000", reason)
    assert _adjusted(account.id, 2) == Decimal("2000.00" if overridden else "0.00")


def test_a_first_month_followed_by_a_drop_is_not_a_spike():
    account = AccountFactory.create()
    series(account, ["5000", "1000"])
    assert _adjusted(account.id, 0) == Decimal("5000.00")


def test_a_consolidation_cannot_chain_into_an_account_that_is_itself_consolidated():
    from django.core.exceptions import ValidationError

    first, second, third = AccountFactory.create_batch(3)
    Consolidation.objects.create(account=second, customer=third, reason="move")
    with pytest.raises(ValidationError):
        Consolidation(account=first, customer=second, reason="chain").full_clean()


def test_a_credit_on_a_new_customers_first_month_leaves_the_month_as_billed():
    account = AccountFactory.create()
    series(account, ["500", "2000"])
    _credit(account, 0, "400", CreditReason.PROMO)
    assert _adjusted(account.id, 0) == Decimal("500.00")
