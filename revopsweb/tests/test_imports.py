"""The import framework's CSV reading: physical lines, exact headers, whole rows only."""

from __future__ import annotations

from revopsweb.imports import ImportKind, RowError, read_csv

HEADER = ("organization_id", "name", "amount")


def test_records_carry_their_physical_line_after_blank_lines_and_quoted_newlines():
    text = (
        'organization_id,name,amount\norg_1,"Acme\nEurope",1\n\norg_2,Beta,2\n\n\norg_3,Gamma,3\n'
    )
    records, errors = read_csv(text, HEADER)
    assert errors == []
    assert [(line, r["organization_id"]) for line, r in records] == [
        (2, "org_1"),
        (5, "org_2"),
        (8, "org_3"),
    ]
    assert records[0][1]["name"] == "Acme\nEurope"


def test_a_row_with_fewer_or_more_fields_than_the_header_is_an_error():
    text = "organization_id,name,amount\norg_1,Acme\norg_2,Beta,2\norg_3,Gamma,3,extra\n"
    records, errors = read_csv(text, HEADER)
    assert [line for line, _ in records] == [3]
    assert errors == [
        RowError(2, "row", "Expected 3 fields, found 2."),
        RowError(4, "row", "Expected 3 fields, found 4."),
    ]


def test_a_different_header_is_the_only_error_reported():
    records, errors = read_csv("org,name,amount\norg_1,Acme,1\n", HEADER)
    assert records == []
    assert [(e.line, e.column) for e in errors] == [(1, "header")]


def test_a_byte_order_mark_and_crlf_line_ends_are_accepted():
    records, errors = read_csv("\ufefforganization_id,name,amount\r\norg_1,Acme,1\r\n", HEADER)
    assert errors == [] and records == [
        (2, {"organization_id": "org_1", "name": "Acme", "amount": "1"})
    ]


def test_every_declared_kind_is_registered_by_name():
    assert {"accounts", "snapshots", "monthly_revenue"} <= set(ImportKind.registry)
