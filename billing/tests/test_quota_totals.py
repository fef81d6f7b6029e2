"""``tam_quota_totals`` (the quota page's per-TAM figures, summed by PostgreSQL) gives
what ``tam_quotas`` (every account's breakdown, in Python) adds up to, on random books
that meet every quota rule: cross-sell multipliers and add-ons, one and two invoiced
months, churn, annual contracts (run rate, converted in their first year, a half-cent
run rate, two contracts over one month), the grace period, approved and requested
exclusions, the first two paid invoices, moves during and after the quarter (one
or two per account)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from accounts.models import Account, User
from accounts.ownership import change_account_owner
from accounts.tests.factories import AccountFactory, manager, tam, team_lead
from billing.models import (
    AnnualContract,
    ExclusionStatus,
    Invoice,
    MonthlyRevenue,
    OptimisationExclusion,
)
from billing.quota import tam_quota_totals, tam_quotas
from billing.tests.factories import product
from billing.tests.helpers import month

pytestmark = pytest.mark.django_db

PRODUCTS = ("product_analytics", "session_replay", "feature_flags", "group_analytics")
AMOUNTS = ("0", "150", "200", "200.01", "999.99", "1000", "2500", "7333.33", "10000.005")


def _random_company(rng: random.Random) -> None:
    lead = team_lead()
    tams = [tam(team_lead=lead, quarterly_quota=Decimal(50000)) for _ in range(3)]
    products = [product(key) for key in PRODUCTS]
    for n in range(24):
        owner = rng.choice(tams)
        account = AccountFactory.create(
            owner=owner,
            owner_role="TAM",
            am_managed=rng.random() < 0.9,
            owner_since=rng.choice([None, month(rng.randrange(0, 9))]),
        )
        MonthlyRevenue.objects.bulk_create(
            MonthlyRevenue(
                account=account,
                product=item,
                month=month(m),
                amount=Decimal(rng.choice(AMOUNTS)).quantize(Decimal("0.01")),
            )
            for m in range(9)
            if rng.random() < 0.8
            for item in rng.sample(products, rng.randrange(1, len(products) + 1))
        )
        _terms(rng, account, n, owner)
        _moves(rng, account, owner, tams)


def _terms(rng: random.Random, account: Account, n: int, owner: User) -> None:
    if rng.random() < 0.4:
        starts = month(rng.randrange(0, 6)) + dt.timedelta(days=rng.choice([0, 14]))
        AnnualContract.objects.create(
            account=account,
            starts_on=starts,
            ends_on=starts + dt.timedelta(days=rng.choice([90, 364])),
            # 120,000.06 / 12 is 10,000.005: the run rate rounds half to even.
            annual_amount=Decimal(rng.choice(["24000", "120000.06", "6000"])),
            converted_from_monthly=rng.random() < 0.3,
        )
        if rng.random() < 0.3:  # a later contract over some of the same months wins
            later = starts + dt.timedelta(days=45)
            AnnualContract.objects.create(
                account=account,
                starts_on=later,
                ends_on=later + dt.timedelta(days=364),
                annual_amount=Decimal("12000"),
            )
    for i in range(rng.randrange(0, 4)):
        Invoice.objects.create(
            account=account, number=f"R-{n}-{i}", issued_on=month(0), due_on=month(0),
            amount=Decimal(100), status=rng.choice([Invoice.Status.PAID, Invoice.Status.OPEN]),
        )  # fmt: skip
    if rng.random() < 0.3:
        status = rng.choice([ExclusionStatus.APPROVED, ExclusionStatus.REQUESTED])
        OptimisationExclusion.objects.create(
            account=account,
            quarter=rng.choice([month(3), month(6)]),
            amount=Decimal(rng.choice(["500", "5000", "50000"])),
            evidence="random",
            status=status,
            requested_by=owner,
            lead_decided_by=owner.team_lead,
            manager_decided_by=manager() if status == ExclusionStatus.APPROVED else None,
        )


def _moves(rng: random.Random, account: Account, owner, tams) -> None:
    roll = rng.random()
    if roll < 0.2:  # taken over from nobody, or from another TAM, some month
        account.owner = None
        account.save(update_fields=["owner"])
        change_account_owner(
            account=account,
            new_owner=owner,
            new_owner_role="TAM",
            changed_by=None,
            reason="assigned",
            source="test",
            # the 10th of a month, or the last day of the month before (of a quarter too)
            effective_on=month(rng.randrange(0, 9)) + dt.timedelta(days=rng.choice([9, -1])),
        )
    elif roll < 0.35:
        change_account_owner(
            account=account,
            new_owner=rng.choice(tams),
            new_owner_role="TAM",
            changed_by=None,
            reason="rebalancing",
            source="test",
            effective_on=month(rng.choice([3, 6, 9])),
        )
    if roll < 0.35 and rng.random() < 0.5:
        # A second move, effective the same day or later: the first move effective
        # after the quarter's first day (by day, then by when it was recorded) decides.
        change_account_owner(
            account=account,
            new_owner=rng.choice(tams),
            new_owner_role="TAM",
            changed_by=None,
            reason="rebalancing",
            source="test",
            # Some on a quarter's last day (the day before months 3, 6 and 9 start).
            effective_on=month(rng.choice([3, 6, 7, 9])) - dt.timedelta(days=rng.choice([0, 1])),
        )


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("quarter", "through"), [(3, 5), (6, 6), (6, 7), (6, 8), (3, 2)])
def test_totals_equal_what_tam_quotas_adds_up_to(seed, quarter, through):
    _random_company(random.Random(seed))
    expected = [row.totals() for row in tam_quotas(quarter=month(quarter), through=month(through))]
    assert sum(t.accounts for t in expected) > 0
    assert tam_quota_totals(quarter=month(quarter), through=month(through)) == expected


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize(("quarter", "through"), [(3, 5), (6, 7)])
def test_each_tams_own_totals_equal_theirs_alone(seed, quarter, through):
    """A TAM's page asks for their row alone: accounts now owned by another TAM count
    for them when they owned them at quarter start (or took them during it)."""
    _random_company(random.Random(seed))
    for user in User.objects.filter(quarterly_quota=Decimal(50000)):
        expected = [
            row.totals()
            for row in tam_quotas(quarter=month(quarter), tams=[user], through=month(through))
        ]
        got = tam_quota_totals(quarter=month(quarter), tams=[user], through=month(through))
        assert got == expected


@pytest.mark.parametrize("day", [-1, 0])  # the quarter's last day, the next quarter's first
def test_an_account_added_on_the_quarters_last_day_counts_as_tam_quotas_says(day):
    owner = tam(quarterly_quota=Decimal(50000))
    account = AccountFactory.create(owner=None, am_managed=True)
    MonthlyRevenue.objects.create(
        account=account, product=product("product_analytics"), month=month(5), amount=1000
    )
    change_account_owner(
        account=account,
        new_owner=owner,
        new_owner_role="TAM",
        changed_by=None,
        reason="assigned",
        source="test",
        effective_on=month(6) + dt.timedelta(days=day),
    )
    expected = [row.totals() for row in tam_quotas(quarter=month(3), through=month(5))]
    assert [t.accounts for t in expected] == [1 if day == -1 else 0]
    assert tam_quota_totals(quarter=month(3), through=month(5)) == expected
