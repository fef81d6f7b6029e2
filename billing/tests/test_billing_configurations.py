"""Billing configurations (billing/customer-billing-configurations): startup-plan accounts
have MRR $0 while on credits; an enterprise credit purchase is spread over its paid period.
Read by the revenue lifecycle (both bases) and by segments' MRR."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import Account, Plan
from accounts.segments import with_revenue
from accounts.tests.factories import AccountFactory
from billing.adjustments import adjusted_revenue
from billing.lifecycle import lifecycle_components
from billing.models import CreditGrant, CreditGrantKind
from billing.tests.factories import product
from billing.tests.helpers import month, series

pytestmark = pytest.mark.django_db


def _revenue(account: Account, *, adjusted: bool = False, last: int = 13) -> list[Decimal]:
    values = adjusted_revenue(first_month=month(0), last_month=month(last), adjusted=adjusted)
    return [values.get((account.pk, month(n)), Decimal("0.00")) for n in range(last + 1)]


def _mrr(account: Account, n: int) -> Decimal:
    row = with_revenue(
        Account.objects.filter(pk=account.pk), today=dt.date(2027, 6, 1), month=month(n)
    )
    return row.get().mrr


def _startup(**kwargs) -> Account:
    account = AccountFactory.create(plan=Plan.STARTUP)
    CreditGrant.objects.create(
        account=account,
        kind=CreditGrantKind.STARTUP,
        granted_on=dt.date(2026, 1, 10),
        expires_on=dt.date(2026, 4, 10),
        amount=Decimal(50000),
        balance=Decimal(40000),
        **kwargs,
    )
    series(account, [1000] * 6)
    return account


def test_startup_usage_counts_nothing_until_the_month_the_credits_expire():
    account = _startup()
    assert _revenue(account, last=5) == [0, 0, 0, 1000, 1000, 1000]
    assert _revenue(account, adjusted=True, last=5) == [0, 0, 0, 1000, 1000, 1000]
    assert [_mrr(account, n) for n in (2, 3)] == [Decimal(0), Decimal(1000)]


def test_startup_credits_that_run_out_early_end_in_the_month_they_ran_out():
    account = _startup(depleted_on=dt.date(2026, 2, 20))
    assert _revenue(account, last=3) == [0, 1000, 1000, 1000]
    assert [_mrr(account, n) for n in (0, 1)] == [Decimal(0), Decimal(1000)]


def test_an_enterprise_purchase_is_spread_over_its_paid_year():
    account = AccountFactory.create(plan=Plan.ANNUAL)
    CreditGrant.objects.create(
        account=account,
        kind=CreditGrantKind.ENTERPRISE,
        granted_on=dt.date(2026, 1, 15),
        expires_on=dt.date(2027, 1, 15),
        amount=Decimal(30000),
        balance=Decimal(10000),
        paid_amount=Decimal(24000),
    )
    series(account, [500] * 14)
    assert _revenue(account) == [Decimal(2000)] * 12 + [Decimal(500)] * 2
    assert [_mrr(account, n) for n in (0, 11, 12)] == [Decimal(2000), Decimal(2000), Decimal(500)]


def _product_totals(*, through: int, adjusted: bool = False) -> dict[int, Decimal]:
    """Per-product MRR (summed over accounts) of each month up to ``through``."""
    rows = lifecycle_components(
        through=month(through), months=through + 1, adjusted=adjusted, by_product=True
    )
    analytics = product("product_analytics").pk
    return {n: r.total for n in range(through + 1) for r in rows if r.month == month(n)
            and r.product_id == analytics}  # fmt: skip


def test_an_enterprise_products_mrr_is_its_usage_minus_the_credit_discount():
    # $30,000 of credits bought for $24,000: a 20% credit discount, so $500 of
    # usage is $400 of the product's MRR while the purchase pays for the month,
    # and $500 again once it no longer does.
    account = AccountFactory.create(plan=Plan.ANNUAL)
    CreditGrant.objects.create(
        account=account,
        kind=CreditGrantKind.ENTERPRISE,
        granted_on=dt.date(2026, 1, 15),
        expires_on=dt.date(2027, 1, 15),
        amount=Decimal(30000),
        balance=Decimal(10000),
        paid_amount=Decimal(24000),
    )
    series(account, [500] * 14)
    totals = _product_totals(through=13)
    assert [totals[n] for n in (0, 11, 12, 13)] == [Decimal(400)] * 2 + [Decimal(500)] * 2


def test_a_product_of_a_paying_customer_without_credits_keeps_its_usage():
    series(AccountFactory.create(), [500] * 2)
    assert _product_totals(through=1) == {0: Decimal(500), 1: Decimal(500)}


def test_the_account_pages_mrr_by_product_follows_the_billing_configuration(client):
    import json

    from accounts.tests.factories import manager
    from billing.tests.factories import MonthlyRevenueFactory
    from revopsweb.dates import add_months, company_today, latest_complete_month

    last = latest_complete_month(company_today())
    granted = add_months(last, -2).replace(day=15)
    expires = granted.replace(year=granted.year + 1)
    enterprise = AccountFactory.create(plan=Plan.ANNUAL)
    startup = AccountFactory.create(plan=Plan.STARTUP)
    for account, kind, paid in (
        (enterprise, CreditGrantKind.ENTERPRISE, Decimal(24000)),
        (startup, CreditGrantKind.STARTUP, Decimal(0)),
    ):
        CreditGrant.objects.create(
            account=account, kind=kind, granted_on=granted, expires_on=expires,
            amount=Decimal(30000), balance=Decimal(10000), paid_amount=paid,
        )  # fmt: skip
        MonthlyRevenueFactory.create(account=account, month=last, amount=Decimal(500))
    client.force_login(manager())

    def chart(account: Account) -> list[str]:
        page = client.get(f"/accounts/{account.pk}/").content.decode()
        start = page.index('<script id="mrr-by-product" type="application/json">') + 52
        [dataset] = json.loads(page[start : page.index("</script>", start)])["datasets"]
        return dataset["data"][-1:]

    # $30,000 of credits bought for $24,000: $500 of usage is $400; on startup credits, $0.
    assert chart(enterprise) == ["400.00"]
    assert chart(startup) == ["0.00"]
