"""Month and quarter arithmetic. A month is always the date of its first day."""

from __future__ import annotations

import datetime as dt
import re

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, count: int) -> dt.date:
    """The first day of the month ``count`` months after ``month`` (negative goes back)."""
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def month_range(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every month from ``first`` to ``last`` inclusive."""
    months = []
    current = month_start(first)
    while current <= last:
        months.append(current)
        current = add_months(current, 1)
    return months


def parse_month(text: str) -> dt.date:
    """Parse ``YYYY-MM``; raise ValueError otherwise."""
    match = _MONTH.match(text.strip())
    if not match:
        raise ValueError("Use YYYY-MM, e.g. 2026-03.")
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12:
        raise ValueError("Month must be 01 to 12.")
    return dt.date(year, month, 1)


def parse_quarter(text: str) -> dt.date:
    """Parse ``YYYYQn`` into the quarter's first month; raise ValueError otherwise."""
    match = _QUARTER.match(text.strip().upper())
    if not match:
        raise ValueError("Use YYYYQn, e.g. 2026Q2.")
    return dt.date(int(match[1]), (int(match[2]) - 1) * 3 + 1, 1)


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def quarter_label(first_month: dt.date) -> str:
    return f"{first_month.year}Q{(first_month.month - 1) // 3 + 1}"
