from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import Account
from accounts.ownership import change_account_owner
from accounts.tests.factories import AccountFactory, UserFactory, tam
from billing.models import MonthlyRevenue
from billing.quota import (
    MonthInvoice,
    cross_sell_multiplier,
    quarter_arr,
    quota_share,
    tam_quotas,
    team_quota,
)
from billing.tests.factories import product
from billing.tests.helpers import month, series

pytestmark = pytest.mark.django_db
Q2 = month(3)


def _invoice(account: Account, n: int, amounts: dict[str, str]) -> None:
    MonthlyRevenue.objects.bulk_create(
        MonthlyRevenue(account=account, product=product(k), month=month(n), amount=Decimal(v))
        for k, v in amounts.items()
    )


def _handbook_customer(owner) -> Account:
    """The invoice history of the handbook's quota example (sales/how-we-work)."""
    account = AccountFactory.create(
        owner=owner, owner_role="TAM", am_managed=True, owner_since=dt.date(2025, 6, 1)
    )
    _invoice(account, 0, {"product_analytics": "2300"})
    _invoice(account, 1, {"product_analytics": "2200"})
    _invoice(account, 2, {"product_analytics": "2500"})
    _invoice(account, 3, {"product_analytics": "2400", "session_replay": "300"})
    _invoice(account, 4, {"product_analytics": "2800"})
    _invoice(
        account, 5, {"product_analytics": "2400", "session_replay": "300", "feature_flags": "300"}
    )
    return account


def test_handbook_quota_example_adds_11160_to_attainment():
    owner = tam(quarterly_quota=Decimal("200000"))
    _handbook_customer(owner)
    [row] = tam_quotas(quarter=Q2, tams=[owner])
    assert row.start_arr == Decimal("19600.00")
    assert row.end_arr == Decimal("30760.00")
    assert row.attainment == Decimal("11160.00")


@pytest.mark.parametrize(
    ("paid", "multiplier"), [(0, "0.7"), (1, "0.7"), (2, "0.9"), (3, "1.1"), (11, "2.7")]
)
def test_cross_sell_multiplier_starts_at_point_seven_and_adds_point_two(paid, multiplier):
    assert cross_sell_multiplier(paid) == Decimal(multiplier)


def test_a_product_counts_as_paid_only_over_two_hundred_dollars():
    owner = tam()
    account = AccountFactory.create(owner=owner, owner_role="TAM", am_managed=True)
    for n in (3, 4, 5):
        _invoice(
            account,
            n,
            {"product_analytics": "1000", "session_replay": "200", "feature_flags": "200.01"},
        )
    [row] = tam_quotas(quarter=Q2, tams=[owner])
    assert [i.paid_products for i in row.accounts[0].end_invoices] == [2, 2, 2]


def test_add_on_products_do_not_count_for_the_multiplier():
    owner = tam()
    account = AccountFactory.create(owner=owner, owner_role="TAM", am_managed=True)
    for n in (3, 4, 5):
        _invoice(account, n, {"product_analytics": "1000", "teams": "900"})
    [row] = tam_quotas(quarter=Q2, tams=[owner])
    assert row.end_arr == Decimal("1900") * Decimal("0.7") * 3 * 4  # three months, x4


def _months(*amounts):
    return [
        MonthInvoice(month=month(i), amount=Decimal(a), paid_products=1)
        for i, a in enumerate(amounts)
    ]


def test_one_invoiced_month_is_annualised_times_twelve():
    assert quarter_arr(_months("0", "0", "1000")) == Decimal("8400.00")


def test_two_invoiced_months_are_annualised_times_six():
    assert quarter_arr(_months("0", "1000", "1000")) == Decimal("8400.00")


def test_no_revenue_in_the_final_month_counts_the_quarter_as_churned():
    assert quarter_arr(_months("1000", "1000", "0")) == Decimal("0.00")


def test_only_am_managed_accounts_count():
    owner = tam()
    account = _handbook_customer(owner)
    Account.objects.filter(pk=account.pk).update(am_managed=False)
    [row] = tam_quotas(quarter=Q2, tams=[owner])
    assert row.accounts == [] and row.attainment == 0


def _churning_new_account(owner, *, previous_owner=None, since=dt.date(2026, 5, 1)):
    account = AccountFactory.create(
        owner=previous_owner, owner_role="TAM" if previous_owner else ""
    )
    change_account_owner(
        account=account,
        new_owner=owner,
        new_owner_role="TAM",
        changed_by=None,
        reason="assigned",
        source="test",
        effective_on=since,
    )
    Account.objects.filter(pk=account.pk).update(am_managed=True)
    series(account, [1000, 1000, 1000, 1000, 0, 0])
    return account


def test_new_account_without_previous_owner_churning_in_grace_period_does_not_count():
    owner = tam()
    _churning_new_account(owner)
    [row] = tam_quotas(quarter=Q2, tams=[owner])
    assert row.accounts[0].in_grace and row.attainment == 0


def test_grace_period_ends_three_months_after_takeover():
    owner = tam()
    _churning_new_account(owner, since=dt.date(2026, 3, 31))
    [row] = tam_quotas(quarter=Q2, tams=[owner])
    assert not row.accounts[0].in_grace
    assert row.attainment == Decimal("-8400.00")


def test_inherited_account_with_a_previous_owner_has_no_grace_period():
    owner = tam()
    # Taken over on the quarter's first day: a move later in the quarter would
    # count for the previous owner until quarter end.
    _churning_new_account(owner, previous_owner=tam(), since=Q2)
    [row] = tam_quotas(quarter=Q2, tams=[owner])
    assert not row.accounts[0].in_grace and row.attainment == Decimal("-8400.00")


def test_quota_report_queries_do_not_grow_with_the_book(django_assert_num_queries):
    owners = [tam() for _ in range(2)]
    for owner in owners:
        _handbook_customer(owner)
    # latest month, book with previous-owner flag, invoices, annual contracts,
    # approved exclusions, paid invoices
    with django_assert_num_queries(6):
        tam_quotas(quarter=Q2, tams=owners)
    for owner in owners:
        for _ in range(5):
            _handbook_customer(owner)
    with django_assert_num_queries(6):
        tam_quotas(quarter=Q2, tams=owners)


def test_handbook_team_quota_example_is_875000():
    quarter = dt.date(2026, 4, 1)
    ramped = [
        UserFactory.create(quarterly_quota=Decimal("250000"), started_on=dt.date(2025, 1, 5))
        for _ in range(3)
    ]
    ramping = UserFactory.create(quarterly_quota=Decimal("250000"), started_on=dt.date(2026, 2, 1))
    assert team_quota(members=[*ramped, ramping], quarter=quarter) == Decimal("875000.00")


@pytest.mark.parametrize(
    ("started_on", "share"),
    [
        (None, "1"),
        (dt.date(2026, 1, 1), "1"),  # three full months before the quarter
        (dt.date(2026, 1, 2), "0.5"),
        (dt.date(2026, 4, 1), "0.5"),  # starts on the quarter's first day
        (dt.date(2026, 4, 2), "0"),  # joins during the quarter: target unchanged
    ],
)
def test_team_quota_share_ramps_over_the_first_three_months(started_on, share):
    assert quota_share(started_on=started_on, quarter=dt.date(2026, 4, 1)) == Decimal(share)


def test_a_quarter_in_progress_counts_the_months_imported_so_far():
    owner = tam()
    account = AccountFactory.create(owner=owner, owner_role="TAM", am_managed=True)
    series(account, [1000, 1000, 1000, 1200])  # Q2 has only April so far
    [row] = tam_quotas(quarter=Q2, tams=[owner])
    assert row.start_arr == Decimal("8400.00")  # 4 × 3 × 1000 × 0.7
    assert row.end_arr == Decimal("10080.00")  # 12 × 1200 × 0.7, not churned
    assert row.attainment == Decimal("1680.00")


def test_no_month_of_the_quarter_yet_counts_zero():
    assert quarter_arr([]) == Decimal("0.00")


# --- Attribution follows the handbook's dates (issue 16 §6) ----------------------


def _owned_since_january(owner) -> Account:
    """AM-managed, owned by ``owner`` from 10 January 2026 (recorded), 1,000 a month
    January to May and 1,500 in June."""
    account = AccountFactory.create(am_managed=True)
    change_account_owner(
        account=account,
        new_owner=owner,
        new_owner_role="TAM",
        changed_by=None,
        reason="allocated",
        source="allocation",
        effective_on=dt.date(2026, 1, 10),
    )
    series(account, [1000, 1000, 1000, 1000, 1000, 1500])
    return account


def test_an_account_moved_mid_quarter_counts_for_the_owner_at_quarter_start():
    from accounts.books import assign_account
    from accounts.tests.factories import manager

    outgoing, incoming = tam(), tam()
    account = _owned_since_january(outgoing)
    move = assign_account(
        account=account,
        new_owner=incoming,
        by=manager(),
        reason="rebalancing books",
        today=dt.date(2026, 5, 10),
        is_top_40=False,
    )
    assert move.effective_on == dt.date(2026, 7, 1)  # recorded as moving at quarter end

    rows = {r.user: r for r in tam_quotas(quarter=Q2, tams=[outgoing, incoming])}

    # Q1: 4 × 0.7 × (1,000 × 3) = 8,400; Q2: 4 × 0.7 × (1,000 + 1,000 + 1,500) = 9,800.
    assert [a.account_id for a in rows[outgoing].accounts] == [account.pk]
    assert rows[outgoing].attainment == Decimal("1400.00")
    assert rows[incoming].accounts == []


def test_the_moved_account_counts_for_the_new_owner_from_the_next_quarter():
    from accounts.books import assign_account
    from accounts.tests.factories import manager

    outgoing, incoming = tam(), tam()
    account = _owned_since_january(outgoing)
    assign_account(
        account=account,
        new_owner=incoming,
        by=manager(),
        reason="rebalancing books",
        today=dt.date(2026, 5, 10),
        is_top_40=False,
    )

    rows = {r.user: r for r in tam_quotas(quarter=month(6), tams=[outgoing, incoming])}

    assert [a.account_id for a in rows[incoming].accounts] == [account.pk]
    assert rows[outgoing].accounts == []


def test_an_account_added_during_the_quarter_counts_for_the_new_owner_at_once():
    newcomer = tam()
    account = AccountFactory.create(am_managed=True)
    change_account_owner(
        account=account,
        new_owner=newcomer,
        new_owner_role="TAM",
        changed_by=None,
        reason="round robin",
        source="round robin",
        effective_on=dt.date(2026, 5, 10),
    )
    series(account, [1000, 1000, 1000, 1000, 1000, 1500])

    [row] = tam_quotas(quarter=Q2, tams=[newcomer])

    assert [a.account_id for a in row.accounts] == [account.pk]
