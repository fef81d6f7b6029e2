"""Signal backtesting: precision and recall against monthly revenue, with numbers worked by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.churn.backtest import backtest_signals
from accounts.churn.models import ChurnSignal
from accounts.churn.tests.churn_helpers import NOW
from accounts.tests.factories import AccountFactory, manager, revops, tam, team_lead
from billing.tests.factories import MonthlyRevenueFactory
from revopsweb.dates import add_months

pytestmark = pytest.mark.django_db

# NOW is 2026-11-18: revenue data runs through October 2026 when October is imported.


@pytest.fixture(autouse=True)
def _frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def _pays(account, amounts: dict[str, int]) -> None:
    """``{"2026-01": 1000, ...}``: one product's MRR per month."""
    for month, amount in amounts.items():
        year, number = map(int, month.split("-"))
        MonthlyRevenueFactory.create(
            account=account, month=dt.date(year, number, 1), amount=Decimal(amount)
        )


def _months(first: str, last: str, amount: int) -> dict[str, int]:
    start = dt.date.fromisoformat(f"{first}-01")
    end = dt.date.fromisoformat(f"{last}-01")
    out, month = {}, start
    while month <= end:
        out[f"{month:%Y-%m}"] = amount
        month = add_months(month, 1)
    return out


def _signal(account, kind: str, detected_on: dt.date, cleared_on: dt.date | None = None):
    return ChurnSignal.objects.create(
        account=account, kind=kind, evidence={}, detected_on=detected_on, cleared_on=cleared_on
    )


def _row(result, kind, segment="all", days=90):
    return next(r for r in result.rows if (r.kind, r.segment, r.days) == (kind, segment, days))


@pytest.fixture
def history():
    """A churns in July (paid $1,000 Jan–Jun); B pays $2,000 all year; C contracts
    21% in August; D drops 19% in August (not a contraction)."""
    a, b, c, d = (AccountFactory.create() for _ in range(4))
    _pays(a, _months("2026-01", "2026-06", 1000))
    _pays(b, _months("2026-01", "2026-10", 2000))
    _pays(c, {**_months("2026-01", "2026-07", 1000), **_months("2026-08", "2026-10", 790)})
    _pays(d, {**_months("2026-01", "2026-07", 1000), **_months("2026-08", "2026-10", 810)})
    _signal(a, "usage_drop", dt.date(2026, 5, 10), dt.date(2026, 6, 1))  # July within 90 days
    _signal(b, "usage_drop", dt.date(2026, 3, 1), dt.date(2026, 3, 20))  # nothing followed
    _signal(c, "few_active_users", dt.date(2026, 4, 15))  # August: within 180, not 90
    _signal(d, "few_active_users", dt.date(2026, 4, 15))  # 19% is not a contraction
    _signal(b, "few_active_users", dt.date(2026, 9, 1))  # window ends after October: pending
    return a, b, c, d


def test_precision_counts_signals_an_outcome_followed_within_the_horizon(history):
    result = backtest_signals()
    usage = _row(result, "usage_drop")
    assert (usage.judged, usage.hits, usage.precision) == (2, 1, Decimal("50.0"))
    few_90 = _row(result, "few_active_users", days=90)
    few_180 = _row(result, "few_active_users", days=180)
    assert (few_90.judged, few_90.hits, few_90.pending) == (2, 0, 1)
    assert (few_180.judged, few_180.hits, few_180.pending) == (2, 1, 1)
    assert few_180.precision == Decimal("50.0")


def test_recall_counts_outcomes_inside_the_signal_history(history):
    result = backtest_signals()
    # History starts 2026-03-01. Outcomes: A in July, C in August; both have 90
    # days of history before them, neither has 180.
    usage_90 = _row(result, "usage_drop", days=90)
    assert (usage_90.outcomes, usage_90.caught, usage_90.recall) == (2, 1, Decimal("50.0"))
    few_90 = _row(result, "few_active_users", days=90)
    assert (few_90.outcomes, few_90.caught) == (2, 0)
    usage_180 = _row(result, "usage_drop", days=180)
    assert (usage_180.outcomes, usage_180.recall) == (0, None)


def test_segments_are_the_arr_band_before_the_signal(history):
    result = backtest_signals()
    # A ($12K ARR) hit, B ($24K ARR) missed.
    under = _row(result, "usage_drop", segment="under_20k")
    band = _row(result, "usage_drop", segment="arr_20k")
    assert (under.judged, under.hits) == (1, 1)
    assert (band.judged, band.hits) == (1, 0)
    assert _row(result, "usage_drop", segment="arr_60k").judged == 0


def test_a_month_not_imported_yet_is_never_churn():
    account = AccountFactory.create()
    # Paid through October; November is not imported (and is in progress).
    _pays(account, _months("2026-01", "2026-10", 1000))
    _signal(account, "usage_drop", dt.date(2026, 7, 1))
    usage = _row(backtest_signals(), "usage_drop")
    # Window July 1 + 90 = Sept 29: judged, and nothing followed.
    assert (usage.judged, usage.hits, usage.outcomes) == (1, 0, 0)


def test_an_empty_history_gives_zero_rows_not_an_error():
    result = backtest_signals()
    assert result.history_start is None
    assert all(r.judged == r.outcomes == 0 and r.precision is None for r in result.rows)


def test_the_query_count_does_not_grow_with_the_data(history):
    counts = []
    for extra in (0, 30):
        for _ in range(extra):
            account = AccountFactory.create()
            _pays(account, _months("2026-01", "2026-05", 500))
            _signal(account, "single_product", dt.date(2026, 4, 1))
        with CaptureQueriesContext(connection) as queries:
            backtest_signals()
        counts.append(len(queries))
    # Revenue data month, signal history extent, and the two statements (with
    # their transaction's SET LOCAL and savepoint around them).
    assert counts[0] == counts[1] <= 7


def test_the_page_shows_the_figures_for_managers_and_revops(client, history):
    for user in (manager(), revops()):
        client.force_login(user)
        response = client.get(reverse("churn:backtest"))
        assert response.status_code == 200
        body = response.content.decode()
        assert "Within 90 days" in body and "50.0%" in body


@pytest.mark.parametrize("make_user", [tam, team_lead])
def test_the_page_and_csv_are_refused_to_others(client, make_user):
    client.force_login(make_user())
    assert client.get(reverse("churn:backtest")).status_code == 403
    assert client.get(reverse("churn:backtest_csv")).status_code == 403


def test_the_page_issues_a_fixed_number_of_queries(client, history):
    client.force_login(manager())
    counts = []
    for extra in (0, 25):
        for _ in range(extra):
            account = AccountFactory.create()
            _pays(account, _months("2026-02", "2026-04", 700))
            _signal(account, "champion_left", dt.date(2026, 3, 3))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("churn:backtest")).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_csv_has_one_row_per_signal_segment_and_horizon(client, history):
    client.force_login(manager())
    response = client.get(reverse("churn:backtest_csv"))
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("signal,segment,horizon_days,signals_judged")
    assert "usage_drop,all,90,2,1,50.00,0,2,1,50.00,23,4,17.40,2.90" in lines
    # A's signal (May 10) has a 180-day window ending in November, not imported:
    # pending even though July already churned, so unfinished windows never
    # tilt precision either way.
    assert "usage_drop,all,180,1,0,0.00,1,0,0,,12,6,50.00,0.00" in lines


def test_the_table_is_cached_until_the_signal_history_changes(history):
    a = history[0]
    first = _row(backtest_signals(), "usage_drop")
    with CaptureQueriesContext(connection) as queries:
        assert _row(backtest_signals(), "usage_drop") == first
    assert len(queries) == 2  # revenue data month and history extent only
    _signal(a, "usage_drop", dt.date(2026, 4, 20), dt.date(2026, 5, 1))  # July within 90 days
    again = _row(backtest_signals(), "usage_drop")
    assert (again.judged, again.hits) == (first.judged + 1, first.hits + 1)


def test_the_nightly_command_warms_the_cache(history):
    from django.core.management import call_command

    call_command("detect_churn_signals")
    with CaptureQueriesContext(connection) as queries:
        backtest_signals()
    assert len(queries) == 2


def test_chance_is_how_often_any_paying_account_lost_revenue_within_the_horizon(history):
    result = backtest_signals()
    # Sample days: the 1st of each month from March (the history's month) whose
    # window is imported. 90 days: Mar 1..Aug 1 for A (paying Feb-Jun: 5 days,
    # May 1 and Jun 1 see July's churn), B, C and D (6 each; C's Jun 1 and
    # Jul 1 see August's contraction): 23 judged, 4 hits.
    usage_90 = _row(result, "usage_drop", days=90)
    assert (usage_90.chance_judged, usage_90.chance_hits) == (23, 4)
    assert usage_90.chance == Decimal("17.4")
    assert usage_90.lift == Decimal("2.9")  # 50.0% precision / 17.4%
    # 180 days: Mar 1, Apr 1, May 1 for each account; A's and C's all hit.
    usage_180 = _row(result, "usage_drop", days=180)
    assert (usage_180.chance_judged, usage_180.chance_hits) == (12, 6)
    # B ($24K ARR) never lost revenue.
    band = _row(result, "usage_drop", segment="arr_20k", days=90)
    assert (band.chance_judged, band.chance_hits, band.lift) == (6, 0, None)
