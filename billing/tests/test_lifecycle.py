from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.tests.factories import AccountFactory
from billing.lifecycle import customer_stages, lifecycle_components
from billing.retention import retention_series
from billing.tests.factories import product
from billing.tests.helpers import month, series

pytestmark = pytest.mark.django_db


def _stages(account, last):
    stages = customer_stages(first_month=month(0), last_month=month(last), adjusted=False)
    return [
        stages[(account.id, month(n))].stage if (account.id, month(n)) in stages else None
        for n in range(last + 1)
    ]


def test_stages_walk_through_new_growing_flat_shrinking_churned():
    account = AccountFactory.create()
    series(account, [100, 150, 150, 120, 0])
    assert _stages(account, 4) == ["new", "growing", "flat", "shrinking", "churned"]


def test_a_customer_returning_after_a_gap_is_reactivated_not_new():
    account = AccountFactory.create()
    series(account, [100, None, None, 80])
    assert _stages(account, 3) == ["new", "churned", None, "reactivated"]


def test_a_customer_paying_before_the_analysed_window_is_reactivated_not_new():
    account = AccountFactory.create()
    series(account, [500], start=-20)
    series(account, [300])
    assert _stages(account, 0) == ["reactivated"]


@pytest.mark.smoke
def test_components_follow_the_handbook_formulas_and_add_up_to_the_total():
    new, grower, shrinker, flat, churner, back = AccountFactory.create_batch(6)
    series(grower, [None, 1000, 1500])
    series(shrinker, [None, 1000, 700])
    series(flat, [None, 400, 400])
    series(churner, [None, 900, 0])
    series(back, [250, 0, 600])
    series(new, [None, None, 200])
    row = lifecycle_components(through=month(2), months=1, adjusted=False)[0]
    assert row.baseline == Decimal("3300.00")  # previous month's total
    assert row.new == Decimal("200.00")
    assert row.reactivated == Decimal("600.00")
    assert row.retained == Decimal("1000.00") + Decimal("1000.00") + Decimal(
        "400.00"
    )  # prev for grow/shrink
    assert row.expansion == Decimal("500.00")
    assert row.contraction == Decimal("-300.00")
    assert row.churned == Decimal("-900.00")
    parts = row.baseline + row.new + row.reactivated + row.expansion + row.contraction + row.churned
    assert parts == row.total == Decimal("3400.00")


def test_rates_are_components_over_baseline_in_percent():
    grower, churner = AccountFactory.create_batch(2)
    series(grower, [800, 900])
    series(churner, [200, 0])
    row = lifecycle_components(through=month(1), months=1, adjusted=False)[0]
    assert row.rates == {
        "new": Decimal("0.00"),
        "expansion": Decimal("10.00"),
        "contraction": Decimal("0.00"),
        "churn": Decimal("-20.00"),
    }


def test_components_cover_the_last_eighteen_months_plus_the_current_one():
    account = AccountFactory.create()
    series(account, [100])
    rows = lifecycle_components(through=month(18), adjusted=False)
    assert [r.month for r in rows] == [month(n) for n in range(19)]


def test_per_product_levels_see_a_cross_sell_as_new_product_revenue():
    account = AccountFactory.create()
    series(account, [1000, 1000], key="product_analytics")
    series(account, [None, 300], key="session_replay")
    rows = lifecycle_components(through=month(1), months=1, adjusted=False, by_product=True)
    by_product = {r.product_id: r for r in rows}
    assert by_product[product("session_replay").id].new == Decimal("300.00")
    assert by_product[product("product_analytics").id].retained == Decimal("1000.00")
    total = lifecycle_components(through=month(1), months=1, adjusted=False)[0]
    assert total.expansion == Decimal("300.00") and total.new == 0


def test_adjusted_lifecycle_does_not_count_a_spike_as_expansion():
    account = AccountFactory.create()
    series(account, [2000, 2000, 9000, 2000])
    raw = lifecycle_components(through=month(2), months=1, adjusted=False)[0]
    adjusted = lifecycle_components(through=month(2), months=1, adjusted=True)[0]
    assert raw.expansion == Decimal("7000.00")
    assert adjusted.expansion == 0 and adjusted.retained == Decimal("2000.00")


# Retention: base-month MRR × 12 ≥ $5,000 qualifies ($416.67 → $5,000.04 does,
# $416.66 → $4,999.92 does not).
def test_ndr_and_gdr_count_only_customers_with_five_thousand_annual_revenue_in_the_base():
    big, small, grower = AccountFactory.create_batch(3)
    series(big, ["416.67", 0, 0, "200.00"])
    series(small, ["416.66", 0, 0, "900.00"])
    series(grower, ["1000.00", 0, 0, "1500.00"])
    row = retention_series(through=month(3), months=1)[0]
    base = Decimal("1416.67")
    assert row.ndr[3] == (Decimal("1700.00") / base * 100).quantize(Decimal("0.01"))
    assert row.gdr[3] == (Decimal("1200.00") / base * 100).quantize(Decimal("0.01"))


def test_ndr_and_gdr_use_three_six_and_twelve_month_bases():
    account = AccountFactory.create()
    series(account, [1000] + [None] * 5 + [2000] + [None] * 5 + [500] + [None] * 5 + [1500])
    row = retention_series(through=month(18), months=1)[0]
    # base 12 = month 6 (2000), base 6 = month 12 (500), base 3 = month 15 (none)
    assert row.ndr == {3: None, 6: Decimal("300.00"), 12: Decimal("75.00")}
    assert row.gdr == {3: None, 6: Decimal("100.00"), 12: Decimal("75.00")}


def test_a_churned_base_customer_counts_zero_in_ndr():
    kept, lost = AccountFactory.create_batch(2)
    series(kept, [1000, 1000, 1000, 1000])
    series(lost, [1000, 1000, 0, 0])
    row = retention_series(through=month(3), months=1)[0]
    assert row.ndr[3] == Decimal("50.00") and row.gdr[3] == Decimal("50.00")
