"""Helpers for book tests: revenue rows and plans."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import factory

from accounts.models import Account, AccountPlan
from billing.models import CreditGrant, MonthlyRevenue, Product

# Tests freeze time here; the latest complete month is April 2026.
TODAY = dt.date(2026, 5, 15)
LAST_MONTH = dt.date(2026, 4, 1)


def give_revenue(
    account: Account,
    *,
    month: dt.date = LAST_MONTH,
    **amounts: Decimal | int | str,
) -> None:
    """Invoice ``account`` for ``month``: give_revenue(a, session_replay=300)."""
    products = {p.key: p for p in Product.objects.filter(key__in=amounts)}
    MonthlyRevenue.objects.bulk_create(
        MonthlyRevenue(account=account, product=products[key], month=month, amount=Decimal(amount))
        for key, amount in amounts.items()
    )


def give_arr(account: Account, arr: Decimal | int | str, *, month: dt.date = LAST_MONTH) -> None:
    """Give ``account`` exactly ``arr`` (12 × one product analytics invoice)."""
    give_revenue(account, month=month, product_analytics=Decimal(arr) / 12)


def fully_expanded(account: Account, *, each: int = 1000) -> None:
    give_revenue(account, session_replay=each, feature_flags=each, error_tracking=each)


class AccountPlanFactory(factory.django.DjangoModelFactory[AccountPlan]):
    class Meta:
        model = AccountPlan

    quarter_start = dt.date(2026, 4, 1)
    title = factory.LazyAttribute(lambda p: f"Q2 Account Plan – {p.account.name}")


def plan_for(account: Account, **kwargs: Any) -> AccountPlan:
    return AccountPlanFactory.create(account=account, **kwargs)


def freeze_today(time_machine: Any) -> None:
    """Move the clock to noon UTC on TODAY, not ticking (call from a fixture)."""
    time_machine.move_to(dt.datetime(2026, 5, 15, 12, 0, tzinfo=dt.UTC), tick=False)


def grant_credits(account: Account, kind: str, **kwargs: Any) -> None:
    """A year of credits of ``kind`` from March 2026, so April (``LAST_MONTH``, the
    figures' month) is paid by them: $120,000 granted, $100,000 left; ``kwargs`` set
    the rest (``paid_amount`` for an enterprise purchase, ``depleted_on``)."""
    CreditGrant.objects.create(
        account=account,
        kind=kind,
        granted_on=dt.date(2026, 3, 10),
        expires_on=dt.date(2027, 3, 10),
        amount=Decimal(120_000),
        balance=Decimal(100_000),
        **kwargs,
    )
