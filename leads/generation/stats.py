"""How each lead rule performs: leads raised, converted, disqualified by reason.

sales/lead-scoring: "we frequently tweak these rules … aim for a 20% conversion
rate". The conversion rate is converted ÷ decided (converted + disqualified):
leads still open have no outcome yet, so they neither help nor hurt it.
Months are the month the lead was raised, in the company's time zone.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from leads.models import OPEN_STATUSES, DisqualificationReason, Task, TaskStatus
from revopsweb.dates import company_today, month_start

TARGET_CONVERSION = Decimal(20)  # percent


@dataclass
class Outcomes:
    raised: int = 0
    converted: int = 0
    disqualified: int = 0
    open: int = 0

    @property
    def decided(self) -> int:
        return self.converted + self.disqualified

    @property
    def conversion_pct(self) -> Decimal | None:
        """Converted ÷ decided in percent, one decimal; None before any outcome."""
        if not self.decided:
            return None
        return round(Decimal(self.converted) * 100 / self.decided, 1)

    @property
    def meets_target(self) -> bool | None:
        pct = self.conversion_pct
        return None if pct is None else pct >= TARGET_CONVERSION


@dataclass
class RuleStats(Outcomes):
    by_reason: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class MonthStats(Outcomes):
    month: dt.date = dt.date.min


def _counts() -> dict[str, Count]:
    return {
        "raised": Count("id"),
        "converted": Count("id", filter=Q(status=TaskStatus.CONVERTED)),
        "disqualified": Count("id", filter=Q(status=TaskStatus.DISQUALIFIED)),
        "open": Count("id", filter=Q(status__in=OPEN_STATUSES)),
    }


def _outcomes(row: Any) -> dict[str, int]:
    return {name: int(row[name]) for name in ("raised", "converted", "disqualified", "open")}


def rule_stats() -> dict[str, RuleStats]:
    """Per rule key, its outcomes and disqualifications by reason (two queries)."""
    stats: dict[str, RuleStats] = defaultdict(RuleStats)
    rows = Task.objects.exclude(lead_rule="").values("lead_rule").annotate(**_counts())
    for row in rows:
        counts = _outcomes(row)
        stats[row["lead_rule"]] = RuleStats(
            raised=counts["raised"],
            converted=counts["converted"],
            disqualified=counts["disqualified"],
            open=counts["open"],
        )
    reasons = (
        Task.objects.exclude(lead_rule="")
        .filter(status=TaskStatus.DISQUALIFIED)
        .values("lead_rule", "disqualification_reason")
        .annotate(n=Count("id"))
        .order_by("lead_rule", "-n", "disqualification_reason")
    )
    for row in reasons:
        label = DisqualificationReason(row["disqualification_reason"]).label
        stats[row["lead_rule"]].by_reason.append((label, row["n"]))
    return dict(stats)


def monthly_stats(*, rule_key: str) -> list[MonthStats]:
    """The rule's outcomes by the month the leads were raised, oldest first (one query)."""
    rows = (
        Task.objects.filter(lead_rule=rule_key)
        .annotate(month=TruncMonth("created_at", tzinfo=timezone.get_default_timezone()))
        .values("month")
        .annotate(**_counts())
        .order_by("month")
    )
    result = []
    for row in rows:
        month = row["month"]
        if isinstance(month, dt.datetime):
            month = month_start(company_today(now=month))
        result.append(MonthStats(month=month, **_outcomes(row)))
    return result
