"""The per-account monthly MRR summary mirrors the revenue table after any write.

The oracle is the definition itself, evaluated by the test: SUM(amount) and
COUNT(*) of billing_monthlyrevenue per account and month.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from accounts.tests.factories import AccountFactory
from billing.models import AccountMonthMrr, MonthlyRevenue
from billing.tests.factories import MonthlyRevenueFactory, product

pytestmark = pytest.mark.django_db

JAN = dt.date(2026, 1, 1)
FEB = dt.date(2026, 2, 1)


def summary() -> dict[tuple[int, dt.date], tuple[Decimal, int]]:
    return {
        (row.account_id, row.month): (row.mrr, row.revenue_rows)
        for row in AccountMonthMrr.objects.all()
    }


def grouped_revenue() -> dict[tuple[int, dt.date], tuple[Decimal, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT account_id, month, sum(amount), count(*) FROM billing_monthlyrevenue "
            "GROUP BY account_id, month"
        )
        return {(a, m): (total, n) for a, m, total, n in cursor.fetchall()}


def test_inserts_one_by_one_and_in_bulk_are_summed_per_account_and_month():
    account = AccountFactory.create()
    MonthlyRevenueFactory.create(account=account, month=JAN, amount=Decimal("100.10"))
    MonthlyRevenueFactory.create(
        account=account, month=JAN, product=product("session_replay"), amount=Decimal("0.90")
    )
    other = AccountFactory.create()
    MonthlyRevenue.objects.bulk_create(
        MonthlyRevenue(account=a, product=product("feature_flags"), month=m, amount=Decimal(7))
        for a in (account, other)
        for m in (JAN, FEB)
    )
    assert summary()[(account.pk, JAN)] == (Decimal("108.00"), 3)
    assert summary() == grouped_revenue()


def test_updates_of_amount_and_of_month_move_the_totals():
    row = MonthlyRevenueFactory.create(month=JAN, amount=Decimal(500))
    MonthlyRevenueFactory.create(
        account=row.account, month=JAN, product=product("session_replay"), amount=Decimal(20)
    )
    MonthlyRevenue.objects.filter(pk=row.pk).update(amount=Decimal("499.99"))
    assert summary()[(row.account_id, JAN)] == (Decimal("519.99"), 2)
    MonthlyRevenue.objects.filter(pk=row.pk).update(month=FEB)
    assert summary() == {
        (row.account_id, JAN): (Decimal(20), 1),
        (row.account_id, FEB): (Decimal("499.99"), 1),
    }
    assert summary() == grouped_revenue()


def test_moving_a_months_only_row_to_another_month_removes_the_emptied_month():
    row = MonthlyRevenueFactory.create(month=JAN, amount=Decimal(500))
    MonthlyRevenue.objects.filter(pk=row.pk).update(month=FEB)
    assert summary() == {(row.account_id, FEB): (Decimal(500), 1)}


def test_one_statement_deleting_a_month_of_many_accounts_leaves_the_other_months():
    rows = [MonthlyRevenueFactory.create(month=month) for month in (JAN, FEB) for _ in range(3)]
    MonthlyRevenueFactory.create(
        account=rows[0].account, month=JAN, product=product("session_replay")
    )
    MonthlyRevenue.objects.filter(month=JAN).delete()
    assert {month for _, month in summary()} == {FEB}
    assert summary() == grouped_revenue()


def test_an_upsert_counts_the_inserted_and_the_updated_rows_once():
    row = MonthlyRevenueFactory.create(month=JAN, amount=Decimal(10))
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO billing_monthlyrevenue (account_id, product_id, month, amount) "
            "VALUES (%s, %s, %s, 30), (%s, %s, %s, 5) "
            "ON CONFLICT (account_id, month, product_id) DO UPDATE SET amount = excluded.amount",
            [
                row.account_id,
                row.product_id,
                JAN,
                row.account_id,
                product("session_replay").pk,
                JAN,
            ],
        )
    assert summary() == {(row.account_id, JAN): (Decimal(35), 2)}
    assert summary() == grouped_revenue()


def test_a_month_whose_revenue_rows_are_deleted_has_no_summary_row():
    row = MonthlyRevenueFactory.create(month=JAN, amount=Decimal(10))
    kept = MonthlyRevenueFactory.create(account=row.account, month=FEB, amount=Decimal(3))
    row.delete()
    assert summary() == {(kept.account_id, FEB): (Decimal(3), 1)}


def test_deleting_an_account_removes_its_months():
    row = MonthlyRevenueFactory.create(month=JAN)
    other = MonthlyRevenueFactory.create(month=JAN)
    row.account.delete()
    assert summary() == {(other.account_id, JAN): (other.amount, 1)}


def test_a_truncate_of_the_revenue_table_empties_the_summary():
    MonthlyRevenueFactory.create(month=JAN)
    with connection.cursor() as cursor:
        # The factory's deferred foreign key checks would block a TRUNCATE in
        # the same transaction; a real TRUNCATE runs in its own.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE billing_monthlyrevenue")
    assert summary() == {}


def billed() -> dict[tuple[int, dt.date], tuple[int, int]]:
    return {
        (row.account_id, row.month): (row.billed_products, row.billed_product_id_sum)
        for row in AccountMonthMrr.objects.all()
    }


def grouped_billed() -> dict[tuple[int, dt.date], tuple[int, int]]:
    """The definition: per account and month, the products with amount > 0 and their ids' sum."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT account_id, month, count(*) FILTER (WHERE amount > 0), "
            "coalesce(sum(product_id) FILTER (WHERE amount > 0), 0) "
            "FROM billing_monthlyrevenue GROUP BY account_id, month"
        )
        return {(a, m): (n, ids) for a, m, n, ids in cursor.fetchall()}


def test_billed_products_follow_inserts_updates_and_deletes():
    analytics, replay, flags = (
        product(key) for key in ("product_analytics", "session_replay", "feature_flags")
    )
    row = MonthlyRevenueFactory.create(month=JAN, product=analytics, amount=Decimal(100))
    account = row.account
    zero = MonthlyRevenueFactory.create(account=account, month=JAN, product=replay, amount=0)
    assert billed() == {(account.pk, JAN): (1, analytics.pk)}
    steps = [
        lambda: MonthlyRevenue.objects.filter(pk=zero.pk).update(amount=Decimal(5)),
        lambda: MonthlyRevenue.objects.filter(pk=row.pk).update(amount=0),
        lambda: MonthlyRevenue.objects.filter(pk=row.pk).update(amount=Decimal(9), product=flags),
        lambda: MonthlyRevenue.objects.filter(pk=zero.pk).update(month=FEB),
        lambda: MonthlyRevenue.objects.bulk_create(
            MonthlyRevenue(account=account, product=p, month=FEB, amount=amount)
            for p, amount in ((analytics, Decimal(0)), (flags, Decimal(3)))
        ),
        lambda: MonthlyRevenue.objects.filter(account=account, month=FEB, amount=0).delete(),
        lambda: MonthlyRevenue.objects.filter(pk=row.pk).delete(),
    ]
    for step in steps:
        step()
        assert billed() == grouped_billed()
    # FEB holds session_replay 5 and feature_flags 3; JAN went with its last row.
    assert billed() == {(account.pk, FEB): (2, replay.pk + flags.pk)}
