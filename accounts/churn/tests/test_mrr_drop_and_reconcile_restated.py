"""The nightly job's MRR usage drop and its reconciliation with the stored
signals, checked against plain per-account restatements on random data.

The job finds the MRR drop by joining the per-account monthly summary
(``billing.AccountMonthMrr``) month to month, and reconciles tonight's
conditions with the open ``ChurnSignal`` rows in one statement (clear, refresh,
open). The restatements below read the revenue rows and the stored signals in
Python, one account at a time, the way the rules read
(sales/risk-mitigation-and-churn-prevention, as ``accounts.churn.signals``
documents them). Seeded, so a failure replays.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import time_machine

from accounts.churn.models import ChurnSignal
from accounts.churn.signals import FEW_ACTIVE_USERS_MAX, USAGE_DROP, detect_churn_signals
from accounts.churn.tests.churn_helpers import NOW, TODAY
from accounts.models import Account
from accounts.tests.factories import AccountFactory
from billing.models import MonthlyRevenue, Product
from billing.tests.factories import MonthlyRevenueFactory

pytestmark = pytest.mark.django_db

# On TODAY (2026-11-18) revenue data runs through October (every history below
# has October rows): the month, the one before, both a year back.
MONTH, PRIOR = dt.date(2026, 10, 1), dt.date(2026, 9, 1)
LAST_YEAR, LAST_YEAR_PRIOR = dt.date(2025, 10, 1), dt.date(2025, 9, 1)
MONTHS = (MONTH, PRIOR, LAST_YEAR, LAST_YEAR_PRIOR)


@pytest.fixture(autouse=True)
def _frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def _products() -> list[Product]:
    return [
        Product.objects.get_or_create(key=key, defaults={"name": key})[0]
        for key in ("session_replay", "feature_flags", "surveys")
    ]


def _revenue(rng: random.Random, account: Account, products: list[Product]) -> None:
    """A month is often missing; amounts around the 30% line, some $0."""
    level = Decimal(rng.choice([0, 100, 1000, 1000, 2500]))
    for month in MONTHS:
        if rng.random() < 0.2:
            continue
        month_level = level * Decimal(rng.choice(["0", "0.5", "0.69", "0.7", "1", "1"]))
        for product in rng.sample(products, rng.randint(1, len(products))):
            amount = month_level * Decimal(rng.choice(["0", "0.25", "0.5", "1"]))
            MonthlyRevenueFactory.create(
                account=account,
                product=product,
                month=month,
                amount=amount.quantize(Decimal("0.01")),
            )


def _round(value: Decimal, places: int) -> Decimal:
    # PostgreSQL's round(numeric) rounds half away from zero.
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _expected_mrr_drops() -> dict[int, dict[str, Any]]:
    """Each account's MRR drop by the rule, from the revenue rows themselves."""
    mrr: dict[int, dict[dt.date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in MonthlyRevenue.objects.filter(month__in=MONTHS):
        mrr[row.account_id][row.month] += row.amount
    expected = {}
    for account_id, months in mrr.items():
        cur, prev = months[MONTH], months[PRIOR]
        ly_cur, ly_prev = months[LAST_YEAR], months[LAST_YEAR_PRIOR]
        fell = prev > 0 and cur <= prev * (1 - USAGE_DROP)
        seasonal = ly_prev > 0 and ly_cur <= ly_prev * (1 - USAGE_DROP)
        if fell and not seasonal:
            expected[account_id] = {
                "metric": "mrr",
                "month": MONTH.isoformat(),
                "value": cur,
                "prior_month": PRIOR.isoformat(),
                "prior_value": prev,
                "drop_pct": _round((1 - cur / prev) * 100, 1),
                "last_year_value": ly_cur,
                "last_year_prior_value": ly_prev,
            }
    return expected


def _numbers(evidence: dict[str, Any]) -> dict[str, Any]:
    # JSON numbers come back as int or float; compare them as decimals.
    return {
        k: Decimal(str(v)) if isinstance(v, int | float) and not isinstance(v, bool) else v
        for k, v in evidence.items()
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_mrr_drop_matches_a_restatement_from_the_revenue_rows(seed):
    rng = random.Random(seed)
    products = _products()
    accounts = AccountFactory.create_batch(80)
    for account in accounts:
        _revenue(rng, account, products)
    # Revenue data runs through October whatever the random months left out.
    MonthlyRevenueFactory.create(product=products[0], month=MONTH)

    detect_churn_signals()

    found = {
        s.account_id: _numbers(s.evidence)
        for s in ChurnSignal.objects.filter(kind="usage_drop", cleared_on__isnull=True)
    }
    expected = {a: _numbers(e) for a, e in _expected_mrr_drops().items()}
    assert found == expected
    # Both outcomes were drawn: the comparison is not of two empty sets.
    assert 0 < len(expected) < len(accounts)


# --- reconciliation -------------------------------------------------------------

# few_active_users: 1 or 2 active users holds, with the count as its evidence.
KIND = "few_active_users"


def _expected_after(
    before: list[Any], holds: dict[int, int]
) -> tuple[list[tuple[Any, ...]], dict[str, int]]:
    """The stored rows after the job, and how many of each change it makes, by
    the rule: an open signal that no longer holds is cleared today, one that
    holds with new figures gets them, a condition with no open signal opens one
    today; cleared rows are history and stay."""
    rows = []
    changes = {"cleared": 0, "refreshed": 0, "opened": 0, "kept": 0}
    open_kinds = set()
    for row in before:
        key = (row["account_id"], row["kind"])
        if row["cleared_on"] is not None:
            rows.append((*key, row["evidence"], row["detected_on"], row["cleared_on"]))
            continue
        open_kinds.add(key)
        users = holds.get(row["account_id"]) if row["kind"] == KIND else None
        if users is None:
            rows.append((*key, row["evidence"], row["detected_on"], TODAY))
            changes["cleared"] += 1
        else:
            evidence = {"active_users_30d": users}
            changes["refreshed" if evidence != row["evidence"] else "kept"] += 1
            rows.append((*key, evidence, row["detected_on"], None))
    for account_id, users in holds.items():
        if (account_id, KIND) not in open_kinds:
            rows.append((account_id, KIND, {"active_users_30d": users}, TODAY, None))
            changes["opened"] += 1
    return sorted(rows, key=repr), changes


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_reconciling_matches_a_restatement_of_clear_refresh_and_open(seed):
    rng = random.Random(seed)
    accounts = AccountFactory.create_batch(80)
    long_ago = TODAY - dt.timedelta(days=40)
    for account in accounts:
        account.active_users_30d = rng.choice([0, 1, 2, 3, 10])
        account.save(update_fields=["active_users_30d"])
        # History: a cleared signal of either kind, sometimes.
        if rng.random() < 0.3:
            ChurnSignal.objects.create(
                account=account,
                kind=rng.choice([KIND, "usage_drop"]),
                evidence={"old": True},
                detected_on=long_ago,
                cleared_on=long_ago + dt.timedelta(days=7),
            )
        # An open one: the same figures, other figures, or a kind that no longer holds.
        state = rng.choice(["none", "same", "changed", "stale"])
        if state in {"same", "changed"}:
            users = account.active_users_30d if state == "same" else rng.choice([1, 2, 7])
            ChurnSignal.objects.create(
                account=account,
                kind=KIND,
                evidence={"active_users_30d": users},
                detected_on=long_ago,
            )
        elif state == "stale":
            ChurnSignal.objects.create(
                account=account,
                kind="usage_drop",
                evidence={"metric": "mrr"},
                detected_on=long_ago,
            )
    before = list(
        ChurnSignal.objects.values("account_id", "kind", "evidence", "detected_on", "cleared_on")
    )
    holds = {
        a.id: a.active_users_30d
        for a in accounts
        if a.active_users_30d and 1 <= a.active_users_30d <= FEW_ACTIVE_USERS_MAX
    }
    expected_rows, changes = _expected_after(before, holds)
    # Every case was drawn: cleared, refreshed, opened and left alone.
    assert min(changes.values()) > 0, changes

    changed = detect_churn_signals()

    after = sorted(
        ChurnSignal.objects.values_list(
            "account_id", "kind", "evidence", "detected_on", "cleared_on"
        ),
        key=repr,
    )
    assert after == expected_rows
    assert changed == changes["cleared"] + changes["refreshed"] + changes["opened"]
    assert detect_churn_signals() == 0
