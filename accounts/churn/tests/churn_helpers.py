"""Shared builders for the churn tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from accounts.churn.models import ChurnSignal
from accounts.models import Account, AccountSnapshot, Activity, ActivityKind, OwnerRole, User
from accounts.tests.factories import AccountFactory, tam

# A Wednesday; the company's local date (America/New_York) is the same day.
NOW = dt.datetime(2026, 11, 18, 17, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 18)
THIS_MONDAY = dt.date(2026, 11, 16)


def owned_account(owner: User | None = None, **kwargs: Any) -> Any:
    """An account with an owner (typed Any so tests can pass ``account.owner`` as a User)."""
    return AccountFactory.create(
        owner=owner or tam(), owner_role=OwnerRole.TAM, owner_since=dt.date(2025, 1, 1), **kwargs
    )


def open_signals(account: Account) -> dict[str, dict[str, Any]]:
    return {
        s.kind: s.evidence
        for s in ChurnSignal.objects.filter(account=account, cleared_on__isnull=True)
    }


def activity(
    account: Account, *, kind: str = ActivityKind.EMAIL, from_customer: bool = True, at: dt.datetime
) -> Activity:
    return Activity.objects.create(
        account=account, kind=kind, from_customer=from_customer, occurred_at=at, summary="x"
    )


def snapshot(account: Account, week: dt.date, **values: Any) -> AccountSnapshot:
    return AccountSnapshot.objects.create(account=account, week=week, **values)


def weeks_back(n: int) -> dt.date:
    return THIS_MONDAY - dt.timedelta(weeks=n)


def money(value: int | str) -> Decimal:
    return Decimal(value)
