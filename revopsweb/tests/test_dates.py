from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

from revopsweb.dates import (
    add_months,
    company_today,
    current_month,
    latest_complete_month,
    month_range,
    months_between,
    parse_month,
    parse_quarter,
    quarter_end,
    quarter_label,
    week_start,
)

# 03:30 UTC on 1 April is still 31 March in New York (UTC-4 in April).
EARLY_UTC = dt.datetime(2026, 4, 1, 3, 30, tzinfo=dt.UTC)


@override_settings(TIME_ZONE="America/New_York")
def test_company_today_is_the_date_in_the_company_time_zone_not_utc():
    assert company_today(now=EARLY_UTC) == dt.date(2026, 3, 31)
    assert current_month(now=EARLY_UTC) == dt.date(2026, 3, 1)


@override_settings(TIME_ZONE="America/New_York")
def test_company_today_ignores_a_time_zone_activated_for_a_request():
    with timezone.override("Asia/Tokyo"):
        assert company_today(now=EARLY_UTC) == dt.date(2026, 3, 31)


def test_add_months_crosses_year_boundaries_both_ways():
    assert add_months(dt.date(2026, 11, 15), 3) == dt.date(2027, 2, 1)
    assert add_months(dt.date(2026, 1, 31), -1) == dt.date(2025, 12, 1)


def test_latest_complete_month_is_the_month_before_today():
    assert latest_complete_month(dt.date(2026, 1, 10)) == dt.date(2025, 12, 1)


def test_months_between_counts_calendar_months_ignoring_days():
    assert months_between(dt.date(2025, 11, 30), dt.date(2026, 2, 1)) == 3
    assert months_between(dt.date(2026, 2, 1), dt.date(2025, 11, 30)) == -3


def test_month_range_is_inclusive_and_oldest_first():
    assert month_range(dt.date(2025, 11, 20), dt.date(2026, 1, 1)) == [
        dt.date(2025, 11, 1),
        dt.date(2025, 12, 1),
        dt.date(2026, 1, 1),
    ]


def test_quarter_end_is_the_last_day_of_the_quarter():
    assert quarter_end(dt.date(2026, 5, 14)) == dt.date(2026, 6, 30)
    assert quarter_end(dt.date(2026, 12, 1)) == dt.date(2026, 12, 31)


def test_quarter_label_and_parse_quarter_round_trip():
    assert quarter_label(dt.date(2026, 8, 9)) == "2026Q3"
    assert parse_quarter("2026q3") == dt.date(2026, 7, 1)


@pytest.mark.parametrize("text", ["2026-13", "2026-3", "March 2026", ""])
def test_parse_month_refuses_anything_but_yyyy_mm(text):
    with pytest.raises(ValueError):
        parse_month(text)


def test_week_start_is_the_monday():
    assert week_start(dt.date(2026, 3, 15)) == dt.date(2026, 3, 9)  # a Sunday
    assert week_start(dt.date(2026, 3, 9)) == dt.date(2026, 3, 9)
