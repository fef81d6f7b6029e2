"""Helpers for handover tests: people by role, a ready account, Top 40 filler."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from accounts.handovers.checklists import ONBOARDING_CHECKLIST, onboarding_sections
from accounts.handovers.models import Handover, HandoverReason, OnboardingCheck
from accounts.handovers.workflow import propose_handover
from accounts.models import Account, OwnerRole, User
from accounts.roles import Role
from accounts.tests.books_factories import LAST_MONTH, TODAY, give_revenue, plan_for
from accounts.tests.factories import AccountFactory, user_with_role
from billing.models import MonthlyRevenue, Product
from revopsweb.dates import latest_complete_month, quarter_start

NOON = dt.datetime(2026, 5, 15, 12, 0, tzinfo=dt.UTC)


def tae(**kwargs: Any) -> User:
    return user_with_role(Role.TAE, title="Technical Account Executive", **kwargs)


def csm(**kwargs: Any) -> User:
    return user_with_role(Role.CSM, title="Customer Success Manager", **kwargs)


def tick_all_onboarding(account: Account, *, today: dt.date = TODAY) -> None:
    """Tick every onboarding item that applies to the account's paid products."""
    OnboardingCheck.objects.bulk_create(
        OnboardingCheck(account=account, section=section, item=key, checked_at=NOON)
        for section in onboarding_sections(account, today=today)
        for key, _ in ONBOARDING_CHECKLIST[section][1]
    )


def fill_top_40(*, each: int = 100_000, month: dt.date = LAST_MONTH) -> None:
    """Forty accounts with more MRR than any test account, so test accounts
    are outside the Top 40 unless a test says otherwise (two queries)."""
    accounts = Account.objects.bulk_create(
        Account(name=f"Big {i}", organization_id=f"org_big_{i:03d}") for i in range(40)
    )
    analytics = Product.objects.get(key="product_analytics")
    MonthlyRevenue.objects.bulk_create(
        MonthlyRevenue(account=a, product=analytics, month=month, amount=Decimal(each))
        for a in accounts
    )


def ready_account(
    owner: User, *, role: str = OwnerRole.TAM, today: dt.date = TODAY, **kwargs: Any
) -> Account:
    """An account owned by ``owner`` that passes the TAM → CSM conditions and
    every precondition: all three core products, discount agreement, this
    quarter's plan documenting no levers, onboarding done, no open invoices."""
    kwargs.setdefault("has_discount_agreement", True)
    kwargs.setdefault("active_users_30d", 12)
    account = AccountFactory.create(
        owner=owner, owner_role=role, owner_since=dt.date(2025, 1, 1), **kwargs
    )
    give_revenue(
        account,
        month=latest_complete_month(today),
        session_replay=1000,
        feature_flags=1000,
        error_tracking=1000,
    )
    plan_for(
        account,
        quarter_start=quarter_start(today),
        no_viable_levers=True,
        levers_tried="Pitched surveys and data warehouse twice; no team wants them.",
        objectives="Keep them happy through renewal.",
    )
    tick_all_onboarding(account, today=today)
    return account


def proposed(
    account: Account,
    to_owner: User,
    *,
    by: User | None = None,
    to_role: str = OwnerRole.CSM,
    reason: str = "",
) -> Handover:
    """Propose a handover; ``reason`` defaults to fully expanded for TAM → CSM and
    to the owner leaving or changing role (which fits every move) otherwise."""
    assert account.owner is not None
    if not reason:
        tam_to_csm = (account.owner_role, to_role) == (OwnerRole.TAM, OwnerRole.CSM)
        reason = HandoverReason.FULLY_EXPANDED if tam_to_csm else HandoverReason.OWNER_CHANGE
    return propose_handover(
        account=account,
        to_owner=to_owner,
        to_role=to_role,
        reason=reason,
        reason_detail="All three core products, discount agreed.",
        by=by or account.owner,
        today=TODAY,
    )


def pay_for(
    account: Account, keys: list[str], *, amount: int = 500, month: dt.date = LAST_MONTH
) -> None:
    """Invoice ``account`` ``amount`` for each product key in ``month``."""
    products = Product.objects.filter(key__in=keys)
    MonthlyRevenue.objects.bulk_create(
        MonthlyRevenue(account=account, product=p, month=month, amount=Decimal(amount))
        for p in products
    )


def owner_of(account: Account) -> User:
    assert account.owner is not None
    return account.owner
