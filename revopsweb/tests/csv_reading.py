"""Reading a CSV export in tests the way a spreadsheet would: BOM first, then rows."""

from __future__ import annotations

import csv
import io

from django.http import HttpResponse


def export_rows(response: HttpResponse) -> list[dict[str, str]]:
    """The rows of a CSV response by header; asserts the UTF-8 BOM and content type."""
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff"), "an export starts with a UTF-8 BOM (Excel)"
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
