"""Each lead rule and its boundaries (sales/lead-scoring), with numbers of our own."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Activity, ActivityKind
from accounts.tests.factories import AccountFactory
from leads.generation import catalog as c
from leads.generation.evaluate import deprioritise_filters, find_hits
from leads.scoring import country_points, employee_points
from revopsweb.dates import add_months

from .factories import (
    LATEST_MONTH,
    NOW,
    TODAY,
    band_account,
    contacts,
    hit_ids,
    invoice,
    pay,
    rule,
    snapshot,
    startup_account,
)

pytestmark = pytest.mark.django_db


# --- Product-led: MRR $500–1,667, > 50 employees, > 7 users, ICP country, 3+ months


@pytest.mark.parametrize(
    ("mrr", "raised"),
    [("499.99", False), ("500.00", True), ("1667.00", True), ("1667.01", False)],
)
def test_mrr_band_includes_500_and_1667_and_nothing_outside(mrr, raised):
    account = band_account(mrr=mrr)

    assert (account.pk in hit_ids(c.PL_MRR_BAND)) is raised


@pytest.mark.parametrize(("employees", "raised"), [(50, False), (51, True)])
def test_mrr_band_needs_more_than_50_employees(employees, raised):
    account = band_account(employees=employees)

    assert (account.pk in hit_ids(c.PL_MRR_BAND)) is raised


@pytest.mark.parametrize(("users", "raised"), [(7, False), (8, True)])
def test_mrr_band_needs_more_than_7_users(users, raised):
    account = band_account(users=users)

    assert (account.pk in hit_ids(c.PL_MRR_BAND)) is raised


@pytest.mark.parametrize(("months", "raised"), [(2, False), (3, True)])
def test_mrr_band_needs_three_months_paying(months, raised):
    account = band_account(months=months)

    assert (account.pk in hit_ids(c.PL_MRR_BAND)) is raised


def test_a_gap_in_payments_restarts_the_paying_streak():
    account = band_account(months=2)
    pay(account, months=1, amount="900.00", last=add_months(LATEST_MONTH, -3))

    assert hit_ids(c.PL_MRR_BAND) == []


def test_mrr_band_needs_an_icp_country():
    icp = band_account(country="DE")
    band_account(country="BR")

    assert hit_ids(c.PL_MRR_BAND) == [icp.pk]


def test_mrr_band_reads_the_latest_month_with_data_not_an_empty_current_month():
    # June (the current month) has no revenue at all yet: May is M, so the
    # account is not read as $0 in June.
    account = band_account(mrr="800.00")

    hit = find_hits(rules=[rule(c.PL_MRR_BAND)], now=NOW)[c.PL_MRR_BAND][0]

    assert hit.account_id == account.pk
    assert hit.values["month"] == "2026-05"
    assert hit.values["mrr"] == "800.00"


def test_mrr_band_never_reads_the_month_in_progress_even_with_rows_in_it():
    # A first June row (the month in progress) is part of a month that is not
    # in yet: M stays May, as for every other revenue figure.
    account = band_account(mrr="800.00")
    pay(account, months=1, amount="5.00", last=dt.date(2026, 6, 1))

    hit = find_hits(rules=[rule(c.PL_MRR_BAND)], now=NOW)[c.PL_MRR_BAND][0]

    assert hit.values["month"] == "2026-05"
    assert hit.values["mrr"] == "800.00"


def test_users_come_from_the_latest_snapshot():
    account = band_account(users=12)
    snapshot(account, week=TODAY - dt.timedelta(days=7), active_users_30d=30)
    account.snapshots.filter(week=TODAY).update(active_users_30d=5)

    assert hit_ids(c.PL_MRR_BAND) == []


def test_the_hit_carries_the_values_that_made_it_fire():
    band_account(mrr="1234.50", employees=75, users=9, country="GB", months=4)

    (hit,) = find_hits(rules=[rule(c.PL_MRR_BAND)], now=NOW)[c.PL_MRR_BAND]

    assert hit.values == {
        "mrr": "1234.50",
        "month": "2026-05",
        "employee_count": 75,
        "users": 9,
        "country": "GB",
        "paying_months": 4,
    }


def test_edited_thresholds_apply():
    account = band_account(mrr="450.00")

    assert hit_ids(c.PL_MRR_BAND) == []
    assert hit_ids(c.PL_MRR_BAND, mrr_min="400.00") == [account.pk]


# --- Product-led: high ICP score on the Scale plan


@pytest.mark.parametrize(
    ("employees", "country", "raised"),
    [(11, "US", True), (10, "US", False), (1001, "NL", True), (500, "NL", False)],
)
def test_icp_scale_needs_an_icp_score_of_20(employees, country, raised):
    account = AccountFactory.create(plan="scale", employee_count=employees, country=country)

    assert (account.pk in hit_ids(c.PL_ICP_SCALE)) is raised


def test_icp_score_in_sql_matches_the_lead_scoring_table():
    cases = [(5, "US"), (11, "SE"), (1000, "PL"), (1001, "BR"), (None, "NZ"), (2000, "GB")]
    accounts = {
        AccountFactory.create(plan="scale", employee_count=e, country=k).pk: (e, k)
        for e, k in cases
    }

    hits = find_hits(rules=[rule(c.PL_ICP_SCALE, icp_score_min=0)], now=NOW)[c.PL_ICP_SCALE]

    for hit in hits:
        employees, country = accounts[hit.account_id]
        assert hit.values["icp_score"] == employee_points(employees) + country_points(country)
    assert len(hits) == len(cases)


def test_icp_scale_needs_the_scale_plan():
    AccountFactory.create(plan="monthly", employee_count=2000, country="US")

    assert hit_ids(c.PL_ICP_SCALE) == []


# --- Product-led: MRR > $1K and forecast increase > 50% this month


@pytest.mark.parametrize(
    ("mrr", "forecast", "raised"),
    [
        ("1000.00", "2000.00", False),
        ("1000.01", "2000.00", True),
        ("1200.00", "1800.00", False),
        ("1200.00", "1800.01", True),
    ],
)
def test_forecast_jump_needs_mrr_over_1k_and_more_than_half_again(mrr, forecast, raised):
    account = AccountFactory.create(forecasted_mrr=Decimal(forecast))
    pay(account, months=1, amount=mrr)

    assert (account.pk in hit_ids(c.PL_FORECAST_JUMP)) is raised


def test_forecast_jump_without_a_forecast_raises_nothing():
    account = AccountFactory.create(forecasted_mrr=None)
    pay(account, months=1, amount="5000.00")

    assert hit_ids(c.PL_FORECAST_JUMP) == []


# --- Product-led: unmanaged, ARR > $20K, raised a support ticket


def _ticket(account, *, days_ago: int) -> None:
    Activity.objects.create(
        account=account,
        kind=ActivityKind.SUPPORT_TICKET,
        from_customer=True,
        occurred_at=NOW - dt.timedelta(days=days_ago),
        summary="Ticket",
    )


@pytest.mark.parametrize(("mrr", "raised"), [("1666.66", False), ("1666.67", True)])
def test_unmanaged_ticket_needs_arr_over_20k(mrr, raised):
    # 1,666.66 × 12 = 19,999.92; 1,666.67 × 12 = 20,000.04.
    account = AccountFactory.create(am_managed=False)
    pay(account, months=1, amount=mrr)
    _ticket(account, days_ago=1)

    assert (account.pk in hit_ids(c.PL_UNMANAGED_TICKET)) is raised


@pytest.mark.parametrize(("days_ago", "raised"), [(7, True), (8, False)])
def test_unmanaged_ticket_counts_tickets_of_the_last_7_days(days_ago, raised):
    account = AccountFactory.create(am_managed=False)
    pay(account, months=1, amount="3000.00")
    _ticket(account, days_ago=days_ago)

    assert (account.pk in hit_ids(c.PL_UNMANAGED_TICKET)) is raised


def test_a_weekly_snapshot_with_tickets_counts_as_raising_one():
    account = AccountFactory.create(am_managed=False)
    pay(account, months=1, amount="3000.00")
    snapshot(account, week=TODAY - dt.timedelta(days=7), support_tickets=2)

    assert hit_ids(c.PL_UNMANAGED_TICKET) == [account.pk]


def test_managed_accounts_are_not_raised_for_tickets():
    account = AccountFactory.create(am_managed=True)
    pay(account, months=1, amount="3000.00")
    _ticket(account, days_ago=1)

    assert hit_ids(c.PL_UNMANAGED_TICKET) == []


# --- New business: first signup, 500+ employees, an event, an invite


def _signup(*, employees=500, events=1, people=2, days_ago=3, domain=""):
    account = AccountFactory.create(employee_count=employees, plan="monthly")
    if domain:
        account.domain = domain
    account.created_at = NOW - dt.timedelta(days=days_ago)
    account.save(update_fields=["domain", "created_at"])
    snapshot(account, events=events)
    contacts(account, people)
    return account


@pytest.mark.parametrize(
    ("kwargs", "raised"),
    [
        ({}, True),
        ({"employees": 499}, False),
        ({"events": 0}, False),
        ({"people": 1}, False),
        ({"days_ago": 30}, True),
        ({"days_ago": 31}, False),
    ],
)
def test_first_signup_boundaries(kwargs, raised):
    account = _signup(**kwargs)

    assert (account.pk in hit_ids(c.NB_FIRST_SIGNUP)) is raised


def test_only_the_first_signup_of_a_company_domain_is_raised():
    first = _signup(domain="bigco.example")
    _signup(domain="BIGCO.example")

    assert hit_ids(c.NB_FIRST_SIGNUP) == [first.pk]


# --- New business: 50%+ of startup credits used, last invoice > $5,000


@pytest.mark.parametrize(
    ("balance", "last", "raised"),
    [
        ("10000.00", "5000.01", True),  # 4,999.99 + 5,000.01 invoiced of 20,000: 50%
        ("10000.02", "5000.01", False),  # just under half used
        ("10000.00", "5000.00", False),  # last invoice not over $5,000
    ],
)
def test_credits_used_needs_half_the_credits_and_a_last_invoice_over_5000(balance, last, raised):
    account = startup_account(
        expires_on=TODAY + dt.timedelta(days=200), balance=balance, invoices=("4999.99", last)
    )

    assert (account.pk in hit_ids(c.NB_CREDITS_USED)) is raised


def test_credits_used_ignores_invoices_before_the_credit_term():
    account = startup_account(
        expires_on=TODAY + dt.timedelta(days=200), balance="10000.00", invoices=("6000.00",)
    )
    # Far before the 12-month term that ends at expiry: not paid from credits.
    invoice(account, amount="9000.00", issued_on=dt.date(2024, 1, 1))

    assert hit_ids(c.NB_CREDITS_USED) == []


# --- New business: startup roll-off within ~100 days, last invoice $2k–$5k


@pytest.mark.parametrize(("days", "raised"), [(100, True), (101, False), (-1, False)])
def test_rolloff_100_days_window(days, raised):
    account = startup_account(expires_on=TODAY + dt.timedelta(days=days), invoices=("3000.00",))

    assert (account.pk in hit_ids(c.NB_ROLLOFF_100_DAYS)) is raised


@pytest.mark.parametrize(
    ("last", "raised"),
    [("1999.99", False), ("2000.00", True), ("5000.00", True), ("5000.01", False)],
)
def test_rolloff_100_days_last_invoice_between_2k_and_5k(last, raised):
    account = startup_account(expires_on=TODAY + dt.timedelta(days=50), invoices=("9000", last))

    assert (account.pk in hit_ids(c.NB_ROLLOFF_100_DAYS)) is raised


def test_void_invoices_are_not_the_last_invoice():
    account = startup_account(expires_on=TODAY + dt.timedelta(days=50), invoices=("3000.00",))
    invoice(account, amount="100.00", issued_on=TODAY, status="void")

    assert hit_ids(c.NB_ROLLOFF_100_DAYS) == [account.pk]


def test_accounts_off_the_startup_plan_do_not_roll_off():
    account = startup_account(expires_on=TODAY + dt.timedelta(days=50), invoices=("3000.00",))
    account.plan = "monthly"
    account.save(update_fields=["plan"])

    assert hit_ids(c.NB_ROLLOFF_100_DAYS) == []


# --- New business: roll-off within two months, last invoice > $1,500


@pytest.mark.parametrize(
    ("expires_on", "raised"), [(dt.date(2026, 8, 15), True), (dt.date(2026, 8, 16), False)]
)
def test_rolloff_two_months_window(expires_on, raised):
    account = startup_account(expires_on=expires_on, invoices=("2000.00",))

    assert (account.pk in hit_ids(c.NB_ROLLOFF_2_MONTHS)) is raised


@pytest.mark.parametrize(("last", "raised"), [("1500.00", False), ("1500.01", True)])
def test_rolloff_two_months_needs_a_last_invoice_over_1500(last, raised):
    account = startup_account(expires_on=dt.date(2026, 7, 1), invoices=(last,))

    assert (account.pk in hit_ids(c.NB_ROLLOFF_2_MONTHS)) is raised


# --- Quick deprioritise filters (sales/product-led-lead-qualification)


def test_single_small_product_and_flat_low_spend_are_suggested_for_deprioritising():
    account = AccountFactory.create(plan="scale", employee_count=2000, country="US")
    pay(account, months=4, amount="150.00")

    (hit,) = find_hits(rules=[rule(c.PL_ICP_SCALE)], now=NOW)[c.PL_ICP_SCALE]

    assert hit.deprioritise == [
        "MRR $150.00 is under $500 with no growth ($150.00 3 months earlier)",
        "all spend is one product under $200 ($150.00)",
    ]


def test_growing_spend_under_500_is_not_deprioritised():
    account = AccountFactory.create(plan="scale", employee_count=2000, country="US")
    pay(account, months=1, amount="450.00")
    pay(account, months=1, amount="300.00", last=add_months(LATEST_MONTH, -3))

    (hit,) = find_hits(rules=[rule(c.PL_ICP_SCALE)], now=NOW)[c.PL_ICP_SCALE]

    assert not any("no growth" in reason for reason in hit.deprioritise)


@pytest.mark.parametrize(("expires_on", "suggested"), [("2027-06-15", True), ("2027-06-14", False)])
def test_startup_credits_for_12_more_months_are_suggested_for_deprioritising(expires_on, suggested):
    facts = {"plan": "startup", "credit_expires_on": expires_on, "mrr": "0", "products": 0}

    found = deprioritise_filters({**facts, "mrr_growth_base": "0"}, today=TODAY)

    assert (f"startup credits run 12+ more months (to {expires_on})" in found) is suggested


def test_no_revenue_data_at_all_raises_no_revenue_rule():
    AccountFactory.create(employee_count=60)

    assert find_hits(rules=[rule(c.PL_MRR_BAND), rule(c.PL_FORECAST_JUMP)], now=NOW) == {
        c.PL_MRR_BAND: [],
        c.PL_FORECAST_JUMP: [],
    }


def test_an_inactive_rule_is_not_evaluated():
    band_account()
    off = rule(c.PL_MRR_BAND)
    off = type(off)(**{**off.__dict__, "is_active": False})

    assert find_hits(rules=[off], now=timezone.now()) == {}
