from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from accounts.churn.models import ChurnSignal
from accounts.churn.signals import detect_churn_signals
from accounts.churn.tests.churn_helpers import (
    NOW,
    TODAY,
    activity,
    open_signals,
    owned_account,
    snapshot,
    weeks_back,
)
from accounts.models import ActivityKind, Contact, Health
from accounts.tests.factories import AccountFactory
from billing.models import Invoice
from billing.tests.factories import MonthlyRevenueFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def _quiet_account(**kwargs):
    """An owned account with a customer message yesterday, so only the signal under test fires."""
    account = owned_account(**kwargs)
    activity(account, at=NOW - dt.timedelta(days=1))
    return account


def _mrr(account, month, amount):
    MonthlyRevenueFactory.create(account=account, month=month, amount=Decimal(amount))


# --- usage down 30% -----------------------------------------------------------


@pytest.mark.parametrize(("october", "fires"), [(701, False), (700, True), (699, True)])
def test_mrr_down_thirty_percent_month_on_month_is_a_usage_signal(october, fires):
    account = _quiet_account()
    _mrr(account, dt.date(2026, 9, 1), 1000)
    _mrr(account, dt.date(2026, 10, 1), october)
    detect_churn_signals()
    signals = open_signals(account)
    assert ("usage_drop" in signals) is fires
    if fires:
        assert signals["usage_drop"]["metric"] == "mrr"
        assert signals["usage_drop"]["month"] == "2026-10-01"


def test_a_usage_drop_is_on_the_accounts_mrr_over_all_its_products():
    # September $700 + $300 = $1,000; October $400 + $300 = $700: the account
    # is down 30% though one product held. A product alone falling 30% with
    # the total down less does not fire (see the second account).
    account = _quiet_account()
    _product_mrr(account, "session_replay", 700, month=dt.date(2026, 9, 1))
    _product_mrr(account, "feature_flags", 300, month=dt.date(2026, 9, 1))
    _product_mrr(account, "session_replay", 400, month=dt.date(2026, 10, 1))
    _product_mrr(account, "feature_flags", 300, month=dt.date(2026, 10, 1))
    steady = _quiet_account()
    _product_mrr(steady, "session_replay", 700, month=dt.date(2026, 9, 1))
    _product_mrr(steady, "feature_flags", 300, month=dt.date(2026, 9, 1))
    _product_mrr(steady, "session_replay", 400, month=dt.date(2026, 10, 1))
    _product_mrr(steady, "feature_flags", 400, month=dt.date(2026, 10, 1))

    detect_churn_signals()

    evidence = open_signals(account)["usage_drop"]
    assert (evidence["value"], evidence["prior_value"], evidence["drop_pct"]) == (700, 1000, 30)
    assert "usage_drop" not in open_signals(steady)


@pytest.mark.parametrize(("last_october", "seasonal"), [(700, True), (701, False)])
def test_a_drop_in_the_same_months_last_year_is_seasonal(last_october, seasonal):
    account = _quiet_account()
    _mrr(account, dt.date(2025, 9, 1), 1000)
    _mrr(account, dt.date(2025, 10, 1), last_october)
    _mrr(account, dt.date(2026, 9, 1), 1000)
    _mrr(account, dt.date(2026, 10, 1), 500)
    detect_churn_signals()
    assert ("usage_drop" in open_signals(account)) is not seasonal


def test_average_weekly_events_down_thirty_percent_is_a_usage_signal():
    account = _quiet_account()
    for week in (dt.date(2026, 9, 7), dt.date(2026, 9, 14), dt.date(2026, 9, 21)):
        snapshot(account, week, events=1000)
    for week in (dt.date(2026, 10, 5), dt.date(2026, 10, 12), dt.date(2026, 10, 19)):
        snapshot(account, week, events=650)
    detect_churn_signals()
    evidence = open_signals(account)["usage_drop"]
    assert evidence["metric"] == "weekly_events"
    assert evidence["drop_pct"] == 35.0


# --- health poor 4+ weeks ----------------------------------------------------


@pytest.mark.parametrize(("poor_weeks", "fires"), [(3, False), (4, True), (5, True)])
def test_health_poor_for_four_consecutive_weeks(poor_weeks, fires):
    account = _quiet_account()
    snapshot(account, weeks_back(poor_weeks), health=Health.FAIR)
    for n in range(poor_weeks):
        snapshot(account, weeks_back(n), health=Health.POOR)
    detect_churn_signals()
    assert ("health_poor" in open_signals(account)) is fires


def test_poor_weeks_with_a_gap_are_not_consecutive():
    account = _quiet_account()
    for n in (0, 1, 3, 4):
        snapshot(account, weeks_back(n), health=Health.POOR)
    detect_churn_signals()
    assert "health_poor" not in open_signals(account)


# --- renewal under 90 days with negative engagement ---------------------------


@pytest.mark.parametrize(("days_to_renewal", "fires"), [(89, True), (90, False), (0, True)])
def test_renewal_under_ninety_days_without_a_customer_touch(days_to_renewal, fires):
    account = owned_account(renewal_date=TODAY + dt.timedelta(days=days_to_renewal))
    activity(account, at=NOW - dt.timedelta(days=40))
    detect_churn_signals()
    assert ("renewal_negative" in open_signals(account)) is fires


@pytest.mark.parametrize(("days_since_touch", "fires"), [(29, False), (30, True), (31, True)])
def test_renewal_signal_needs_thirty_days_without_a_customer_touch(days_since_touch, fires):
    account = owned_account(renewal_date=TODAY + dt.timedelta(days=30), health=Health.GOOD)
    activity(account, kind=ActivityKind.CALL, at=NOW - dt.timedelta(days=days_since_touch))
    detect_churn_signals()
    assert ("renewal_negative" in open_signals(account)) is fires


def test_renewal_with_poor_health_fires_despite_recent_contact():
    account = owned_account(renewal_date=TODAY + dt.timedelta(days=30), health=Health.POOR)
    activity(account, at=NOW - dt.timedelta(days=1))
    detect_churn_signals()
    assert "renewal_negative" in open_signals(account)


# --- payment failed, no response ------------------------------------------------


@pytest.mark.parametrize(("reply_day", "fires"), [(9, True), (10, False), (11, False)])
def test_failed_payment_without_a_customer_response_since(reply_day, fires):
    account = owned_account()
    Invoice.objects.create(
        account=account,
        number="INV-1",
        period=dt.date(2026, 11, 1),
        issued_on=dt.date(2026, 11, 1),
        due_on=dt.date(2026, 11, 10),
        amount=Decimal(500),
        status=Invoice.Status.FAILED,
    )
    activity(account, at=dt.datetime(2026, 11, reply_day, 15, 0, tzinfo=dt.UTC))
    detect_churn_signals()
    assert ("payment_failed" in open_signals(account)) is fires


def test_an_open_invoice_is_not_a_failed_payment():
    account = _quiet_account()
    Invoice.objects.create(
        account=account,
        number="INV-2",
        period=dt.date(2026, 10, 1),
        issued_on=dt.date(2026, 10, 1),
        due_on=dt.date(2026, 10, 10),
        amount=Decimal(500),
    )
    detect_churn_signals()
    assert "payment_failed" not in open_signals(account)


# --- few active users ---------------------------------------------------------------


@pytest.mark.parametrize(("users", "fires"), [(0, False), (1, True), (2, True), (3, False)])
def test_only_one_or_two_active_users(users, fires):
    account = _quiet_account(active_users_30d=users)
    detect_churn_signals()
    assert ("few_active_users" in open_signals(account)) is fires


# --- no customer message for 14+ days ----------------------------------------------


@pytest.mark.parametrize(("days", "fires"), [(13, False), (14, True), (15, True)])
def test_no_customer_email_or_slack_for_fourteen_days(days, fires):
    account = owned_account()
    activity(account, kind=ActivityKind.SLACK, at=NOW - dt.timedelta(days=days))
    detect_churn_signals()
    assert ("no_customer_message" in open_signals(account)) is fires


def test_our_own_messages_do_not_count_as_the_customer_talking():
    account = owned_account()
    activity(account, at=NOW - dt.timedelta(days=20))
    activity(account, from_customer=False, at=NOW - dt.timedelta(days=1))
    detect_churn_signals()
    assert open_signals(account)["no_customer_message"]["last_message_on"] == str(
        (NOW - dt.timedelta(days=20)).date()
    )


def test_an_owned_account_that_never_heard_from_the_customer_goes_cold_after_fourteen_days():
    account = owned_account()
    detect_churn_signals()
    assert "no_customer_message" not in open_signals(account)
    with time_machine.travel(NOW + dt.timedelta(days=14), tick=False):
        detect_churn_signals()
    assert open_signals(account)["no_customer_message"] == {"last_message_on": None}


def test_unowned_accounts_have_no_relationship_to_go_cold():
    account = AccountFactory.create()
    with time_machine.travel(NOW + dt.timedelta(days=30), tick=False):
        detect_churn_signals()
    assert "no_customer_message" not in open_signals(account)


# --- champion left -------------------------------------------------------------------


def _champion(account, name, left_on=None):
    return Contact.objects.create(
        account=account,
        name=name,
        email=f"{name.lower()}@example.com",
        is_champion=True,
        left_company_on=left_on,
    )


def test_champion_left_without_a_replacement():
    account = _quiet_account()
    _champion(account, "Ann", left_on=dt.date(2026, 11, 1))
    detect_churn_signals()
    assert open_signals(account)["champion_left"] == {"champion": "Ann", "left_on": "2026-11-01"}


def test_a_current_champion_is_a_replacement_relationship():
    account = _quiet_account()
    _champion(account, "Ann", left_on=dt.date(2026, 11, 1))
    _champion(account, "Bob")
    detect_churn_signals()
    assert "champion_left" not in open_signals(account)


# --- full data export -----------------------------------------------------------------


@pytest.mark.parametrize(("days_ago", "fires"), [(29, True), (30, True), (31, False)])
def test_full_data_export_requested_in_the_last_thirty_days(days_ago, fires):
    account = _quiet_account()
    activity(account, kind=ActivityKind.DATA_EXPORT, at=NOW - dt.timedelta(days=days_ago))
    detect_churn_signals()
    assert ("data_export" in open_signals(account)) is fires


# --- support tickets spiking ------------------------------------------------------------


@pytest.mark.parametrize(("latest", "fires"), [(9, False), (10, True), (11, True)])
def test_support_tickets_twice_the_eight_week_average(latest, fires):
    account = _quiet_account()
    for n in range(1, 9):
        snapshot(account, weeks_back(n), support_tickets=4 if n % 2 else 6)  # average 5
    snapshot(account, weeks_back(0), support_tickets=latest)
    detect_churn_signals()
    assert ("support_spike" in open_signals(account)) is fires


# --- billing page visits without context ----------------------------------------------------


@pytest.mark.parametrize(("visits", "fires"), [(2, False), (3, True), (4, True)])
def test_billing_page_visits_without_a_recent_conversation(visits, fires):
    account = owned_account()
    activity(account, at=NOW - dt.timedelta(days=20))
    snapshot(account, weeks_back(0), billing_page_visits=visits)
    detect_churn_signals()
    assert ("billing_visits" in open_signals(account)) is fires


@pytest.mark.parametrize(("days", "fires"), [(13, False), (14, True)])
def test_a_recent_conversation_gives_billing_visits_context(days, fires):
    account = owned_account()
    activity(account, kind=ActivityKind.CALL, from_customer=False, at=NOW - dt.timedelta(days=days))
    snapshot(account, weeks_back(0), billing_page_visits=5)
    detect_churn_signals()
    assert ("billing_visits" in open_signals(account)) is fires


# --- the job as a whole ----------------------------------------------------------------------


def test_rerunning_the_job_changes_nothing():
    account = owned_account(active_users_30d=1)
    activity(account, at=NOW - dt.timedelta(days=20))
    first = detect_churn_signals()
    rows = list(ChurnSignal.objects.values_list("id", "kind", "evidence", "detected_on"))
    assert first == len(rows) >= 2
    assert detect_churn_signals() == 0
    assert list(ChurnSignal.objects.values_list("id", "kind", "evidence", "detected_on")) == rows
    assert set(open_signals(account)) == {"few_active_users", "no_customer_message"}


def test_a_signal_that_no_longer_holds_is_cleared_and_can_reopen():
    account = _quiet_account(active_users_30d=2)
    detect_churn_signals()
    account.active_users_30d = 12
    account.save()
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False):
        assert detect_churn_signals() == 1
    cleared = ChurnSignal.objects.get(account=account, kind="few_active_users")
    assert cleared.cleared_on == TODAY + dt.timedelta(days=1)
    account.active_users_30d = 1
    account.save()
    with time_machine.travel(NOW + dt.timedelta(days=2), tick=False):
        detect_churn_signals()
    history = ChurnSignal.objects.filter(account=account, kind="few_active_users")
    assert [s.cleared_on for s in history.order_by("id")] == [TODAY + dt.timedelta(days=1), None]


def test_changed_figures_refresh_the_open_signals_evidence():
    account = _quiet_account(active_users_30d=2)
    detect_churn_signals()
    signal = ChurnSignal.objects.get(account=account)
    account.active_users_30d = 1
    account.save()
    assert detect_churn_signals() == 1
    signal.refresh_from_db()
    assert signal.evidence == {"active_users_30d": 1}
    assert signal.cleared_on is None and signal.detected_on == TODAY


# --- recommendation not actioned 2+ weeks ---------------------------------------


def _recommendation(account, *, days_ago, due_in_days_from_given=14):
    from leads.recommendations import give_recommendation

    given = NOW - dt.timedelta(days=days_ago)
    return give_recommendation(
        account=account,
        by=account.owner,
        text="Move the replay sampling to 50%",
        due_on=given.date() + dt.timedelta(days=due_in_days_from_given),
        now=given,
    )


@pytest.mark.parametrize(("days_ago", "fires"), [(13, False), (14, True), (30, True)])
def test_a_recommendation_still_open_two_weeks_after_it_was_given_is_a_signal(days_ago, fires):
    account = _quiet_account()
    task = _recommendation(account, days_ago=days_ago)
    detect_churn_signals()
    signals = open_signals(account)
    assert ("recommendation_stale" in signals) is fires
    if fires:
        assert signals["recommendation_stale"]["task"] == task.pk
        assert (
            signals["recommendation_stale"]["recommendation"] == "Move the replay sampling to 50%"
        )


def test_a_recommendation_waits_for_a_later_due_date():
    account = _quiet_account()
    # Given 20 days ago, due in 30 days from then: not late yet.
    _recommendation(account, days_ago=20, due_in_days_from_given=30)
    detect_churn_signals()
    assert "recommendation_stale" not in open_signals(account)


def test_actioning_the_recommendation_clears_its_signal():
    from leads.recommendations import action_recommendation

    account = _quiet_account()
    task = _recommendation(account, days_ago=20)
    detect_churn_signals()
    assert "recommendation_stale" in open_signals(account)
    action_recommendation(task=task, by=account.owner)
    detect_churn_signals()
    assert "recommendation_stale" not in open_signals(account)
    signal = ChurnSignal.objects.get(account=account, kind="recommendation_stale")
    assert signal.cleared_on == TODAY


# --- single product usage -------------------------------------------------------


def _product_mrr(account, key, amount, month=dt.date(2026, 10, 1)):
    from billing.models import Product

    product, _ = Product.objects.get_or_create(key=key, defaults={"name": key})
    MonthlyRevenueFactory.create(
        account=account, product=product, month=month, amount=Decimal(amount)
    )
    return product


def test_paying_for_one_product_in_the_revenue_month_is_single_product_usage():
    account = _quiet_account()
    product = _product_mrr(account, "session_replay", 400)
    detect_churn_signals()
    evidence = open_signals(account)["single_product"]
    assert evidence == {"month": "2026-10-01", "product": product.name, "mrr": 400.0}


def test_two_paid_products_are_not_single_product_usage():
    account = _quiet_account()
    _product_mrr(account, "session_replay", 400)
    _product_mrr(account, "feature_flags", "0.01")
    detect_churn_signals()
    assert "single_product" not in open_signals(account)


def test_a_second_product_at_zero_dollars_does_not_count():
    account = _quiet_account()
    _product_mrr(account, "session_replay", 400)
    _product_mrr(account, "feature_flags", 0)
    detect_churn_signals()
    assert "single_product" in open_signals(account)


def test_single_product_reads_the_revenue_data_month_not_an_older_one():
    account = _quiet_account()
    other = _quiet_account()
    # September had two products, October (the revenue data month) one.
    _product_mrr(account, "session_replay", 400, month=dt.date(2026, 9, 1))
    _product_mrr(account, "feature_flags", 100, month=dt.date(2026, 9, 1))
    _product_mrr(account, "session_replay", 400)
    _product_mrr(other, "session_replay", 400, month=dt.date(2026, 9, 1))
    _product_mrr(other, "feature_flags", 100)
    _product_mrr(other, "surveys", 100)
    detect_churn_signals()
    assert "single_product" in open_signals(account)
    assert "single_product" not in open_signals(other)


# --- data exported to a warehouse only ------------------------------------------


@pytest.mark.parametrize(
    ("rows", "users", "fires"),
    [(1, 0, True), (5_000_000, 0, True), (0, 0, False), (5_000_000, 1, False), (None, 0, False)],
)
def test_exporting_to_a_warehouse_with_no_active_users_is_warehouse_only(rows, users, fires):
    account = _quiet_account()
    snapshot(account, weeks_back(0), warehouse_export_rows=rows, active_users_30d=users)
    detect_churn_signals()
    signals = open_signals(account)
    assert ("warehouse_only" in signals) is fires
    if fires:
        assert signals["warehouse_only"]["warehouse_export_rows"] == rows


def test_warehouse_only_reads_the_latest_fresh_week():
    account = _quiet_account()
    stale = _quiet_account()
    snapshot(account, weeks_back(1), warehouse_export_rows=900, active_users_30d=0)
    snapshot(account, weeks_back(0), warehouse_export_rows=900, active_users_30d=4)
    snapshot(stale, weeks_back(4), warehouse_export_rows=900, active_users_30d=0)
    detect_churn_signals()
    assert "warehouse_only" not in open_signals(account)
    assert "warehouse_only" not in open_signals(stale)
