"""The one writer of every CSV the app hands out (exports, import error reports).

Each cell is written by its type, so a view cannot forget a rule:

- Text (``str``) that a spreadsheet would read as a formula (first character
  ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is prefixed with
  ``'`` (OWASP "CSV injection"): a company called ``=HYPERLINK(…)`` from the
  public contact form stays text in Excel.
- Money and other ``Decimal`` values are exact, fixed-point, two decimals
  (``-18976.24``, never ``-18976.2399999999`` or ``1E+3``); a ``float`` is read
  through its shortest repr first. Numbers (``int``, ``Decimal``, ``float``)
  are never prefixed, even when negative: ``-120.00`` stays a number.
- A ``datetime`` is written in the company's time zone (``settings.TIME_ZONE``)
  as ``YYYY-MM-DD HH:MM:SS``, so its date is the one the pages show; a
  ``date`` as ``YYYY-MM-DD``.
- ``None`` is empty, ``bool`` is ``yes``/``no``.
- The file starts with a UTF-8 byte order mark, so Excel shows "Zoë" and
  "Müller" instead of mojibake; other readers skip it.

Use ``csv_response(filename=…, header=…, rows=…)`` in a view, or
``write_csv(stream, header, rows)`` to write to a file.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from django.http import HttpResponse
from django.utils import timezone

Cell = str | int | float | Decimal | dt.date | dt.datetime | bool | None

# OWASP's list: these make Excel, LibreOffice and Sheets evaluate a cell.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
CENTS = Decimal("0.01")


class _Writable(Protocol):
    def write(self, s: str, /) -> object: ...


def cell(value: Cell) -> str:
    """One value as the text of its CSV cell (see the module docstring for the rules).

    Raises ``TypeError`` for any other type, so a new column cannot slip
    past the rules unnoticed.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            return ""
        return format(value.quantize(CENTS, rounding=ROUND_HALF_UP), "f")
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value, timezone.get_default_timezone())
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    raise TypeError(f"No CSV rule for {type(value).__name__}: {value!r}")


def write_csv(stream: _Writable, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> None:
    """The BOM, the header and every row through ``cell`` into ``stream``."""
    stream.write(BOM)
    writer = csv.writer(stream)
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(v) for v in row])


def csv_response(
    *, filename: str, header: Sequence[str], rows: Iterable[Sequence[Cell]]
) -> HttpResponse:
    """An attachment ``filename`` (UTF-8, with BOM) of ``header`` and ``rows``."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    write_csv(response, header, rows)
    return response
