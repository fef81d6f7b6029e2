"""Receiving-as-a-CSM flags, each at its threshold."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts.handovers.receiving import receiving_flags, recommend_push_back
from accounts.handovers.tests.handover_factories import ready_account
from accounts.models import Activity, ActivityKind, Plan
from accounts.tests.books_factories import TODAY, give_revenue, plan_for
from accounts.tests.factories import tam
from billing.models import Invoice

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 5, 15, 12, 0, tzinfo=dt.UTC)
WINDOW = [
    dt.date(2025, 11, 1),
    dt.date(2025, 12, 1),
    dt.date(2026, 1, 1),
    dt.date(2026, 2, 1),
    dt.date(2026, 3, 1),
]


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(NOON, tick=False)


def raised(account):
    return {f.key for f in receiving_flags(account, today=TODAY) if not f.ok}


@pytest.fixture
def account():
    return ready_account(tam())


def test_a_steady_account_raises_no_flag(account):
    assert raised(account) == set()


@pytest.mark.parametrize(("status", "flagged"), [("open", True), ("failed", True), ("paid", False)])
def test_open_invoices_flag(account, status, flagged):
    Invoice.objects.create(
        account=account,
        number="I-1",
        period=TODAY.replace(day=1),
        issued_on=TODAY,
        due_on=TODAY,
        amount=Decimal(10),
        status=status,
    )
    assert ("invoices" in raised(account)) is flagged


def mrr_series(account, amounts):
    """Product analytics revenue for Nov 2025 … Mar 2026, then April adds to the core 3000."""
    for month, amount in zip(WINDOW, amounts[:-1], strict=True):
        give_revenue(account, month=month, product_analytics=amount)
    give_revenue(account, product_analytics=amounts[-1] - 3000)


@pytest.mark.parametrize(("last", "flagged"), [(9000, True), (9001, False)])
def test_mrr_declining_ten_percent_over_six_months_flags(account, last, flagged):
    mrr_series(account, [10000, 10000, 10000, 10000, 9500, last])
    assert ("mrr" in raised(account)) is flagged


@pytest.mark.parametrize(
    ("series", "flagged"),
    [
        ([10000, 12500, 12500, 12500, 15625, 15625], True),  # two swings of 25%
        ([10000, 12500, 12500, 12500, 15624, 15624], False),  # second swing just under 25%
    ],
)
def test_two_swings_of_25_percent_make_mrr_volatile(account, series, flagged):
    mrr_series(account, series)
    assert ("mrr" in raised(account)) is flagged


@pytest.mark.parametrize(
    ("balance", "flagged"),
    [(15000, False), (15001, True), (5000, False), (4999, True)],
)
def test_credits_that_do_not_match_monthly_spend_flag(account, balance, flagged):
    # MRR 3000 for exactly ten months (304 days / 30.4): 30000 expected.
    account.credit_balance = Decimal(balance) * 3
    account.credit_expires_on = TODAY + dt.timedelta(days=304)
    account.save()
    assert ("credits" in raised(account)) is flagged


def test_credits_without_any_spend_flag(account):
    account.credit_balance = Decimal(1000)
    account.credit_expires_on = TODAY + dt.timedelta(days=100)
    account.save()
    account.monthly_revenue.all().delete()
    assert "credits" in raised(account)


@pytest.mark.parametrize(
    ("discount", "agreement", "plan", "flagged"),
    [
        ("0.300", True, Plan.ANNUAL, False),  # $36k ARR: 20% volume + 10% levers
        ("0.301", True, Plan.ANNUAL, True),
        ("0.100", False, Plan.ANNUAL, True),  # undocumented
        ("0.100", True, Plan.MONTHLY, True),  # no discounts on monthly plans
    ],
)
def test_non_standard_discounts_flag(account, discount, agreement, plan, flagged):
    account.annual_discount = Decimal(discount)
    account.has_discount_agreement = agreement
    account.plan = plan
    account.save()
    assert ("discount" in raised(account)) is flagged


def test_fewer_than_three_core_products_flag_unless_the_plan_documents_why():
    account = ready_account(tam())  # its plan documents the levers tried
    account.monthly_revenue.filter(product__key="error_tracking").delete()
    assert "core" not in raised(account)
    account.plans.update(levers_tried="", no_viable_levers=False)
    assert "core" in raised(account)


@pytest.mark.parametrize(("users", "flagged"), [(2, True), (3, False), (None, True)])
def test_fewer_than_three_active_users_flag(account, users, flagged):
    account.active_users_30d = users
    account.save()
    assert ("users" in raised(account)) is flagged


def touch(account, days_ago, *, from_customer=False):
    Activity.objects.create(
        account=account,
        kind=ActivityKind.EMAIL,
        from_customer=from_customer,
        occurred_at=NOON - dt.timedelta(days=days_ago),
        summary="touch",
    )


def test_five_touches_without_a_customer_reply_flag_one_sided_engagement(account):
    for days in range(1, 6):
        touch(account, days)
    touch(account, 6, from_customer=True)  # older than the last five
    assert "engagement" in raised(account)


def test_a_customer_reply_within_the_last_five_touches_clears_engagement(account):
    for days in range(1, 5):
        touch(account, days)
    touch(account, 5, from_customer=True)
    assert "engagement" not in raised(account)


def test_a_missing_or_stale_plan_flags(account):
    account.plans.all().delete()
    assert "plan" in raised(account)
    plan_for(account, quarter_start=dt.date(2026, 1, 1), title="Q1 Account Plan – X")
    assert "plan" in raised(account)


def snapshot(account, week, events, tickets=0):
    account.snapshots.create(week=week, events=events, support_tickets=tickets)


@pytest.mark.parametrize(
    ("after", "flagged"), [(1500, True), (1499, False), (500, True), (501, False)]
)
def test_a_weekly_usage_swing_of_half_without_a_conversation_flags(account, after, flagged):
    snapshot(account, dt.date(2026, 4, 27), 1000)
    snapshot(account, dt.date(2026, 5, 4), after)
    assert ("usage" in raised(account)) is flagged


def test_a_note_near_the_swing_explains_it(account):
    snapshot(account, dt.date(2026, 4, 27), 1000)
    snapshot(account, dt.date(2026, 5, 4), 3000)
    Activity.objects.create(
        account=account,
        kind=ActivityKind.NOTE,
        occurred_at=dt.datetime(2026, 5, 6, 9, 0, tzinfo=dt.UTC),
        summary="Launched the mobile app: events tripled as planned.",
    )
    assert "usage" not in raised(account)


@pytest.mark.parametrize(("tickets", "flagged"), [(1, True), (0, False)])
def test_open_support_tickets_in_the_latest_week_flag(account, tickets, flagged):
    snapshot(account, dt.date(2026, 5, 4), 1000, tickets=3)
    snapshot(account, dt.date(2026, 5, 11), 1000, tickets=tickets)
    assert ("tickets" in raised(account)) is flagged


def test_three_flags_recommend_pushing_back_and_two_do_not(account):
    account.active_users_30d = 1
    account.annual_discount = Decimal("0.1")
    account.has_discount_agreement = False
    account.save()
    assert not recommend_push_back(receiving_flags(account, today=TODAY))
    account.plans.all().delete()
    assert recommend_push_back(receiving_flags(account, today=TODAY))
