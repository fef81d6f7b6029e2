from __future__ import annotations

from decimal import Decimal

from accounts.templatetags.books import sparkline


def test_sparkline_draws_one_point_per_month_from_low_to_high():
    svg = sparkline([Decimal(10), Decimal(20), Decimal(30)])
    points = svg.split('points="')[1].split('"')[0].split()
    assert points == ["0.0,22.0", "60.0,12.0", "120.0,2.0"]


def test_sparkline_without_revenue_says_so():
    assert "no revenue" in sparkline(None)
