"""Strict parsing of what people and integrations send: one module, every path.

Every input form (CSV rows, JSON API bodies, admin forms, page forms and query
strings) reads amounts, dates, months, weeks, integers, e-mails, keys and
booleans through the parsers and form fields below, so a value means the same
thing whichever path it came in by, and what a dry run accepts the database
accepts too.

Accepted formats (the README's import sections repeat them):

- Amounts: dollars with a dot for decimals and at most two decimals (``1250``,
  ``1250.5``, ``-18.20``). Thousands may be grouped with commas only when that
  is unambiguous: ``1,250.00`` or ``1,250,000``. ``12,50``, ``1,5`` and
  ``1,250`` are refused ("ambiguous decimal separator"), as are ``1.250,00``,
  currency signs, exponents and spaces inside the number.
- Dates: ``YYYY-MM-DD`` only (``20260105``, ``05/01/2026`` are refused).
- Months: ``YYYY-MM`` between ``FIRST_MONTH`` (2000-01) and next month.
- Quarters: ``YYYYQn`` within the same window.
- Weeks: the Monday's date (``YYYY-MM-DD``), not after the current week.
- Integers: digits only (``"1.0"``, ``"1e3"``, ``true`` refused), bounded by the
  database column they go to (``integer_bounds``).
- Text: no NUL characters (Django's ``CharField`` refuses them) and no longer
  than the column; a JSON object or list where one value is expected is refused.
- E-mail addresses: trimmed and lower-cased, at most 254 characters.
- Booleans: ``true/false``, ``yes/no``, ``1/0``, ``y/n`` (any case), empty is
  false; JSON ``true``/``false``. Anything else is an error (so ``"false"`` is
  false, never "a non-empty string, so true").

Errors are ``ValueError`` (parsers) or ``forms.ValidationError`` (fields) with
a message meant for the person who sent the value.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.db import connection, models

from . import dates

FIRST_MONTH = dt.date(2000, 1, 1)
# Dates far outside any business meaning are typos; they would also overflow
# date arithmetic in reports (9999-12 + 1 month).
FIRST_DATE = dt.date(1970, 1, 1)
LAST_DATE = dt.date(2199, 12, 31)
EMAIL_MAX_LENGTH = 254  # RFC 5321, and the width of every e-mail column

# re.ASCII: \d would also take Arabic-Indic or full-width digits, which int() reads.
_AMOUNT_PLAIN = re.compile(r"^-?\d+(?:\.\d+)?$", re.ASCII)
_AMOUNT_GROUPED_WITH_DECIMALS = re.compile(r"^-?\d{1,3}(?:,\d{3})+\.\d+$", re.ASCII)
_AMOUNT_GROUPED_MANY = re.compile(r"^-?\d{1,3}(?:,\d{3}){2,}$", re.ASCII)
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$", re.ASCII)
_INTEGER = re.compile(r"^[+-]?\d{1,19}$", re.ASCII)
TRUE_WORDS = frozenset({"true", "yes", "1", "y"})
FALSE_WORDS = frozenset({"false", "no", "0", "n", ""})


def last_accepted_month(*, today: dt.date | None = None) -> dt.date:
    """Next month (first day) in the company time zone: the latest month any input may name."""
    return dates.add_months(dates.month_start(today or dates.company_today()), 1)


def current_week(*, today: dt.date | None = None) -> dt.date:
    """The Monday of the current week in the company time zone."""
    return dates.week_start(today or dates.company_today())


def parse_amount(
    value: object,
    *,
    allow_negative: bool = False,
    max_abs: Decimal = Decimal("9999999999.99"),
    decimals: int = 2,
) -> Decimal:
    """Dollars as a Decimal with ``decimals`` places; ValueError with the reason otherwise."""
    if isinstance(value, bool) or value is None:
        raise ValueError("Not a number.")
    if isinstance(value, Decimal | int):
        text = str(value)
    elif isinstance(value, float):
        text = repr(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise ValueError("Not a number.")
    if not text:
        raise ValueError("Required.")
    if "," in text:
        if _AMOUNT_GROUPED_WITH_DECIMALS.match(text) or _AMOUNT_GROUPED_MANY.match(text):
            text = text.replace(",", "")
        else:
            raise ValueError(
                "Ambiguous decimal separator: write 1250.00 (or 1,250.00); "
                "a comma is read only as a thousands separator."
            )
    if not _AMOUNT_PLAIN.match(text):
        raise ValueError("Not a number (digits, an optional minus and a dot for decimals).")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError("Not a number.") from None
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > decimals:
        raise ValueError(f"Use at most {decimals} decimals.")
    if amount < 0 and not allow_negative:
        raise ValueError("Must not be negative.")
    if abs(amount) > max_abs:
        raise ValueError(f"Too large (at most {max_abs:,}).")
    return amount.quantize(Decimal(1).scaleb(-decimals))


def parse_date(
    value: object, *, earliest: dt.date = FIRST_DATE, latest: dt.date = LAST_DATE
) -> dt.date:
    """``YYYY-MM-DD`` within ``earliest``..``latest``; ValueError otherwise."""
    if isinstance(value, dt.datetime):
        raise ValueError("Use a date (YYYY-MM-DD), not a time.")
    if isinstance(value, dt.date):
        day = value
    else:
        match = _DATE.match(value.strip()) if isinstance(value, str) else None
        if not match:
            raise ValueError("Use YYYY-MM-DD, e.g. 2026-03-02.")
        try:
            day = dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            raise ValueError("No such day.") from None
    if not earliest <= day <= latest:
        raise ValueError(f"Must be between {earliest:%Y-%m-%d} and {latest:%Y-%m-%d}.")
    return day


def parse_month(value: object, *, today: dt.date | None = None) -> dt.date:
    """``YYYY-MM`` from 2000-01 to next month, as the month's first day; ValueError otherwise.

    The shape is ``dates.parse_month``'s; the window is what inputs add to it.
    """
    if not isinstance(value, str):
        raise ValueError("Use YYYY-MM, e.g. 2026-03.")
    first = dates.parse_month(value)
    latest = last_accepted_month(today=today)
    if not FIRST_MONTH <= first <= latest:
        raise ValueError(f"Month must be between {FIRST_MONTH:%Y-%m} and {latest:%Y-%m}.")
    return first


def parse_quarter(value: object, *, today: dt.date | None = None) -> dt.date:
    """``YYYYQn`` within the month window, as the quarter's first month; ValueError otherwise.

    The shape is ``dates.parse_quarter``'s; the window is what inputs add to it.
    """
    if not isinstance(value, str):
        raise ValueError("Use YYYYQn, e.g. 2026Q2.")
    first = dates.parse_quarter(value)
    latest = last_accepted_month(today=today)
    if not FIRST_MONTH <= first <= latest:
        raise ValueError(f"Quarter must be between {FIRST_MONTH.year}Q1 and {latest:%Y} this year.")
    return first


def parse_week(value: object, *, today: dt.date | None = None) -> dt.date:
    """A week given by its Monday (``YYYY-MM-DD``), not after the current week; ValueError otherwise."""
    week = parse_date(value, earliest=FIRST_MONTH)
    if week.weekday() != 0:
        raise ValueError("The week must be given by its Monday (YYYY-MM-DD).")
    if week > current_week(today=today):
        raise ValueError("The week has not started yet.")
    return week


def parse_integer(value: object, *, min_value: int, max_value: int) -> int:
    """A whole number within ``min_value``..``max_value``; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("Not a whole number.")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _INTEGER.match(value.strip()):
        number = int(value.strip())
    else:
        raise ValueError("Not a whole number.")
    if number < min_value:
        raise ValueError(
            "Must not be negative." if min_value == 0 else f"Must be at least {min_value:,}."
        )
    if number > max_value:
        raise ValueError(f"Must be at most {max_value:,}.")
    return number


# The highest page number a list reads: far past any list's end (a page past the end
# shows as the last, or empty), and small enough that its offset stays a bigint.
MAX_PAGE = 1_000_000
_PAGE_DIGITS = len(str(MAX_PAGE))


def page_number(value: object) -> int:
    """The page a query string asks for (``?page=``), from 1 to ``MAX_PAGE``: missing,
    not a whole number or below 1 reads as 1 (the first page, as a link without the
    parameter), beyond ``MAX_PAGE`` as ``MAX_PAGE``. Never raises: a URL edited by hand
    gets a page, not an error (``?page=99999999999999999999`` was a 500, its offset
    past PostgreSQL's bigint)."""
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and text.isascii() and text.isdigit() and len(text) > _PAGE_DIGITS:
        # Beyond MAX_PAGE whatever the digits (Python refuses to read 4,300 and more).
        return MAX_PAGE
    try:
        number = parse_integer(text, min_value=1, max_value=10**_PAGE_DIGITS)
    except ValueError:
        return 1
    return min(number, MAX_PAGE)


def parse_boolean(value: object) -> bool:
    """true/false, yes/no, 1/0, y/n or empty (false); ValueError otherwise."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, str | int) else None
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError("Use true or false.")


def integer_bounds(model: type[models.Model], field: str) -> tuple[int, int]:
    """The range the database column ``model.field`` can store (e.g. 0..2,147,483,647)."""
    internal = model._meta.get_field(field).get_internal_type()
    low, high = connection.ops.integer_field_range(internal)
    return int(low if low is not None else -(2**63)), int(high if high is not None else 2**63 - 1)


def normalise_email(value: str) -> str:
    """The one spelling of an e-mail address we store and compare: trimmed, lower case."""
    return value.strip().lower()


# --- form fields ---------------------------------------------------------------


def _reject_containers(value: object) -> None:
    if isinstance(value, dict | list | tuple | set):
        raise forms.ValidationError("Send one value, not a list or an object.", code="invalid")


class TextField(forms.CharField):
    """Text: a string (or a number, for ids), no NUL, at most ``max_length`` characters."""

    def to_python(self, value: Any) -> str:
        _reject_containers(value)
        if isinstance(value, bool):
            raise forms.ValidationError("Send text.", code="invalid")
        return super().to_python(value) or ""


class KeyField(TextField):
    """A natural key, normalised before any comparison: trimmed, and cased as ``case`` says."""

    def __init__(self, *, case: str = "", **kwargs: Any) -> None:
        self.case = case
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        if self.case == "lower":
            return text.lower()
        if self.case == "upper":
            return text.upper()
        return text


class EmailField(forms.EmailField):
    """An e-mail address, trimmed and lower-cased, at most 254 characters."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", EMAIL_MAX_LENGTH)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        _reject_containers(value)
        return normalise_email(super().to_python(value) or "")


class _ParsedField(forms.Field):
    """A field whose value goes through one parser; empty means None."""

    def parse(self, value: object) -> Any:
        raise NotImplementedError

    def to_python(self, value: Any) -> Any:
        _reject_containers(value)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            return self.parse(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from None


class AmountField(_ParsedField):
    """Dollars (see ``parse_amount``)."""

    def __init__(
        self,
        *,
        allow_negative: bool = False,
        max_abs: Decimal = Decimal("9999999999.99"),
        decimals: int = 2,
        **kwargs: Any,
    ) -> None:
        self.allow_negative, self.max_abs, self.decimals = allow_negative, max_abs, decimals
        super().__init__(**kwargs)

    def parse(self, value: object) -> Decimal:
        return parse_amount(
            value, allow_negative=self.allow_negative, max_abs=self.max_abs, decimals=self.decimals
        )


class DateField(_ParsedField):
    """``YYYY-MM-DD`` (see ``parse_date``); ``not_after_today`` refuses future days."""

    widget = forms.DateInput(attrs={"type": "date"})

    def __init__(self, *, not_after_today: bool = False, **kwargs: Any) -> None:
        self.not_after_today = not_after_today
        super().__init__(**kwargs)

    def parse(self, value: object) -> dt.date:
        day = parse_date(value)
        if self.not_after_today and day > dates.company_today():
            raise ValueError("Is in the future.")
        return day


class MonthField(_ParsedField):
    """``YYYY-MM`` in the accepted window (see ``parse_month``)."""

    def parse(self, value: object) -> dt.date:
        if isinstance(value, dt.date):
            value = f"{value:%Y-%m}"
        return parse_month(value)


class WeekField(_ParsedField):
    """A week's Monday, not after the current week (see ``parse_week``)."""

    widget = forms.DateInput(attrs={"type": "date"})

    def parse(self, value: object) -> dt.date:
        return parse_week(value)


class IntegerField(_ParsedField):
    """A whole number within bounds; use ``IntegerField.for_column`` to take the column's."""

    def __init__(self, *, min_value: int, max_value: int, **kwargs: Any) -> None:
        self.min_value, self.max_value = min_value, max_value
        kwargs.setdefault("widget", forms.NumberInput(attrs={"min": min_value, "max": max_value}))
        super().__init__(**kwargs)

    @classmethod
    def for_column(
        cls,
        model: type[models.Model],
        field: str,
        *,
        min_value: int | None = None,
        max_value: int | None = None,
        **kwargs: Any,
    ) -> IntegerField:
        """Bounded by the column and, when given, by tighter business bounds."""
        low, high = integer_bounds(model, field)
        return cls(
            min_value=max(low, min_value) if min_value is not None else low,
            max_value=min(high, max_value) if max_value is not None else high,
            **kwargs,
        )

    def parse(self, value: object) -> int:
        return parse_integer(value, min_value=self.min_value, max_value=self.max_value)


class _Checkbox(forms.CheckboxInput):
    """A checkbox that hands the raw value to the field (Django's reads "maybe" as checked)."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return data.get(name)


class BooleanField(_ParsedField):
    """true/false and friends (see ``parse_boolean``); empty is false."""

    widget = _Checkbox

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> bool:
        _reject_containers(value)
        if value is None:
            return False
        try:
            return parse_boolean(value)
        except ValueError as exc:
            # An HTML checkbox posts "on".
            if isinstance(value, str) and value.strip().lower() == "on":
                return True
            raise forms.ValidationError(str(exc), code="invalid") from None

    def validate(self, value: Any) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")
