"""Calendar arithmetic: the company's today, weeks, months and quarters.

The one home of date helpers; domain modules import them from here.

Conventions:

- "Today" is the date in the company's time zone (``settings.TIME_ZONE``),
  whatever the server's or an activated request's time zone, so a job at
  00:30 New York time on the 1st is in the new month even when the worker
  runs in UTC.
- A month is the date of its first day (``2026-03-01`` is March 2026).
- A quarter is the date of its first month's first day (``2026-04-01`` is
  2026Q2); quarters are calendar quarters.
- A week is the date of its Monday (ISO weeks).

All functions are pure except ``company_today`` and ``current_month``, which
read the clock when ``now`` is not given.
"""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


# --- today -----------------------------------------------------------------


def company_today(*, now: dt.datetime | None = None) -> dt.date:
    """The date of ``now`` (default: the current time) in the company's time zone."""
    return timezone.localdate(now or timezone.now(), timezone=timezone.get_default_timezone())


def current_month(*, now: dt.datetime | None = None) -> dt.date:
    """The first day of the company's current month (of ``now`` when given)."""
    return month_start(company_today(now=now))


# --- weeks -------------------------------------------------------------------


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s ISO week."""
    return day - dt.timedelta(days=day.weekday())


# --- months ------------------------------------------------------------------


def month_start(day: dt.date) -> dt.date:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def add_months(month: dt.date, count: int) -> dt.date:
    """The first day of the month ``count`` months after ``month``'s (negative goes back)."""
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def latest_complete_month(today: dt.date) -> dt.date:
    """The first day of the month before ``today``'s: the last month fully
    invoiced (and the last closed round-robin period)."""
    return add_months(today, -1)


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole calendar months from ``start``'s month to ``end``'s (days ignored; negative
    when ``end`` is earlier)."""
    return (end.year - start.year) * 12 + end.month - start.month


def month_range(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every month from ``first``'s to ``last``'s inclusive, oldest first (empty when
    ``last`` is before ``first``'s month)."""
    months = []
    current = month_start(first)
    while current <= last:
        months.append(current)
        current = add_months(current, 1)
    return months


def parse_month(text: str) -> dt.date:
    """Parse ``YYYY-MM`` into the month's first day, any year.

    Raises ValueError with a message fit for a form error otherwise. Inputs
    (forms, APIs, query strings) use ``revopsweb.parsing.parse_month``, which
    adds the accepted window (2000-01 to next month) to this shape.
    """
    match = _MONTH.match(text.strip())
    if not match:
        raise ValueError("Use YYYY-MM, e.g. 2026-03.")
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12:
        raise ValueError("Month must be 01 to 12.")
    return dt.date(year, month, 1)


# --- quarters ----------------------------------------------------------------


def quarter_start(day: dt.date) -> dt.date:
    """The first day of ``day``'s calendar quarter."""
    return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def quarter_end(day: dt.date) -> dt.date:
    """The last day of ``day``'s calendar quarter (when book removals take effect)."""
    return add_months(quarter_start(day), 3) - dt.timedelta(days=1)


def quarter_number(day: dt.date) -> int:
    """1 to 4: the calendar quarter of ``day``."""
    return (day.month - 1) // 3 + 1


def quarter_label(day: dt.date) -> str:
    """``YYYYQn`` of ``day``'s quarter, e.g. ``2026Q2``."""
    return f"{day.year}Q{quarter_number(day)}"


def parse_quarter(text: str) -> dt.date:
    """Parse ``YYYYQn`` (case-insensitive) into the quarter's first day, any year.

    Raises ValueError with a message fit for a form error otherwise. Inputs use
    ``revopsweb.parsing.parse_quarter``, which adds the accepted window.
    """
    match = _QUARTER.match(text.strip().upper())
    if not match:
        raise ValueError("Use YYYYQn, e.g. 2026Q2.")
    return dt.date(int(match[1]), (int(match[2]) - 1) * 3 + 1, 1)
