"""The revenue pages' summaries give every month exactly what computing it alone gives."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import AccountFactory
from billing.cache import fresh_summary, page_components, page_products
from billing.lifecycle import lifecycle_components
from billing.revenue_data import revenue_data_through
from billing.summary import refresh_revenue_summary
from billing.tests.helpers import series
from revopsweb.dates import add_months, company_today

pytestmark = pytest.mark.django_db

# 30 months from January 2026 back-dated: customers who start, grow, churn,
# come back and cross-sell, so new, reactivated, churned and the 3/6/12-month
# retention bases all appear somewhere.
START = -24


def _history_of_customers() -> None:
    shapes: list[list[int | None]] = [
        [100, 200, 200, 0, 0, 300, 300, 900] * 4,
        [None] * 6 + [5000, 5200, 5100, 0, 0, 0, 4000] * 3,
        [700] * 30,
        [None] * 20 + [50, 60, 70, 80, 90, 100, 0, 10, 10, 10],
    ]
    for shape in shapes:
        account = AccountFactory.create()
        series(account, shape[:30], start=START)
        series(account, [None] * 12 + [400] * 18, start=START, key="session_replay")


@pytest.mark.parametrize("adjusted", [True, False])
def test_each_months_page_is_a_slice_equal_to_computing_it_alone(adjusted):
    _history_of_customers()
    latest = revenue_data_through(today=company_today()).month
    assert latest is not None
    for back in (0, 1, 6, 17, 18, 25, 29):
        through = add_months(latest, -back)

        fresh_summary()
        sliced = page_components(through=through, adjusted=adjusted)

        assert sliced == lifecycle_components(through=through, adjusted=adjusted), back


@pytest.mark.parametrize("adjusted", [True, False])
def test_per_product_rows_from_the_warmed_history_equal_one_months_computation(adjusted):
    _history_of_customers()
    refresh_revenue_summary()
    latest = revenue_data_through(today=company_today()).month
    assert latest is not None
    for back in (0, 5, 20):
        through = add_months(latest, -back)

        rows = page_products(through=through, adjusted=adjusted)

        alone = lifecycle_components(through=through, months=1, adjusted=adjusted, by_product=True)
        assert rows == alone, back


def test_the_refresh_leaves_nothing_for_a_page_to_recompute(django_assert_num_queries):
    _history_of_customers()
    refresh_revenue_summary()
    latest = revenue_data_through(today=company_today()).month
    assert latest is not None

    # whether anything changed (no), the components, the per-product components
    with django_assert_num_queries(3):
        fresh_summary()
        months = page_components(through=latest, adjusted=True)
        page_products(through=latest, adjusted=False)

    assert months[-1].month == latest and months[-1].total > 0


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(amounts=st.lists(st.sampled_from([None, 0, 100, 250, 6000]), min_size=20, max_size=26))
def test_any_revenue_history_slices_the_same_as_computing_alone(amounts):
    # Hypothesis reuses the test's transaction: start each example from no revenue.
    from django.core.cache import cache

    from billing.models import MonthlyRevenue

    MonthlyRevenue.objects.all().delete()
    cache.clear()
    series(AccountFactory.create(), amounts, start=START)
    latest = revenue_data_through(today=company_today()).month
    if latest is None:
        return
    through = add_months(latest, -3)
    fresh_summary()
    assert page_components(through=through, adjusted=True) == (
        lifecycle_components(through=through, adjusted=True)
    )


@pytest.mark.parametrize("adjusted", [True, False])
def test_months_before_the_first_revenue_are_zeros_from_the_summaries(
    adjusted, django_assert_num_queries
):
    _history_of_customers()
    refresh_revenue_summary()
    latest = revenue_data_through(today=company_today()).month
    assert latest is not None
    for back in (30, 31, 40):
        through = add_months(latest, -back)

        with django_assert_num_queries(2):
            totals = page_components(through=through, adjusted=adjusted)
            products = page_products(through=through, adjusted=adjusted)

        assert totals == lifecycle_components(through=through, adjusted=adjusted), back
        assert products == lifecycle_components(
            through=through, months=1, adjusted=adjusted, by_product=True
        )


def test_a_product_nobody_pays_for_any_more_has_no_row_in_the_summaries_either():
    account = AccountFactory.create()
    series(account, [100, 100, None, None, None, None], key="logs")
    series(account, [100] * 6)
    refresh_revenue_summary()
    latest = revenue_data_through(today=company_today()).month
    assert latest is not None

    rows = page_products(through=latest, adjusted=False)

    assert rows == lifecycle_components(through=latest, months=1, adjusted=False, by_product=True)
    assert [row.total for row in rows] == [Decimal("100.00")]
