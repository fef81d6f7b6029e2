"""The one parser module: each accepted and refused format, with the value it gives."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Account, AccountSnapshot
from leads.models import TrackerMember
from revopsweb import parsing

TODAY = dt.date(2026, 11, 29)  # a Sunday


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1250", Decimal("1250.00")),
        ("1250.5", Decimal("1250.50")),
        (" 99.90 ", Decimal("99.90")),
        ("1,250.00", Decimal("1250.00")),
        ("1,250,000", Decimal("1250000.00")),
        ("12,345,678.9", Decimal("12345678.90")),
        (12, Decimal("12.00")),
    ],
)
def test_amounts_with_a_dot_or_unambiguous_grouping_are_read_exactly(text, value):
    assert parsing.parse_amount(text) == value


@pytest.mark.parametrize("text", ["12,50", "1,5", "1,250", "1,25.00", "1,2500.00"])
def test_a_comma_that_could_be_a_decimal_separator_is_refused(text):
    with pytest.raises(ValueError, match="Ambiguous decimal separator"):
        parsing.parse_amount(text)


@pytest.mark.parametrize("text", ["1.250,00", "$12", "1e3", "12 50", "NaN", "Infinity", "--1", ""])
def test_other_number_spellings_are_refused(text):
    with pytest.raises(ValueError):
        parsing.parse_amount(text)


def test_amounts_refuse_a_third_decimal_and_negatives_unless_allowed():
    with pytest.raises(ValueError, match="at most 2 decimals"):
        parsing.parse_amount("10.123")
    with pytest.raises(ValueError, match="negative"):
        parsing.parse_amount("-5")
    assert parsing.parse_amount("-18976.24", allow_negative=True) == Decimal("-18976.24")


@pytest.mark.parametrize(
    "text", ["20260105", "05/01/2026", "2026-1-5", "2026-01-05T00:00", "2026-02-30"]
)
def test_dates_are_only_year_month_day(text):
    with pytest.raises(ValueError):
        parsing.parse_date(text)


def test_a_date_in_the_accepted_form_is_read():
    assert parsing.parse_date("2026-01-05") == dt.date(2026, 1, 5)


@pytest.mark.parametrize("text", ["9999-12", "0001-01", "1999-12", "2027-01", "2026-13", "2026-1"])
def test_months_outside_2000_to_next_month_are_refused(text):
    with pytest.raises(ValueError):
        parsing.parse_month(text, today=TODAY)


def test_months_from_2000_to_next_month_are_read():
    assert parsing.parse_month("2000-01", today=TODAY) == dt.date(2000, 1, 1)
    assert parsing.parse_month("2026-12", today=TODAY) == dt.date(2026, 12, 1)


@pytest.mark.parametrize("text", ["9999Q4", "0001Q1", "2027Q1", "2026Q5"])
def test_quarters_outside_the_window_are_refused(text):
    with pytest.raises(ValueError):
        parsing.parse_quarter(text, today=TODAY)


def test_weeks_are_mondays_up_to_the_current_week():
    assert parsing.parse_week("2026-11-23", today=TODAY) == dt.date(2026, 11, 23)
    with pytest.raises(ValueError, match="not started"):
        parsing.parse_week("2026-11-30", today=TODAY)
    with pytest.raises(ValueError, match="not started"):
        parsing.parse_week("2099-01-05", today=TODAY)
    with pytest.raises(ValueError, match="Monday"):
        parsing.parse_week("2026-11-24", today=TODAY)


@pytest.mark.parametrize(
    ("model", "field", "bounds"),
    [
        (Account, "employee_count", (0, 2_147_483_647)),
        (AccountSnapshot, "events", (-(2**63), 2**63 - 1)),
        (TrackerMember, "priority", (0, 32_767)),
        (TrackerMember, "manual_adjustment", (-(2**31), 2**31 - 1)),
    ],
)
def test_integer_bounds_come_from_the_column(model, field, bounds):
    assert parsing.integer_bounds(model, field) == bounds


@pytest.mark.parametrize("value", ["2147483648", 2**31, "1.0", "1e3", True, "12,000", "", "x"])
def test_integers_outside_the_column_or_not_digits_are_refused(value):
    with pytest.raises(ValueError):
        parsing.parse_integer(value, min_value=0, max_value=2**31 - 1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("false", False), ("FALSE", False), ("no", False), ("0", False), ("", False), (False, False),
     ("true", True), ("Yes", True), ("1", True), (True, True)],
)  # fmt: skip
def test_booleans_read_the_words_not_the_truthiness(value, expected):
    assert parsing.parse_boolean(value) is expected


def test_a_boolean_that_is_no_known_word_is_refused():
    with pytest.raises(ValueError):
        parsing.parse_boolean("maybe")


def test_text_fields_refuse_nul_overlong_text_and_objects():
    field = parsing.TextField(max_length=5)
    for value in ["a\x00b", "abcdef", {"first": "Ann"}, ["Ann"], True]:
        with pytest.raises(ValidationError):
            field.clean(value)
    assert field.clean(" Ann ") == "Ann"


def test_email_fields_lower_case_and_cap_at_254_characters():
    field = parsing.EmailField()
    assert field.clean(" First.Last@Example.COM ") == "first.last@example.com"
    valid_but_long = "a" * 64 + "@" + ".".join(["b" * 60] * 3) + ".example.com"
    assert len(valid_but_long) > 254
    with pytest.raises(ValidationError):
        field.clean(valid_but_long)


@pytest.mark.parametrize("text", ["\u0661\u0662", "\uff11\uff12", "1\u0662"])
def test_digits_other_than_ascii_are_not_whole_numbers(text):
    with pytest.raises(ValueError):
        parsing.parse_integer(text, min_value=0, max_value=100)


def test_digits_other_than_ascii_are_not_amounts():
    with pytest.raises(ValueError):
        parsing.parse_amount("\u0661\u0662")


@pytest.mark.parametrize(
    ("text", "page"),
    [
        ("3", 3),
        (" 7 ", 7),
        (None, 1),
        ("", 1),
        ("0", 1),
        ("-5", 1),
        ("abc", 1),
        ("1e3", 1),
        ("2.0", 1),
        ("99999999999999999999", parsing.MAX_PAGE),
        ("9" * 5000, parsing.MAX_PAGE),
    ],
)
def test_a_page_number_is_a_whole_number_from_1_to_max_page(text, page):
    assert parsing.page_number(text) == page
