"""The JSON shapes that scripts and other teams' tools read. Keep the keys stable."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from .lifecycle import lifecycle_components
from .quota import tam_quotas
from .retention import retention_from


def number(value: Decimal | None) -> float | None:
    """A Decimal of dollars or percent as a JSON number (already rounded to cents)."""
    return None if value is None else float(value)


def revenue_report(*, month: dt.date, adjusted: bool) -> dict[str, Any]:
    """``revenue_report --json``: one month's components, rates and NDR/GDR.

    Amounts in dollars, rates and NDR/GDR in percent (None without a base).
    NDR/GDR use the same basis as the components (``adjusted`` or not).
    """
    [row] = lifecycle_components(through=month, months=1, adjusted=adjusted)
    retention = retention_from(row)
    return {
        "month": f"{month:%Y-%m}",
        "baseline": number(row.baseline),
        "new": number(row.new),
        "reactivated": number(row.reactivated),
        "retained": number(row.retained),
        "expansion": number(row.expansion),
        "contraction": number(row.contraction),
        "churned": number(row.churned),
        "rates": {key: number(value) for key, value in row.rates.items()},
        "ndr": {str(base): number(value) for base, value in retention.ndr.items()},
        "gdr": {str(base): number(value) for base, value in retention.gdr.items()},
    }


def quota_report(*, quarter: dt.date, through: dt.date | None = None) -> list[dict[str, Any]]:
    """``quota_report --json``: one object per TAM, in dollars of ARR, the quarter
    counted up to ``through`` (default: ``tam_quotas``')."""
    return [
        {
            "email": row.user.email,
            "quota": number(row.quota),
            "start_arr": number(row.start_arr),
            "end_arr": number(row.end_arr),
            "attainment": number(row.attainment),
            "accounts": [
                {
                    "organization_id": a.organization_id,
                    "start_arr": number(a.start_arr),
                    "end_arr": number(a.end_arr),
                }
                for a in row.accounts
            ],
        }
        for row in tam_quotas(quarter=quarter, through=through)
    ]
