"""The revenue summaries: incremental refreshes leave exactly what a full rebuild
computes, and a refresh recomputes only from the month before the earliest
month an input touched."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Account, Plan
from accounts.tests.factories import AccountFactory
from billing.lifecycle import (
    MOVERS_LIMIT,
    MonthComponents,
    components_from_row,
    empty_components,
    lifecycle_components,
)
from billing.models import (
    AnnualContract,
    Consolidation,
    CreditGrant,
    CreditGrantKind,
    CreditReason,
    MonthlyRevenue,
    OneTimeCredit,
    RevenueCustomerMonth,
    RevenueFirstPaid,
    RevenueMonthSummary,
    RevenueMover,
    RevenueSummaryChange,
    RevenueSummaryDirty,
    Trial,
    TrialKind,
)
from billing.summary import (
    NARROW_MAX_ACCOUNTS,
    SUM_COLUMNS,
    rebuild_revenue_summary,
    refresh_revenue_summary,
)
from billing.tests.factories import product
from billing.tests.helpers import month, series

pytestmark = pytest.mark.django_db

PRODUCTS = ("product_analytics", "session_replay")


def _rows() -> tuple[list[tuple[Any, ...]], ...]:
    summary = sorted(
        RevenueMonthSummary.objects.values_list(
            "adjusted", "month", "product_id", "total", "baseline", "new", "reactivated",
            "retained", "expansion", "contraction", "churned", "ret_base_3", "ret_now_3",
            "ret_gross_3", "ret_base_6", "ret_now_6", "ret_gross_6", "ret_base_12",
            "ret_now_12", "ret_gross_12",
        )
    )  # fmt: skip
    movers = sorted(
        RevenueMover.objects.values_list(
            "adjusted", "month", "customer_id", "prev", "amount", "up", "down"
        )
    )
    # What the summaries are aggregated from: the adjusted amounts (with the billed
    # amounts a refresh reads back for rules 4 and 5) and first months.
    amounts = sorted(
        RevenueCustomerMonth.objects.values_list(
            "adjusted", "product_id", "customer_id", "month", "amount", "billed"
        )
    )
    firsts = sorted(
        RevenueFirstPaid.objects.values_list("adjusted", "product_id", "customer_id", "month")
    )
    return summary, movers, amounts, firsts


def _upsert(account: Account, key: str, n: int, amount: int | None) -> None:
    """Write one revenue row (``amount`` None: delete it)."""
    if amount is None:
        MonthlyRevenue.objects.filter(
            account=account, product=product(key), month=month(n)
        ).delete()
        return
    MonthlyRevenue.objects.update_or_create(
        account=account, product=product(key), month=month(n), defaults={"amount": amount}
    )


def _record_changes_up_to(rows: int | None) -> None:
    """Statements write their rows to RevenueSummaryChange while it holds at most
    ``rows`` (None: the default 10,000); past that they mark their first month
    for every account, as a month's import does."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('billing.revenue_change_rows', %s, true)",
            ["" if rows is None else str(rows)],
        )


def _term(kind: str, account: Account, other: Account, n: int) -> None:
    """One write to an input of the adjusted revenue other than monthly revenue
    (a repeat of a natural key writes nothing)."""
    try:
        with transaction.atomic():
            _write_term(kind, account, other, n)
    except IntegrityError:
        pass


def _write_term(kind: str, account: Account, other: Account, n: int) -> None:
    if kind == "credit":
        OneTimeCredit.objects.create(
            account=account, month=month(n), amount=Decimal(5000), reason=CreditReason.PROMO
        )
    elif kind == "contract":
        AnnualContract.objects.create(
            account=account,
            starts_on=month(n),
            ends_on=month(n + 2) + dt.timedelta(days=27),
            annual_amount=Decimal(12000),
            discount_percent=Decimal(20),
        )
    elif kind == "trial":
        Trial.objects.create(
            account=account,
            kind=TrialKind.values[0],
            starts_on=month(n) + dt.timedelta(days=3),
            ends_on=month(n) + dt.timedelta(days=17),
        )
    elif kind == "startup":
        CreditGrant.objects.create(
            account=account,
            kind=CreditGrantKind.STARTUP,
            granted_on=month(n) + dt.timedelta(days=4),
            expires_on=month(n + 2) + dt.timedelta(days=4),
            amount=Decimal(5000),
            balance=Decimal(1000),
        )
    elif kind == "plan":
        Account.objects.filter(pk=account.pk).update(plan=Plan.TRIAL)
    elif (
        kind == "consolidation"
        and account != other
        and not Consolidation.objects.filter(account__in=[account, other]).exists()
    ):
        Consolidation.objects.create(account=account, customer=other, reason="moved")


AMOUNTS = st.sampled_from([None, 0, 100, 250, 1500, 6000])  # None: the row deleted
WRITE = st.tuples(
    st.integers(0, 3), st.sampled_from(PRODUCTS), st.integers(0, 14), AMOUNTS
)  # account, product, month, amount
TERM = st.tuples(
    st.sampled_from(["credit", "contract", "trial", "startup", "plan", "consolidation"]),
    st.integers(0, 3),
    st.integers(0, 3),
    st.integers(0, 14),
)
# Per step: its writes, a term, how many rows the change record holds before
# statements mark their month for every account (None: the default), how many
# changed accounts the refresh recomputes one by one, and then, refreshed on its
# own, a month's import: each account's revenue of the month after the latest
# (None: no row; no list: no import), the path of a monthly import (the month
# before and the month recomputed side by side, billing.summary._recent_adj).
STEP = st.tuples(
    st.lists(WRITE, min_size=1, max_size=8),
    st.lists(TERM, max_size=1),
    st.sampled_from([None, None, 2, 0]),
    st.sampled_from([NARROW_MAX_ACCOUNTS, 1]),
    st.none() | st.lists(AMOUNTS, min_size=4, max_size=4),
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(STEP, min_size=1, max_size=4))
def test_incremental_refreshes_of_random_imports_equal_a_full_rebuild(steps):
    # Hypothesis reuses the test's transaction: start each example from nothing.
    MonthlyRevenue.objects.all().delete()
    RevenueSummaryDirty.objects.all().delete()
    rebuild_revenue_summary()
    accounts = [AccountFactory.create() for _ in range(4)]
    # A history the changes land in: the refreshes below recompute parts of it.
    for index, account in enumerate(accounts[:2]):
        series(account, [1000 + 500 * index] * 12)
    refresh_revenue_summary()
    for writes, terms, recorded, narrow, imported in steps:
        _record_changes_up_to(recorded)
        for index, key, n, amount in writes:
            _upsert(accounts[index], key, n, amount)
        for kind, first, other, n in terms:
            _term(kind, accounts[first], accounts[other], n)
        _record_changes_up_to(None)
        refresh_revenue_summary(narrow_max_accounts=narrow)
        if imported is not None:
            latest = MonthlyRevenue.objects.order_by("-month").values_list("month", flat=True)[0]
            after = (latest.year - month(0).year) * 12 + latest.month - month(0).month + 1
            for account, amount in zip(accounts, imported, strict=True):
                if amount is not None:
                    _upsert(account, PRODUCTS[0], after, amount)
            refresh_revenue_summary(narrow_max_accounts=narrow)
    incremental = _rows()

    rebuild_revenue_summary()

    assert incremental == _rows()


def test_a_deleted_latest_month_leaves_no_summary_row_behind():
    account = AccountFactory.create()
    series(account, [100, 200, 300])
    refresh_revenue_summary()
    MonthlyRevenue.objects.filter(month=month(2)).delete()

    refresh_revenue_summary()

    incremental = _rows()
    assert max(row[1] for row in incremental[0]) == month(1)
    rebuild_revenue_summary()
    assert incremental == _rows()


def test_importing_the_next_month_recomputes_it_and_the_month_before_only():
    account = AccountFactory.create()
    series(account, [100, 200, 300, 400, 500, 600])
    refresh_revenue_summary()
    earlier = dict(
        RevenueMonthSummary.objects.filter(month__lt=month(5)).values_list("pk", "month")
    )

    series(account, [700], start=6)
    recomputed = refresh_revenue_summary()

    assert recomputed == 2  # June (its next month is now known) and July
    kept = dict(RevenueMonthSummary.objects.filter(month__lt=month(5)).values_list("pk", "month"))
    assert kept == earlier  # the same rows, untouched
    july = RevenueMonthSummary.objects.get(adjusted=False, product_id=0, month=month(6))
    assert (july.total, july.baseline, july.expansion) == (
        Decimal("700.00"),
        Decimal("600.00"),
        Decimal("100.00"),
    )


def test_a_month_after_an_empty_month_recomputes_the_last_month_computed():
    account = AccountFactory.create()
    # March is the latest month: left as billed, with no following month to judge it by.
    series(account, [1000, 1000, 5000])
    refresh_revenue_summary()
    march = RevenueMonthSummary.objects.get(adjusted=True, product_id=0, month=month(2))
    assert march.total == Decimal("5000.00")

    series(account, [1000], start=4)  # April has no revenue: March was a spike
    refresh_revenue_summary()

    march = RevenueMonthSummary.objects.get(adjusted=True, product_id=0, month=month(2))
    assert march.total == Decimal("1000.00")  # the average of January and February
    incremental = _rows()
    rebuild_revenue_summary()
    assert incremental == _rows()


def test_rules_4_and_5_read_the_billed_amounts_of_the_months_before_an_import():
    account = AccountFactory.create()
    # March is a spike (adjusted to $1,000); May is left as billed, the latest month.
    series(account, [1000, 1000, 5000, 1000, 4000])
    refresh_revenue_summary()

    series(account, [500], start=5)  # June: May is judged now, by its billed March
    refresh_revenue_summary()

    # Against March as billed ($5,000) May is no spike; against March as adjusted
    # ($1,000) it would be one, replaced by $1,000.
    may = RevenueMonthSummary.objects.get(adjusted=True, product_id=0, month=month(4))
    assert may.total == Decimal("4000.00")
    incremental = _rows()
    rebuild_revenue_summary()
    assert incremental == _rows()


def test_the_summaries_equal_the_lifecycle_computed_from_history():
    accounts = [AccountFactory.create() for _ in range(3)]
    series(accounts[0], [100, 0, 300, 300, 6000, 200, 0, 0, 500] + [500] * 10)
    series(accounts[1], [None, 2000, 2500, 1500, None, 1500] + [7000] * 13, key="session_replay")
    series(accounts[2], [700] * 19)
    OneTimeCredit.objects.create(
        account=accounts[2], month=month(7), amount=Decimal(700), reason=CreditReason.PROMO
    )
    Consolidation.objects.create(account=accounts[1], customer=accounts[0], reason="moved")
    refresh_revenue_summary()

    for adjusted in (True, False):
        expected = [
            c
            for c in lifecycle_components(through=month(18), months=19, adjusted=adjusted)
            if c != empty_components(c.month)
        ]
        stored = RevenueMonthSummary.objects.filter(adjusted=adjusted, product_id=0)
        assert [_components(row) for row in stored.order_by("month")] == expected
        per_product = lifecycle_components(
            through=month(18), months=19, adjusted=adjusted, by_product=True
        )
        stored = RevenueMonthSummary.objects.filter(adjusted=adjusted, product_id__gt=0)
        assert [
            _components(row, retention=False) for row in stored.order_by("month", "product_id")
        ] == [c for c in per_product if c.month >= month(0)]


def _components(row: RevenueMonthSummary, *, retention: bool = True) -> MonthComponents:
    values = [getattr(row, c) for c in SUM_COLUMNS.split(", ")]
    return components_from_row(
        (row.month, row.product_id), (row.month, row.product_id, *values), retention=retention
    )


def test_an_annual_contract_marks_its_first_month_for_recomputation():
    account = AccountFactory.create()
    series(account, [1000] * 6)
    refresh_revenue_summary()

    AnnualContract.objects.create(
        account=account,
        starts_on=month(4) + dt.timedelta(days=9),
        ends_on=month(5) + dt.timedelta(days=29),
        annual_amount=Decimal(12000),
        discount_percent=Decimal(50),
    )

    assert list(RevenueSummaryDirty.objects.values_list("month", flat=True)) == [month(4)]
    assert refresh_revenue_summary() == 3  # April (May's previous month), May, June
    june = RevenueMonthSummary.objects.get(adjusted=True, product_id=0, month=month(5))
    assert june.total == Decimal("2000.00")  # $1,000 at a 50% discount


def test_the_rebuild_command_recomputes_every_month():
    series(AccountFactory.create(), [100, 0, 300])
    RevenueSummaryDirty.objects.all().delete()

    call_command("rebuild_revenue_summary", verbosity=0)

    months = set(
        RevenueMonthSummary.objects.filter(product_id=0, adjusted=False).values_list(
            "month", flat=True
        )
    )
    assert months == {month(0), month(1), month(2)}


def _places(model: Any, **filters: Any) -> dict[Any, str]:
    """Each row's physical place (ctid): a row rewritten by a refresh moves."""
    table = model._meta.db_table
    where = " AND ".join(f"{column} = %s" for column in filters) or "true"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ctid::text, * FROM {table} WHERE {where}",  # noqa: S608 - test-only names
            list(filters.values()),
        )
        return {tuple(row[1:]): row[0] for row in cursor.fetchall()}


def test_a_correction_in_an_earlier_month_recomputes_that_customer_alone():
    corrected, other = AccountFactory.create(), AccountFactory.create()
    series(corrected, [1000] * 12)
    series(other, [2000] * 12)
    refresh_revenue_summary()
    others_amounts = _places(RevenueCustomerMonth, customer_id=other.pk)
    earlier_months = _places(RevenueMonthSummary, month=month(2))

    _upsert(corrected, "product_analytics", 3, 1500)  # April, eight months back

    assert not RevenueSummaryDirty.objects.exists()  # no month marked for every account
    assert RevenueSummaryChange.objects.get().old_amount == Decimal("1000.00")
    refresh_revenue_summary()
    # The other customer's stored amounts and the months before April are left alone.
    assert _places(RevenueCustomerMonth, customer_id=other.pk) == others_amounts
    assert _places(RevenueMonthSummary, month=month(2)) == earlier_months
    april = RevenueMonthSummary.objects.get(adjusted=False, product_id=0, month=month(3))
    assert (april.total, april.expansion) == (Decimal("3500.00"), Decimal("500.00"))
    incremental = _rows()
    rebuild_revenue_summary()
    assert incremental == _rows()


def test_a_trial_plan_after_deleting_an_account_s_first_month_equals_a_rebuild():
    account, other = AccountFactory.create(), AccountFactory.create()
    series(account, [1000] * 12)
    series(other, [1500] * 12)
    refresh_revenue_summary()

    _upsert(account, "product_analytics", 0, None)  # recorded: its first month deleted
    # Marks the account's first month with revenue as it is now (February) only.
    Account.objects.filter(pk=account.pk).update(plan=Plan.TRIAL)
    refresh_revenue_summary()

    incremental = _rows()
    rebuild_revenue_summary()
    assert incremental == _rows()


def test_a_statement_past_the_change_record_marks_its_month_for_every_account():
    account = AccountFactory.create()
    RevenueSummaryDirty.objects.all().delete()
    _record_changes_up_to(2)

    series(account, [100, 200, 300])  # three rows in one statement

    assert not RevenueSummaryChange.objects.exists()
    assert list(RevenueSummaryDirty.objects.values_list("month", flat=True)) == [month(0)]


def test_movers_rank_tied_changes_by_customer_from_either_end():
    # 30 customers whose changes from January to February tie in threes (+300,
    # +200, ..., -600): more than MOVERS_LIMIT at each end, so some rows are ranked
    # from one end only and take their other rank from the count of changes.
    accounts = [AccountFactory.create() for _ in range(30)]
    for i, account in enumerate(accounts):
        series(account, [1000, 1000 + 100 * (3 - i // 3)])
    rebuild_revenue_summary()

    for adjusted in (True, False):
        amounts = dict(
            RevenueCustomerMonth.objects.filter(
                adjusted=adjusted, product_id=0, month=month(1)
            ).values_list("customer_id", "amount")
        )
        prev = dict(
            RevenueCustomerMonth.objects.filter(
                adjusted=adjusted, product_id=0, month=month(0)
            ).values_list("customer_id", "amount")
        )
        moved = [c for c in amounts if amounts[c] != prev[c]]
        up = sorted(moved, key=lambda c: (-(amounts[c] - prev[c]), c))
        down = sorted(moved, key=lambda c: (amounts[c] - prev[c], c))
        expected = sorted(
            (c, up.index(c) + 1, down.index(c) + 1)
            for c in moved
            if up.index(c) < MOVERS_LIMIT or down.index(c) < MOVERS_LIMIT
        )
        stored = sorted(
            RevenueMover.objects.filter(adjusted=adjusted, month=month(1)).values_list(
                "customer_id", "up", "down"
            )
        )
        assert stored == expected
