"""One format per kind of value, for every page (issue 19): money, counts, days,
months and moments. The templates reach these through the ``formats`` filters
(revopsweb/templatetags/formats.py, a template builtin); CSVs keep machine
formats (revopsweb/csv_export.py) in the same company time zone.

- Money: US dollars with the sign and thousands separators, whole dollars
  (``$12,346``) or, for invoices and refunds, cents (``$1,234.50``); negative
  amounts with a true minus (``−$120``); no value is ``–``.
- Counts and other numbers: thousands separators (``12,345``; ``2.5``).
- Percentages: the value's own decimals and a percent sign (``93.5%``), negative
  with a true minus (``−0.93%``); no value is ``–``.
- Days: ISO ``2026-11-30``, the same as the CSVs; a moment is first moved into
  the company's time zone so its day is the one the company lives in.
- Months: ``Nov 2026``.
- Moments (date and time): ``2026-11-30 09:05 EST``, in the company's time zone
  (``settings.TIME_ZONE``) with its abbreviation.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import timezone

NONE = "–"
MINUS = "−"


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def money(value: object, *, cents: bool = False) -> str:
    """``value`` (dollars: Decimal, int, float or numeric text) as ``$12,346``
    (``$12,345.68`` with ``cents``), negative as ``−$12,346``; ``–`` for None or
    anything not a number. Rounds half up."""
    number = _decimal(value)
    if number is None:
        return NONE
    places = Decimal("0.01") if cents else Decimal(1)
    rounded = number.quantize(places, rounding=ROUND_HALF_UP)
    text = f"${abs(rounded):,.{2 if cents else 0}f}"
    return MINUS + text if rounded < 0 else text


def number(value: object, *, places: int = 0) -> str:
    """A count or measure with thousands separators and ``places`` decimals
    (``12,345``; ``2.5``); negative with a true minus; ``–`` for None."""
    parsed = _decimal(value)
    if parsed is None:
        return NONE
    rounded = parsed.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{abs(rounded):,.{places}f}"
    return MINUS + text if rounded < 0 else text


def percent(value: object) -> str:
    """A percentage as computed (``93.5`` → ``93.5%``, its own decimals kept, thousands
    separated), negative with a true minus (``−0.93%``); ``–`` for None or anything not
    a number."""
    parsed = _decimal(value)
    if parsed is None:
        return NONE
    exponent = parsed.as_tuple().exponent
    places = max(-exponent, 0) if isinstance(exponent, int) else 0
    text = f"{abs(parsed):,.{places}f}%"
    return MINUS + text if parsed < 0 else text


def _company(value: dt.datetime) -> dt.datetime:
    if timezone.is_aware(value):
        return timezone.localtime(value, timezone.get_default_timezone())
    return value


def day(value: dt.date | dt.datetime | None) -> str:
    """``2026-11-30``; a datetime as its day in the company's time zone; ``–`` for None."""
    if value is None or value == "":
        return NONE
    if isinstance(value, dt.datetime):
        value = _company(value).date()
    return value.isoformat()


def month(value: dt.date | dt.datetime | None) -> str:
    """``Nov 2026`` (the month of ``value``, in the company's time zone); ``–`` for None."""
    if value is None or value == "":
        return NONE
    if isinstance(value, dt.datetime):
        value = _company(value)
    return value.strftime("%b %Y")


def moment(value: dt.datetime | None) -> str:
    """``2026-11-30 09:05 EST``: the company's time zone and its abbreviation; a
    naive datetime is taken as already in it; ``–`` for None."""
    if value is None or value == "":
        return NONE
    if not isinstance(value, dt.datetime):
        return day(value)
    local = _company(value)
    zone = local.tzname() or timezone.get_default_timezone().tzname(local) or ""
    return f"{local:%Y-%m-%d %H:%M} {zone}".rstrip()
