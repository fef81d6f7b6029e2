from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from accounts.models import Account, Plan, TopAccount
from accounts.segments import (
    Segment,
    account_chart,
    all_core_paid,
    mrr_by_owner,
    mrr_history,
    paid_core_products,
    rank_top_accounts_if_unranked,
    refresh_top_accounts,
    segments_of,
    usage_history,
    with_revenue,
)
from accounts.tests.books_factories import (
    LAST_MONTH,
    TODAY,
    freeze_today,
    give_arr,
    give_revenue,
    grant_credits,
)
from accounts.tests.factories import AccountFactory, tam
from billing.adjustments import CREDIT_GRANT_MONTHS_SQL
from billing.models import CreditGrantKind

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today(time_machine):
    freeze_today(time_machine)


def annotated(account: Account) -> Any:
    return with_revenue(Account.objects.filter(pk=account.pk), today=TODAY).get()


def segments(account: Account) -> list[str]:
    return segments_of(annotated(account))


def test_arr_is_twelve_times_the_latest_complete_month():
    account = AccountFactory.create()
    give_revenue(account, product_analytics=1000, session_replay="250.50")
    give_revenue(account, month=dt.date(2026, 5, 1), product_analytics=99999)  # month in progress
    give_revenue(account, month=dt.date(2026, 3, 1), product_analytics=800)
    row = annotated(account)
    assert row.mrr == Decimal("1250.50")
    assert row.arr == Decimal("15006.00")
    assert row.mom_change == Decimal("450.50")


@pytest.mark.parametrize(
    ("mrr", "expected"),
    [
        ("1666.66", []),  # ARR 19,999.92
        ("1666.67", [Segment.ARR_20K]),  # ARR 20,000.04
        ("4999.99", [Segment.ARR_20K]),  # ARR 59,999.88
        ("5000.00", [Segment.ARR_60K]),  # ARR 60,000
    ],
)
def test_arr_segments_at_their_thresholds(mrr, expected):
    account = AccountFactory.create()
    give_revenue(account, product_analytics=mrr)
    assert [s for s in segments(account) if s in (Segment.ARR_20K, Segment.ARR_60K)] == expected


def test_startup_plan_needs_live_credit_and_keeps_the_account_out_of_arr_segments():
    account = AccountFactory.create(
        plan=Plan.STARTUP, credit_balance=Decimal(5000), credit_expires_on=dt.date(2026, 5, 16)
    )
    give_arr(account, 70000)
    assert Segment.STARTUP in segments(account)
    assert Segment.ARR_60K not in segments(account)


def test_startup_credit_expiring_today_is_not_the_startup_segment():
    account = AccountFactory.create(
        plan=Plan.STARTUP, credit_balance=Decimal(5000), credit_expires_on=TODAY
    )
    give_arr(account, 70000)
    assert Segment.STARTUP not in segments(account)
    assert Segment.ARR_60K in segments(account)


def test_annual_plan_is_a_yearly_plan_or_live_credit_off_the_startup_plan():
    yearly = AccountFactory.create(plan=Plan.ANNUAL)
    credit = AccountFactory.create(
        plan=Plan.MONTHLY, credit_balance=Decimal(1), credit_expires_on=dt.date(2026, 12, 31)
    )
    spent = AccountFactory.create(
        plan=Plan.MONTHLY, credit_balance=Decimal(0), credit_expires_on=dt.date(2026, 12, 31)
    )
    assert Segment.ANNUAL in segments(yearly)
    assert Segment.ANNUAL in segments(credit)
    assert Segment.ANNUAL not in segments(spent)


def test_active_trial_ends_after_today():
    assert Segment.TRIAL in segments(AccountFactory.create(trial_ends_on=dt.date(2026, 5, 16)))
    assert Segment.TRIAL not in segments(AccountFactory.create(trial_ends_on=TODAY))


def test_first_payment_forecast_needs_no_payment_yet_and_more_than_one_dollar():
    kwargs = {"current_period_ends_on": dt.date(2026, 5, 31)}
    new = AccountFactory.create(forecasted_mrr=Decimal("1.01"), **kwargs)
    tiny = AccountFactory.create(forecasted_mrr=Decimal("1.00"), **kwargs)
    paid_before = AccountFactory.create(forecasted_mrr=Decimal(500), **kwargs)
    give_revenue(paid_before, month=dt.date(2025, 1, 1), product_analytics=10)
    assert Segment.FIRST_PAYMENT in segments(new)
    assert Segment.FIRST_PAYMENT not in segments(tiny)
    assert Segment.FIRST_PAYMENT not in segments(paid_before)


def test_top_40_is_the_forty_highest_arr_accounts():
    accounts = AccountFactory.create_batch(41)
    for rank, account in enumerate(accounts):
        give_arr(account, 12 * (1000 + rank))
    rows: Any = with_revenue(Account.objects.all(), today=TODAY)
    top = set(rows.filter(is_top_40=True).values_list("pk", flat=True))
    assert top == {a.pk for a in accounts[1:]}


def _top_40_live() -> set[int]:
    rows: Any = with_revenue(Account.objects.all(), today=TODAY)
    return set(rows.filter(is_top_40=True).values_list("pk", flat=True))


def test_top_40_ranks_by_mrr_after_billing_configurations_not_by_usage():
    # 40 accounts at $12,000..$12,039 ARR; a startup account using $600,000 a
    # year on credits has MRR $0, and an enterprise account using $1,200 a year
    # paid $96,000 for its credits ($8,000 a month, $96,000 ARR).
    paying = AccountFactory.create_batch(40)
    for rank, account in enumerate(paying):
        give_arr(account, 12_000 + rank)
    startup = AccountFactory.create(plan=Plan.STARTUP)
    grant_credits(startup, CreditGrantKind.STARTUP)
    give_arr(startup, 600_000)
    enterprise = AccountFactory.create(plan=Plan.ANNUAL)
    grant_credits(enterprise, CreditGrantKind.ENTERPRISE, paid_amount=Decimal(96_000))
    give_arr(enterprise, 1_200)
    expected = {enterprise.pk} | {a.pk for a in paying[1:]}
    assert _top_40_live() == expected
    assert refresh_top_accounts(today=TODAY) == 40
    first = TopAccount.objects.get(month=LAST_MONTH, rank=1)
    assert (first.account_id, first.arr) == (enterprise.pk, Decimal("96000.00"))
    assert set(TopAccount.objects.values_list("account", flat=True)) == expected


def test_top_40_ranks_startup_usage_again_once_the_credits_run_out():
    startup = AccountFactory.create(plan=Plan.STARTUP)
    grant_credits(startup, CreditGrantKind.STARTUP, depleted_on=dt.date(2026, 4, 20))
    give_arr(startup, 600_000)
    assert _top_40_live() == {startup.pk}


def test_paid_products_need_more_than_two_hundred_dollars():
    account = AccountFactory.create()
    give_revenue(account, session_replay="200.01", feature_flags=200, error_tracking=5000)
    assert paid_core_products([account.pk], today=TODAY) == {
        account.pk: ["Session Replay", "Error Tracking"]
    }
    assert annotated(account).core_paid_count == 2


def test_paid_core_products_generic_plan_reads_the_paid_revenue_index():
    # The page runs the statement prepared, and its plan is the generic one
    # (plan_cache_mode): with the $200 as a parameter that plan could not read the
    # partial index of revenue rows over $200 and filtered every row of the accounts.
    account = AccountFactory.create()
    give_revenue(account, session_replay=900, error_tracking=50)
    with CaptureQueriesContext(connection) as issued:
        paid_core_products([account.pk], today=TODAY)
    # revopsweb.sql's logging cursor adds the statement as the server was sent it.
    prepared: Any = issued.captured_queries[-1]["prepared"]
    sql, params = prepared
    numbered = sql
    for n in range(1, len(params) + 1):
        numbered = numbered.replace("%s", f"${n}", 1)

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"PREPARE paid_plan AS {numbered}")
        cursor.execute(f"EXPLAIN EXECUTE paid_plan({', '.join(['%s'] * len(params))})", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("DEALLOCATE paid_plan")

    assert "monthly_revenue_paid" in plan, plan


def test_all_core_paid_needs_every_core_product_over_two_hundred_dollars_that_month():
    every = AccountFactory.create()
    give_revenue(every, session_replay="200.01", feature_flags=900, error_tracking=5000)
    # Three products paid, one of them not core; the third core one paid the month before.
    not_core = AccountFactory.create()
    give_revenue(not_core, session_replay=900, feature_flags=900, product_analytics=9000)
    give_revenue(not_core, month=dt.date(2026, 3, 1), error_tracking=900)
    at_200 = AccountFactory.create()
    give_revenue(at_200, session_replay=900, feature_flags=900, error_tracking=200)
    accounts = Account.objects.filter(pk__in=[every.pk, not_core.pk, at_200.pk])

    paid = dict(accounts.annotate(paid=all_core_paid(month=LAST_MONTH)).values_list("pk", "paid"))

    assert paid == {every.pk: True, not_core.pk: False, at_200.pk: False}


def test_the_account_chart_lists_each_revenue_row_and_the_last_months_paid_products():
    account = AccountFactory.create()
    give_revenue(account, session_replay="200.01", feature_flags=200, error_tracking=5000)
    # Paid the month before, not in the chart's last month: not a paid product.
    give_revenue(account, month=dt.date(2026, 3, 1), feature_flags=900, product_analytics=50)
    chart = account_chart(account_id=account.pk, months=[dt.date(2026, 3, 1), LAST_MONTH])
    assert chart.paid == paid_core_products([account.pk], today=TODAY)[account.pk]
    assert sorted(chart.rows) == sorted(
        [
            (LAST_MONTH, "Session Replay", Decimal("200.01")),
            (LAST_MONTH, "Feature Flags", Decimal(200)),
            (LAST_MONTH, "Error Tracking", Decimal(5000)),
            (dt.date(2026, 3, 1), "Feature Flags", Decimal(900)),
            (dt.date(2026, 3, 1), "Product Analytics", Decimal(50)),
        ]
    )


def test_mrr_history_covers_twelve_months_oldest_first_with_gaps_as_zero():
    account = AccountFactory.create()
    give_revenue(account, month=LAST_MONTH, product_analytics=300)
    give_revenue(account, month=dt.date(2025, 5, 1), product_analytics=100)
    give_revenue(account, month=dt.date(2025, 4, 1), product_analytics=999)  # 13 months ago
    series = mrr_history([account.pk], today=TODAY)[account.pk]
    assert len(series) == 12
    assert series[0] == Decimal(100)
    assert series[-1] == Decimal(300)
    assert sum(series) == Decimal(400)


def test_mrr_history_reads_mrr_by_billing_configuration_as_the_rows_arr_does():
    # My book draws it beside each row's ARR: an account on startup credits drew its
    # usage (a high line beside $0 ARR), an enterprise purchase its usage, not the
    # spread payment its ARR is twelve times.
    startup, enterprise, usage = AccountFactory.create_batch(3, plan=Plan.ANNUAL)
    for month, amount in ((dt.date(2026, 2, 1), 500), (dt.date(2026, 3, 1), 50_000)):
        give_revenue(startup, month=month, product_analytics=amount)
    give_revenue(startup, product_analytics=60_000)
    grant_credits(startup, CreditGrantKind.STARTUP)  # pays for March and April
    for month in (dt.date(2026, 2, 1), dt.date(2026, 3, 1), LAST_MONTH):
        give_revenue(enterprise, month=month, product_analytics=100)
        give_revenue(usage, month=month, product_analytics=700)
    # $96,000 over its 12 paid months from March: $8,000 a month.
    grant_credits(enterprise, CreditGrantKind.ENTERPRISE, paid_amount=Decimal(96_000))

    series = mrr_history([startup.pk, enterprise.pk, usage.pk], today=TODAY)

    assert series[startup.pk][-3:] == [Decimal(500), Decimal(0), Decimal(0)]
    assert series[enterprise.pk][-3:] == [Decimal(100), Decimal(8000), Decimal(8000)]
    assert series[usage.pk][-3:] == [Decimal(700)] * 3
    assert sum(series[startup.pk][:-3]) == sum(series[enterprise.pk][:-3]) == 0
    # The row's ARR is twelve times the series' last month.
    for account, arr in ((startup, 0), (enterprise, 96_000), (usage, 8_400)):
        assert annotated(account).arr == series[account.pk][-1] * 12 == Decimal(arr)


def test_usage_history_reads_usage_whatever_credits_paid_for_it():
    account = AccountFactory.create()
    give_revenue(account, product_analytics=50_000)
    grant_credits(account, CreditGrantKind.STARTUP)
    assert usage_history([account.pk], today=TODAY)[account.pk][-1] == Decimal(50_000)


def test_refreshing_the_top_40_cache_ranks_by_arr_and_is_idempotent():
    accounts = AccountFactory.create_batch(3)
    for rank, account in enumerate(accounts):
        give_arr(account, 12 * (100 + rank))
    assert refresh_top_accounts(today=TODAY) == 3
    assert refresh_top_accounts(today=TODAY) == 3
    ranked = list(TopAccount.objects.filter(month=LAST_MONTH).values_list("account", "rank"))
    assert ranked == [(accounts[2].pk, 1), (accounts[1].pk, 2), (accounts[0].pk, 3)]


def test_pages_read_the_cached_ranking_when_the_month_has_one():
    cached, live = AccountFactory.create_batch(2)
    give_arr(cached, 1200)
    refresh_top_accounts(today=TODAY)
    give_arr(live, 1200)  # arrives after the ranking; the hourly job picks it up
    assert annotated(cached).is_top_40
    assert not annotated(live).is_top_40


def test_the_refresh_job_records_its_run():
    from accounts.tasks import refresh_top_accounts_task as task
    from revopsweb.models import JobRun

    give_arr(AccountFactory.create(), 1200)
    task()
    run = JobRun.objects.get(job="refresh_top_accounts")
    assert (run.outcome, run.rows_affected) == (JobRun.Outcome.SUCCEEDED, 1)


def test_the_revenue_figures_read_the_revenue_table_a_fixed_number_of_times():
    # MRR, previous MRR, ARR, MoM change and the ARR segments all read one
    # joined row of the monthly summary per month; the revenue table itself is
    # read by the paid core products count (inlined in core_paid_count and
    # all_core_paid) and the never-paid check. Before, each of those figures
    # summed it again: 15 subplans per row.
    sql = str(with_revenue(Account.objects.all(), today=TODAY, month=LAST_MONTH).query)
    assert sql.count('FROM "billing_monthlyrevenue"') == 3
    # This month and the one before per row; the Top 40 is read from its stored
    # table only (the live ranking is no longer in the per-row statement).
    assert sql.count('JOIN "billing_accountmonthmrr"') == 2


def test_the_per_row_statement_reads_only_the_stored_top_40():
    # The live ranking (its LIMIT 40 candidates and the summary's rank index) ran
    # only while a month was unranked yet was costed into every page's plan.
    sql = str(with_revenue(Account.objects.all(), today=TODAY, month=LAST_MONTH).query)
    assert "LIMIT 40" not in sql
    assert 'FROM "billing_accountmonthmrr"' not in sql
    assert sql.count('FROM "accounts_topaccount"') == 1


def test_the_credit_grant_rule_is_joined_once_per_row_not_inlined_per_figure():
    # MRR, previous MRR, ARR, MoM change and the $20K/$60K segments read the
    # grants' months from one LATERAL join per row. Before, the rule was inlined
    # about 12 times.
    sql = str(with_revenue(Account.objects.all(), today=TODAY, month=LAST_MONTH).query)
    assert sql.count("LEFT OUTER JOIN LATERAL (") == 1
    assert sql.count(CREDIT_GRANT_MONTHS_SQL) == 1


def test_a_page_on_an_unranked_month_shows_the_top_40_the_job_stores():
    # 41 accounts: the lowest is out. No stored ranking when the page is read.
    accounts = AccountFactory.create_batch(41)
    for rank, account in enumerate(accounts):
        give_arr(account, 12 * (1000 + rank))
    assert not TopAccount.objects.filter(month=LAST_MONTH).exists()
    before = _top_40_live()
    assert before == {a.pk for a in accounts[1:]}
    TopAccount.objects.all().delete()
    assert refresh_top_accounts(today=TODAY) == 40
    assert _top_40_live() == before


def test_ranking_an_unranked_month_is_one_statement_and_idempotent(django_assert_num_queries):
    accounts = AccountFactory.create_batch(3)
    for rank, account in enumerate(accounts):
        give_arr(account, 12 * (100 + rank))
    for _ in range(2):
        with django_assert_num_queries(1):
            rank_top_accounts_if_unranked(month=LAST_MONTH)
    ranked = list(TopAccount.objects.filter(month=LAST_MONTH).values_list("account", "rank", "arr"))
    assert ranked == [
        (accounts[2].pk, 1, Decimal("1224.00")),
        (accounts[1].pk, 2, Decimal("1212.00")),
        (accounts[0].pk, 3, Decimal("1200.00")),
    ]


def test_revenue_figures_hold_where_the_annotated_rows_are_a_subquery_or_counted():
    # The joined grants follow the query when it is nested (its aliases are
    # renamed) or counted: an enterprise purchase paying $8,000 a month puts the
    # account in $60K ARR whatever its usage; startup credits keep usage at $0.
    enterprise = AccountFactory.create(plan=Plan.ANNUAL)
    grant_credits(enterprise, CreditGrantKind.ENTERPRISE, paid_amount=Decimal(96_000))
    give_arr(enterprise, 1_200)
    startup = AccountFactory.create(plan=Plan.MONTHLY)
    grant_credits(startup, CreditGrantKind.STARTUP)
    give_arr(startup, 600_000)
    rows: Any = with_revenue(Account.objects.all(), today=TODAY, month=LAST_MONTH)
    in_60k = Account.objects.filter(pk__in=rows.filter(seg_60k=True).values("pk"))
    assert list(in_60k.values_list("pk", flat=True)) == [enterprise.pk]
    assert rows.filter(arr__gt=0).count() == 1
    assert list(rows.exclude(mrr=0).values_list("pk", "mrr")) == [(enterprise.pk, Decimal(8_000))]
    assert rows.get(pk=startup.pk).mom_change == 0


@pytest.fixture
def month_locked_elsewhere():
    """Another connection holding the Top 40 writers' lock of LAST_MONTH (as the
    job replacing that month's ranking, or another page storing it, would)."""
    import psycopg
    from django.db import connection

    from accounts.segments import TOP_40_LOCK_CLASS

    settings = connection.settings_dict
    other = psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        password=settings["PASSWORD"] or None,
    )
    key = LAST_MONTH.year * 12 + LAST_MONTH.month
    other.execute("SELECT pg_advisory_xact_lock(%s, %s)", [TOP_40_LOCK_CLASS, key])
    yield
    other.rollback()
    other.close()


def test_a_page_stores_no_ranking_while_another_writer_holds_the_month(month_locked_elsewhere):
    give_arr(AccountFactory.create(), 12_000)
    rank_top_accounts_if_unranked(month=LAST_MONTH)
    assert not TopAccount.objects.filter(month=LAST_MONTH).exists()


def test_the_job_waits_for_a_writer_holding_the_month(month_locked_elsewhere):
    from django.db import OperationalError, connection, transaction

    give_arr(AccountFactory.create(), 12_000)
    with pytest.raises(OperationalError, match="lock timeout"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '200ms'")
        refresh_top_accounts(today=TODAY)
    assert not TopAccount.objects.filter(month=LAST_MONTH).exists()


def test_one_owners_mrr_follows_the_month_the_filter_and_the_owner_asked_for():
    # One owner's statement is compiled once per month and filter (mrr_by_owner):
    # each call still reads its own month, filter and owner.
    ann, bob = tam(), tam()
    paying = AccountFactory.create(owner=ann, owner_role="TAM")
    give_revenue(paying, product_analytics=1000)
    give_revenue(paying, month=dt.date(2026, 3, 1), product_analytics=800)
    give_revenue(
        AccountFactory.create(owner=ann, owner_role="TAM", is_lead=True), product_analytics=500
    )
    on_credits = AccountFactory.create(owner=ann, owner_role="TAM")
    give_revenue(on_credits, product_analytics=9000)
    grant_credits(on_credits, CreditGrantKind.STARTUP)
    give_revenue(AccountFactory.create(owner=bob, owner_role="TAM"), product_analytics=700)
    accounts, leads = Q(is_lead=False), Q(is_lead=True)

    assert mrr_by_owner([ann.pk], accounts, month=LAST_MONTH) == {ann.pk: Decimal(1000)}
    assert mrr_by_owner([ann.pk], accounts, month=dt.date(2026, 3, 1)) == {ann.pk: Decimal(800)}
    assert mrr_by_owner([ann.pk], leads, month=LAST_MONTH) == {ann.pk: Decimal(500)}
    assert mrr_by_owner([bob.pk], accounts, month=LAST_MONTH) == {bob.pk: Decimal(700)}
    assert mrr_by_owner([ann.pk, bob.pk], accounts, month=LAST_MONTH) == {
        ann.pk: Decimal(1000),
        bob.pk: Decimal(700),
    }
