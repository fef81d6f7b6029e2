"""Rolling NDR and GDR (revops/retention-metrics).

For each month and each base of 3, 6 and 12 months: take the customers whose
revenue in the base month (that many months earlier) was at least $5K a year
(base-month MRR × 12 ≥ $5,000), then

- NDR = Σ current MRR / Σ base MRR × 100,
- GDR = Σ min(current MRR, base MRR) / Σ base MRR × 100,

over those customers only. Adjusted revenue by default, as the handbook does.
The sums come from the same single query as the lifecycle components.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from .lifecycle import HISTORY_MONTHS, RETENTION_BASES, MonthComponents, lifecycle_components

PERCENT = Decimal("0.01")


@dataclass(frozen=True)
class Retention:
    month: dt.date
    ndr: dict[int, Decimal | None]
    gdr: dict[int, Decimal | None]


def retention_from(components: MonthComponents) -> Retention:
    """NDR and GDR percentages (two decimals) from one month's sums; None without a base."""
    ndr: dict[int, Decimal | None] = {}
    gdr: dict[int, Decimal | None] = {}
    for base in RETENTION_BASES:
        base_sum, current, gross = components.retention_sums[base]
        if base_sum > 0:
            ndr[base] = (current / base_sum * 100).quantize(PERCENT)
            gdr[base] = (gross / base_sum * 100).quantize(PERCENT)
        else:
            ndr[base] = gdr[base] = None
    return Retention(month=components.month, ndr=ndr, gdr=gdr)


def retention_series(
    *, through: dt.date, months: int = HISTORY_MONTHS + 1, adjusted: bool = True
) -> list[Retention]:
    """NDR/GDR for the ``months`` months ending with ``through``, oldest first. One query."""
    return [
        retention_from(c)
        for c in lifecycle_components(through=through, months=months, adjusted=adjusted)
    ]
