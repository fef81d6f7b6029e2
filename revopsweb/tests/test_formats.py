"""One format per kind (issue 19): the rules of the money, number, day, month and
moment filters (revopsweb/formats.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.template import engines

from revopsweb.formats import day, moment, money, month, number, percent


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("1234567.49"), "$1,234,567"),
        (Decimal("0.5"), "$1"),  # half up, not to even
        (0, "$0"),
        (-1200, "−$1,200"),
        (12.3, "$12"),
        ("4500", "$4,500"),
        (None, "–"),
        ("n/a", "–"),
    ],
)
def test_money_is_whole_dollars_with_the_sign_and_thousands_separators(value, shown):
    assert money(value) == shown


def test_money_in_cents_keeps_two_decimals():
    assert money(Decimal("2750"), cents=True) == "$2,750.00"
    assert money(Decimal("-0.125"), cents=True) == "−$0.13"


def test_numbers_have_thousands_separators_and_the_places_asked_for():
    assert number(12345) == "12,345"
    assert number(Decimal("2.45"), places=1) == "2.5"
    assert number(-3) == "−3"
    assert number(None) == "–"


def test_a_day_is_iso_and_a_moments_day_is_the_company_times(settings):
    settings.TIME_ZONE = "America/New_York"
    assert day(dt.date(2026, 6, 30)) == "2026-06-30"
    # 02:00 UTC on 14 May is 22:00 on 13 May in New York.
    assert day(dt.datetime(2026, 5, 14, 2, 0, tzinfo=dt.UTC)) == "2026-05-13"
    assert day(None) == "–"


def test_a_month_is_short_name_and_year(settings):
    settings.TIME_ZONE = "America/New_York"
    assert month(dt.date(2026, 11, 1)) == "Nov 2026"
    assert month(dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)) == "Nov 2026"


def test_a_moment_is_in_the_company_time_zone_with_its_abbreviation(settings):
    settings.TIME_ZONE = "America/New_York"
    assert moment(dt.datetime(2026, 11, 29, 14, 5, tzinfo=dt.UTC)) == "2026-11-29 09:05 EST"
    assert moment(dt.datetime(2026, 7, 1, 14, 5, tzinfo=dt.UTC)) == "2026-07-01 10:05 EDT"
    berlin = dt.datetime(2026, 7, 1, 16, 5, tzinfo=ZoneInfo("Europe/Berlin"))
    assert moment(berlin) == "2026-07-01 10:05 EDT"


def test_the_filters_are_builtins_every_template_can_use(settings):
    settings.TIME_ZONE = "America/New_York"
    rendered = (
        engines["django"]
        .from_string(
            '{{ a|money }} {{ b|money:"cents" }} {{ n|number:1 }} {{ d|day }} {{ d|month }} {{ t|moment }}'
        )
        .render(
            {
                "a": Decimal("-1234.5"),
                "b": Decimal("800"),
                "n": 2.25,
                "d": dt.date(2026, 3, 9),
                "t": dt.datetime(2026, 3, 9, 12, 0, tzinfo=dt.UTC),
            }
        )
    )
    assert rendered == "−$1,235 $800.00 2.3 2026-03-09 Mar 2026 2026-03-09 08:00 EDT"


def test_a_date_printed_without_a_filter_reads_like_the_day_filter(settings):
    settings.TIME_ZONE = "America/New_York"
    rendered = (
        engines["django"]
        .from_string("{{ d }} | {{ t }}")
        .render({"d": dt.date(2026, 12, 31), "t": dt.datetime(2026, 12, 31, 15, 30, tzinfo=dt.UTC)})
    )
    assert rendered == "2026-12-31 | 2026-12-31 10:30 EST"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("93.5"), "93.5%"),
        (Decimal("-0.93"), "−0.93%"),
        (Decimal("209.70"), "209.70%"),
        (Decimal("1234.5"), "1,234.5%"),
        (100, "100%"),
        (Decimal("0"), "0%"),
        (None, "–"),
        ("n/a", "–"),
    ],
)
def test_a_percentage_keeps_its_decimals_and_a_true_minus(value, shown):
    assert percent(value) == shown
