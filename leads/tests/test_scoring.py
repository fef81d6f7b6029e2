from __future__ import annotations

from decimal import Decimal

import pytest

from leads.scoring import MAX_SCORE, score_lead


@pytest.mark.parametrize(
    ("employees", "points"),
    [(None, 0), (1, 0), (10, 0), (11, 10), (1000, 10), (1001, 20), (50_000, 20)],
)
def test_employee_count_rows(employees, points):
    score = score_lead(
        employees=employees, estimated_revenue=None, role="", sub_role="", country=""
    )
    assert score.breakdown["employee_count"] == points


@pytest.mark.parametrize(
    ("revenue", "points"),
    [
        (None, 0),
        ("999999", 0),
        ("1000000", 5),
        ("9999999.99", 5),
        ("10000000", 10),
        ("99999999", 10),
        ("100000000", 20),
    ],
)
def test_ability_to_pay_rows(revenue, points):
    score = score_lead(
        employees=None,
        estimated_revenue=Decimal(revenue) if revenue else None,
        role="",
        sub_role="",
        country="",
    )
    assert score.breakdown["ability_to_pay"] == points


@pytest.mark.parametrize(
    ("role", "points"),
    [
        ("engineering", 10),
        ("product", 10),
        ("leadership/founder", 10),
        ("marketing", 5),
        ("sales", 0),
        ("", 0),
    ],
)
def test_role_rows(role, points):
    assert (
        score_lead(
            employees=None, estimated_revenue=None, role=role, sub_role="", country=""
        ).breakdown["role"]
        == points
    )


@pytest.mark.parametrize(
    ("sub_role", "points"),
    [
        ("data_science_engineer", 10),
        ("project_engineer", 10),
        ("software_engineer", 10),
        ("web_engineer", 10),
        ("founder/ceo", 10),
        ("designer", 0),
    ],
)
def test_sub_role_rows(sub_role, points):
    score = score_lead(
        employees=None, estimated_revenue=None, role="", sub_role=sub_role, country=""
    )
    assert score.breakdown["sub_role"] == points


@pytest.mark.parametrize(
    ("country", "points"),
    [
        *[(c, 10) for c in ("AT", "CA", "FR", "DE", "JP", "NO", "SE", "GB", "US", "UK")],
        *[(c, 5) for c in ("AU", "BE", "EE", "FI", "GE", "GG", "NL", "NZ", "PL", "PT", "SG")],
        ("BR", 0),
        ("", 0),
    ],
)
def test_country_rows(country, points):
    score = score_lead(
        employees=None, estimated_revenue=None, role="", sub_role="", country=country
    )
    assert score.breakdown["country"] == points


def test_the_best_lead_scores_seventy():
    score = score_lead(
        employees=5000,
        estimated_revenue=Decimal("500000000"),
        role="engineering",
        sub_role="software_engineer",
        country="US",
    )
    assert score.total == MAX_SCORE == 70
