"""Builders for lead-rule tests: accounts with revenue, snapshots, invoices, contacts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from accounts.models import Account, AccountSnapshot, Contact
from accounts.tests.factories import AccountFactory
from billing.models import Invoice
from billing.tests.factories import MonthlyRevenueFactory, product
from leads.generation import catalog
from leads.generation.evaluate import RuleInForce, find_hits
from leads.generation.models import LeadRule, LeadRuleVersion
from revopsweb.dates import add_months, month_start

# Company noon on Monday 15 June 2026 (America/New_York is UTC-4 in June).
NOW = dt.datetime(2026, 6, 15, 16, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 6, 15)
# Revenue data is in through May: June is "not in yet".
LATEST_MONTH = dt.date(2026, 5, 1)


def rule(key: str, **thresholds: Any) -> RuleInForce:
    """A rule with the handbook defaults, some thresholds overridden."""
    definition = catalog.RULES_BY_KEY[key]
    return RuleInForce(
        key=key,
        lead_type=definition.lead_type,
        version=1,
        thresholds={**definition.defaults(), **thresholds},
        cooldown_days=definition.cooldown_days,
    )


def hit_ids(key: str, *, now: dt.datetime = NOW, **thresholds: Any) -> list[int]:
    return [h.account_id for h in find_hits(rules=[rule(key, **thresholds)], now=now)[key]]


def pay(account: Account, *, months: int, amount: str, last: dt.date = LATEST_MONTH) -> None:
    """Revenue of ``amount`` dollars in each of the ``months`` months ending at ``last``."""
    for back in range(months):
        MonthlyRevenueFactory.create(
            account=account, month=add_months(last, -back), amount=Decimal(amount)
        )


def snapshot(account: Account, *, week: dt.date = TODAY, **measures: Any) -> AccountSnapshot:
    return AccountSnapshot.objects.create(account=account, week=week, **measures)


def invoice(account: Account, *, amount: str, issued_on: dt.date, status: str = "paid") -> Invoice:
    return Invoice.objects.create(
        account=account,
        number=f"INV-{account.pk}-{issued_on:%Y%m%d}-{Invoice.objects.count()}",
        period=issued_on.replace(day=1),
        issued_on=issued_on,
        due_on=issued_on + dt.timedelta(days=30),
        amount=Decimal(amount),
        status=status,
    )


def contacts(account: Account, count: int) -> None:
    for n in range(count):
        Contact.objects.create(account=account, name=f"Person {n}", email=f"p{n}@{account.domain}")


def band_account(
    *,
    mrr: str = "1000.00",
    employees: int = 51,
    users: int = 8,
    country: str = "US",
    months: int = 3,
    **fields: Any,
) -> Account:
    """An account meeting the MRR-band rule unless a value is moved over a boundary."""
    account = AccountFactory.create(employee_count=employees, country=country, **fields)
    pay(account, months=months, amount=mrr)
    snapshot(account, active_users_30d=users)
    return account


def startup_account(
    *, expires_on: dt.date, balance: str = "0", invoices: tuple[str, ...] = ()
) -> Account:
    """A startup-plan account; ``invoices`` oldest first, one a month, the last in June."""
    account = AccountFactory.create(
        plan="startup", credit_expires_on=expires_on, credit_balance=Decimal(balance)
    )
    for back, amount in enumerate(reversed(invoices)):
        invoice(account, amount=amount, issued_on=add_months(month_start(TODAY), -back))
    return account


def new_version(key: str, *, number: int, effective_on: dt.date, **thresholds: Any) -> None:
    stored = LeadRule.objects.get(key=key)
    definition = catalog.RULES_BY_KEY[key]
    LeadRuleVersion.objects.create(
        rule=stored,
        number=number,
        thresholds={**definition.defaults(), **thresholds},
        cooldown_days=definition.cooldown_days,
        effective_on=effective_on,
        reason="test",
    )


__all__ = ["product"]
