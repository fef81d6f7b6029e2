"""The snapshot-based signals of the nightly job, checked against a plain
per-account restatement of their rules (sales/risk-mitigation-and-churn-prevention,
as ``accounts.churn.signals`` documents them) on random weekly histories.

The job computes them set-based, two passes over the snapshots for every
account at once; the restatement below walks one account's weeks in Python,
newest first, the way the rules read. Seeded, so a failure replays.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import time_machine

from accounts.churn.models import ChurnSignal
from accounts.churn.signals import detect_churn_signals
from accounts.churn.tests.churn_helpers import NOW, THIS_MONDAY, TODAY
from accounts.models import Account, AccountSnapshot, Health
from accounts.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

SNAPSHOT_KINDS = {"usage_drop", "health_poor", "support_spike", "billing_visits", "warehouse_only"}
# On TODAY (2026-11-18): the last complete month, the one before, both a year back.
MONTHS = {
    "m": (dt.date(2026, 10, 1), dt.date(2026, 11, 1)),
    "p": (dt.date(2026, 9, 1), dt.date(2026, 10, 1)),
    "ly": (dt.date(2025, 10, 1), dt.date(2025, 11, 1)),
    "lyp": (dt.date(2025, 9, 1), dt.date(2025, 10, 1)),
}
HEALTHS = [Health.POOR] * 5 + [Health.FAIR, Health.GOOD, ""]


def _mondays(first: dt.date, last: dt.date) -> list[dt.date]:
    first += dt.timedelta(days=-first.weekday() % 7)
    return [first + dt.timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]


# 17 weeks up to this Monday (more than the 100 days the job reads) and last
# year's two usage months.
WEEKS = _mondays(THIS_MONDAY - dt.timedelta(weeks=16), THIS_MONDAY) + _mondays(
    dt.date(2025, 8, 25), dt.date(2025, 11, 3)
)


def _history(rng: random.Random) -> list[dict[str, Any]]:
    """One account's weeks: most present, figures often missing or flat, so
    every signal both holds and fails somewhere."""
    level = {name: rng.choice([0, 100, 650, 1000, 1300]) for name in MONTHS}
    rows = []
    for week in WEEKS:
        if rng.random() < 0.15:
            continue
        month = next((n for n, (a, b) in MONTHS.items() if a <= week < b), None)
        rows.append(
            {
                "week": week,
                "health": rng.choice(HEALTHS),
                "events": None
                if rng.random() < 0.1
                else (level[month] + rng.randint(0, 30) if month else rng.randint(0, 2000)),
                "support_tickets": None if rng.random() < 0.1 else rng.choice([0, 1, 2, 3, 5, 9]),
                "billing_page_visits": None if rng.random() < 0.2 else rng.randint(0, 5),
                "warehouse_export_rows": rng.choice([None, 0, 1, 5_000_000]),
                "active_users_30d": rng.choice([None, 0, 0, 3]),
            }
        )
    return rows


def _round(value: Decimal, places: int) -> Decimal:
    # PostgreSQL's round(numeric) rounds half away from zero.
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _expected(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The restatement: the signals one account's weeks raise, with their evidence."""
    fresh = TODAY - dt.timedelta(days=21)
    recent = sorted(
        (r for r in rows if TODAY - dt.timedelta(days=100) < r["week"] <= TODAY),
        key=lambda r: r["week"],
        reverse=True,
    )
    signals: dict[str, dict[str, Any]] = {}

    def average(values: list[int]) -> Decimal | None:
        return Decimal(sum(values)) / len(values) if values else None

    # Usage: average weekly events per month, down 30% unless last year fell too.
    avg = {
        name: average([r["events"] for r in rows if a <= r["week"] < b and r["events"] is not None])
        or Decimal(0)
        for name, (a, b) in MONTHS.items()
    }
    drop = Decimal("0.7")
    if (
        avg["p"] > 0
        and avg["m"] <= avg["p"] * drop
        and not (avg["lyp"] > 0 and avg["ly"] <= avg["lyp"] * drop)
    ):
        signals["usage_drop"] = {
            "metric": "weekly_events",
            "month": "2026-10-01",
            "value": _round(avg["m"], 0),
            "prior_month": "2026-09-01",
            "prior_value": _round(avg["p"], 0),
            "drop_pct": _round((1 - avg["m"] / avg["p"]) * 100, 1),
            "last_year_value": _round(avg["ly"], 0),
            "last_year_prior_value": _round(avg["lyp"], 0),
        }

    # Health: the poor weeks since the latest week that was not poor, 4+ in a row.
    streak = []
    for row in recent:
        if row["health"] != Health.POOR:
            break
        streak.append(row["week"])
    if (
        len(streak) >= 4
        and streak[0] >= fresh
        and all(a - b == dt.timedelta(weeks=1) for a, b in zip(streak, streak[1:], strict=False))
    ):
        signals["health_poor"] = {
            "poor_since": streak[-1].isoformat(),
            "latest_week": streak[0].isoformat(),
        }

    # Support: the latest week with a ticket count against the 8 weeks before it.
    counted = [r for r in recent if r["support_tickets"] is not None]
    if counted:
        latest = counted[0]
        before = [
            r["support_tickets"]
            for r in counted[1:]
            if r["week"] >= latest["week"] - dt.timedelta(weeks=8)
        ]
        baseline = average(before)
        tickets = latest["support_tickets"]
        if baseline is not None and latest["week"] >= fresh and tickets >= max(2, 2 * baseline):
            signals["support_spike"] = {
                "week": latest["week"].isoformat(),
                "tickets": tickets,
                "baseline_average": _round(baseline, 2),
            }

    # The latest fresh week: billing visits (no conversation at all here), warehouse only.
    if recent and recent[0]["week"] >= fresh:
        week = recent[0]
        if week["billing_page_visits"] is not None and week["billing_page_visits"] >= 3:
            signals["billing_visits"] = {
                "week": week["week"].isoformat(),
                "visits": week["billing_page_visits"],
                "last_conversation": None,
            }
        if (week["warehouse_export_rows"] or 0) > 0 and week["active_users_30d"] == 0:
            signals["warehouse_only"] = {
                "week": week["week"].isoformat(),
                "warehouse_export_rows": week["warehouse_export_rows"],
                "active_users_30d": 0,
            }
    return signals


def _as_json(evidence: dict[str, Any]) -> dict[str, Any]:
    # JSON numbers come back as int or float; compare Decimals the same way.
    return {
        k: (int(v) if v == v.to_integral_value() else float(v)) if isinstance(v, Decimal) else v
        for k, v in evidence.items()
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_snapshot_signals_equal_a_per_account_restatement(seed):
    rng = random.Random(seed)
    accounts = Account.objects.bulk_create([AccountFactory.build() for _ in range(120)])
    histories = {account.pk: _history(rng) for account in accounts}
    AccountSnapshot.objects.bulk_create(
        AccountSnapshot(account_id=pk, **row) for pk, rows in histories.items() for row in rows
    )

    with time_machine.travel(NOW, tick=False):
        detect_churn_signals()

    found: dict[int, dict[str, dict[str, Any]]] = {pk: {} for pk in histories}
    for signal in ChurnSignal.objects.filter(cleared_on__isnull=True, kind__in=SNAPSHOT_KINDS):
        found[signal.account_id][signal.kind] = signal.evidence
    expected = {pk: _expected(rows) for pk, rows in histories.items()}
    assert {pk: {k: _as_json(e) for k, e in s.items()} for pk, s in expected.items()} == found
    # The histories exercise every signal, so the comparison is not vacuous.
    raised = {kind for signals in expected.values() for kind in signals}
    assert raised == SNAPSHOT_KINDS
