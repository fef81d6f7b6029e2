from __future__ import annotations

import datetime as dt
import random

import pytest

from accounts.demo_books import WEEKS, seed_books
from accounts.models import AccountPlan, AccountSnapshot
from accounts.tests.factories import AccountFactory, tam

pytestmark = pytest.mark.django_db


def test_seed_books_gives_every_account_twelve_weeks_and_sets_health_from_the_latest():
    owner = tam()
    accounts = AccountFactory.create_batch(3, owner=owner, owner_role="TAM")
    today = dt.date(2026, 5, 13)
    seed_books(rng=random.Random(1), today=today)
    assert AccountSnapshot.objects.count() == 3 * WEEKS
    latest = AccountSnapshot.objects.filter(account=accounts[0]).latest()
    assert latest.week == dt.date(2026, 5, 4)
    accounts[0].refresh_from_db()
    assert accounts[0].health == latest.health
    assert all(
        p.title.startswith(("Q1 Account Plan", "Q2 Account Plan"))
        for p in AccountPlan.objects.all()
    )


def test_seed_books_twice_keeps_one_plan_per_quarter_and_one_snapshot_per_week():
    AccountFactory.create_batch(4, owner=tam(), owner_role="TAM")
    today = dt.date(2026, 5, 13)
    seed_books(rng=random.Random(2), today=today)
    plans = AccountPlan.objects.count()
    seed_books(rng=random.Random(2), today=today)
    assert AccountPlan.objects.count() == plans
    assert AccountSnapshot.objects.count() == 4 * WEEKS
