"""The demo's owners at scale (issue 21): every $20k+ account owned, books near their caps."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.utils import timezone

from accounts.demo import AccountProfile, DemoContext
from accounts.demo_accounts import _assign_owners
from accounts.models import OwnerRole, Region, User
from accounts.roles import Role

TODAY = dt.date(2026, 11, 16)
MONTHS = 24


def _context() -> DemoContext:
    """A company whose fixed chart is one TAM, one CSM and one TAE in the US (unsaved)."""
    ctx = DemoContext(seed=1, account_count=0, month_count=MONTHS, today=TODAY, now=timezone.now())
    lead = User(email="lead@example.test", name="Lead", region=Region.US)
    started = TODAY - dt.timedelta(days=900)
    for role in (Role.TAM, Role.CSM, Role.TAE):
        user = User(
            email=f"{role.lower()}@example.test",
            name=role,
            region=Region.US,
            team_lead=lead,
            started_on=started,
        )
        ctx.staff_by_role[role] = [user]
    return ctx


def _profile(n: int, *, arr: float, start: int = 0, growth: float = 0.0) -> AccountProfile:
    return AccountProfile(f"org_{n}", Region.US, arr / 12, growth, start)


def test_every_20k_account_is_owned_by_hiring_tams_and_csms_with_books_near_their_caps():
    ctx = _context()
    big = [_profile(n, arr=90_000) for n in range(100)]  # $60k+: TAMs
    mid = [_profile(100 + n, arr=30_000) for n in range(300)]  # $20k-$60k: CSMs once TAMs are full
    small = [_profile(400 + n, arr=5_000) for n in range(2_000)]
    profiles = big + mid + small

    owned, hired = _assign_owners(ctx.rng("accounts"), ctx, profiles, [None] * len(profiles))

    assert set(range(400)) <= set(owned)
    assert all(owned[i].role == OwnerRole.TAM for i in range(100))
    hired_roles = Counter(user.demo_role for user in hired)  # type: ignore[attr-defined]
    assert hired_roles[Role.TAM] >= 6 and hired_roles[Role.CSM] >= 8
    books = Counter(o.owner.email for o in owned.values())
    tam_books = [books[u.email] for u in hired if u.demo_role == Role.TAM]  # type: ignore[attr-defined]
    # Every hired TAM but the last one hired has a full book of 13-15 accounts.
    assert all(13 <= size <= 15 for size in tam_books[:-1])
    assert all(u.team_lead is not None and u.region == Region.US for u in hired)


def test_an_account_that_crossed_20k_this_quarter_waits_for_allocation():
    ctx = _context()
    # $13k ARR six months ago, growing 10% a month: $15.7k four months ago, $20.9k now.
    crossed = _profile(0, arr=13_000, start=MONTHS - 6, growth=0.1)
    steady = _profile(1, arr=30_000)

    owned, _ = _assign_owners(ctx.rng("accounts"), ctx, [crossed, steady], [None, None])

    assert crossed.expected_mrr(MONTHS - 1) * 12 >= 20_000
    assert 0 not in owned
    assert 1 in owned


def test_the_young_20k_deals_belong_to_taes_hired_as_needed():
    ctx = _context()
    young = [_profile(n, arr=40_000, start=MONTHS - 2) for n in range(30)]

    owned, hired = _assign_owners(ctx.rng("accounts"), ctx, young, [None] * len(young))

    assert len(owned) == 30
    assert {o.role for o in owned.values()} == {OwnerRole.TAE}
    assert hired and all(u.demo_role == Role.TAE for u in hired)  # type: ignore[attr-defined]


def test_the_people_hired_are_not_all_the_same_person():
    ctx = _context()
    profiles = [_profile(n, arr=90_000) for n in range(100)]

    _, hired = _assign_owners(ctx.rng("accounts"), ctx, profiles, [None] * len(profiles))

    assert len(hired) >= 6
    assert len({u.name for u in hired}) > 1
    assert len({u.started_on for u in hired}) > 1
