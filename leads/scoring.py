"""Lead score out of 70, from sales/lead-scoring.

| Metric         | Value                                   | Score |
| Employee count | 1-10 / 11-1000 / 1000+                  | 0 / 10 / 20 |
| Ability to pay | estimated revenue $0-1m / 1-10m / 10-100m / 100m+ | 0 / 5 / 10 / 20 |
| Role           | engineering, product, leadership/founder 10; marketing 5; other 0 |
| Sub-role       | data_science_engineer, project_engineer, software_engineer, web_engineer, founder/ceo 10; other 0 |
| Country        | AT CA FR DE JP NO SE GB US 10; AU BE EE FI GE GG NL NZ PL PT SG 5; other 0 |

Boundaries: 1000 employees is "11-1000" (the 1000+ row starts above it);
revenue bands are [0, 1m), [1m, 10m), [10m, 100m), [100m, ∞). Unknown values
score 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

MAX_SCORE = 70

ROLE_SCORES: dict[str, int] = {
    "engineering": 10,
    "product": 10,
    "leadership": 10,
    "founder": 10,
    "marketing": 5,
}
SUB_ROLE_SCORES: dict[str, int] = {
    "data_science_engineer": 10,
    "project_engineer": 10,
    "software_engineer": 10,
    "web_engineer": 10,
    "founder": 10,
    "ceo": 10,
}
TOP_COUNTRIES = frozenset({"AT", "CA", "FR", "DE", "JP", "NO", "SE", "GB", "US"})
SECOND_COUNTRIES = frozenset({"AU", "BE", "EE", "FI", "GE", "GG", "NL", "NZ", "PL", "PT", "SG"})
_COUNTRY_ALIASES = {"UK": "GB", "USA": "US"}

MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class LeadScore:
    total: int
    breakdown: dict[str, int]


def employee_points(employees: int | None) -> int:
    if employees is None or employees <= 10:
        return 0
    return 10 if employees <= 1000 else 20


def revenue_points(revenue: Decimal | None) -> int:
    if revenue is None or revenue < MILLION:
        return 0
    if revenue < 10 * MILLION:
        return 5
    return 10 if revenue < 100 * MILLION else 20


def _key(value: str) -> str:
    return value.strip().lower().replace(" ", "_").replace("-", "_")


def role_points(role: str) -> int:
    key = _key(role)
    if key in ("leadership/founder", "leadership_founder"):
        return 10
    return ROLE_SCORES.get(key, 0)


def sub_role_points(sub_role: str) -> int:
    key = _key(sub_role)
    if key in ("founder/ceo", "founder_ceo"):
        return 10
    return SUB_ROLE_SCORES.get(key, 0)


def country_points(country: str) -> int:
    code = country.strip().upper()
    code = _COUNTRY_ALIASES.get(code, code)
    if code in TOP_COUNTRIES:
        return 10
    return 5 if code in SECOND_COUNTRIES else 0


# What the task page calls each metric of the breakdown (sales/lead-scoring's words).
METRIC_LABELS: dict[str, str] = {
    "employee_count": "Employee count",
    "ability_to_pay": "Ability to pay (estimated revenue)",
    "role": "Role",
    "sub_role": "Sub-role",
    "country": "Country",
}


def metric_label(key: str) -> str:
    """The metric ``key`` of a score breakdown in words; an unknown key (an older
    breakdown) with its underscores as spaces."""
    return METRIC_LABELS.get(key) or key.replace("_", " ").capitalize()


def score_lead(
    *,
    employees: int | None,
    estimated_revenue: Decimal | None,
    role: str,
    sub_role: str,
    country: str,
) -> LeadScore:
    """The lead score (0-70) with points per metric; pure, no database."""
    breakdown = {
        "employee_count": employee_points(employees),
        "ability_to_pay": revenue_points(estimated_revenue),
        "role": role_points(role),
        "sub_role": sub_role_points(sub_role),
        "country": country_points(country),
    }
    return LeadScore(total=sum(breakdown.values()), breakdown=breakdown)
