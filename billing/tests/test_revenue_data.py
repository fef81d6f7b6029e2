"""Revenue data through month M: a month with no import is "not in yet", never $0.

The issue's example: an account paid 1,000 in September and October 2026; on
2 December November's revenue has not been imported yet.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from accounts.books import book_totals, full_book_reasons
from accounts.models import Account
from accounts.segments import Segment, refresh_top_accounts, segments_of, with_revenue
from accounts.tests.factories import AccountFactory, revops, tam
from billing.quota import tam_quotas
from billing.revenue_data import first_paid_months, revenue_data_through
from billing.tests.factories import MonthlyRevenueFactory
from revopsweb.dates import parse_quarter

pytestmark = pytest.mark.django_db

SEP, OCT, NOV, DEC = (dt.date(2026, m, 1) for m in (9, 10, 11, 12))
SECOND_OF_DECEMBER = dt.date(2026, 12, 2)


@pytest.fixture
def on_2_december(time_machine):
    # Noon UTC is 07:00 in the company's time zone (America/New_York): still 2 December.
    time_machine.move_to(dt.datetime(2026, 12, 2, 12, tzinfo=dt.UTC), tick=False)


def paid_september_and_october(amount: int = 1000, **account: object) -> Account:
    customer = AccountFactory.create(**account)
    for month in (SEP, OCT):
        MonthlyRevenueFactory.create(account=customer, month=month, amount=Decimal(amount))
    return customer


def test_data_runs_through_the_latest_imported_month_and_names_the_missing_one():
    paid_september_and_october()
    through = revenue_data_through(today=SECOND_OF_DECEMBER)
    assert through.month == OCT
    assert through.expected == NOV
    assert through.missing == [NOV]
    assert through.note == "Revenue through October 2026 (November not imported yet)."


def test_a_month_in_progress_or_a_future_row_never_counts_as_imported():
    customer = paid_september_and_october()
    MonthlyRevenueFactory.create(account=customer, month=DEC, amount=Decimal(5))
    MonthlyRevenueFactory.create(account=customer, month=dt.date(9999, 12, 1), amount=Decimal(5))
    assert revenue_data_through(today=SECOND_OF_DECEMBER).month == OCT


def test_once_november_is_imported_the_data_is_current():
    customer = paid_september_and_october()
    MonthlyRevenueFactory.create(account=customer, month=NOV, amount=Decimal(900))
    through = revenue_data_through(today=SECOND_OF_DECEMBER)
    assert through.month == NOV
    assert through.missing == []
    assert through.note == "Revenue through November 2026."


def test_several_missing_months_are_named_as_a_range():
    MonthlyRevenueFactory.create(month=dt.date(2026, 8, 1))
    assert revenue_data_through(today=dt.date(2027, 1, 10)).note == (
        "Revenue through August 2026 (September 2026 to December 2026 not imported yet)."
    )


def test_with_nothing_imported_pages_say_so():
    through = revenue_data_through(today=SECOND_OF_DECEMBER)
    assert through.month is None
    assert through.note == "No revenue imported yet."


def test_reading_the_data_month_is_one_index_probe_not_a_table_scan(django_assert_num_queries):
    paid_september_and_october()
    with django_assert_num_queries(1):
        revenue_data_through(today=SECOND_OF_DECEMBER)
    # The planner can answer max(month) from the (month, product) index alone.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT max(month) FROM billing_monthlyrevenue WHERE month <= %s", [NOV]
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan Backward" in plan


def test_my_book_shows_october_not_zero_and_says_november_is_not_in(client, on_2_december):
    owner = tam()
    paid_september_and_october(owner=owner, owner_role="TAM")
    client.force_login(owner)
    response = client.get(reverse("accounts:my_book"))
    [row] = response.context["accounts"]
    assert (row.mrr, row.arr, row.mom_change) == (Decimal(1000), Decimal(12000), Decimal(0))
    assert response.context["totals"].arr == Decimal(12000)
    assert "Revenue through October 2026 (November not imported yet)." in response.text


def test_segments_and_top_40_read_the_imported_month():
    # 2,000 a month: ARR 24,000, so the $20K ARR segment (12 × October, not 12 × $0).
    customer = paid_september_and_october(2000)
    assert refresh_top_accounts(today=SECOND_OF_DECEMBER) == 1
    row = with_revenue(Account.objects.filter(pk=customer.pk), today=SECOND_OF_DECEMBER).get()
    assert segments_of(row) == [Segment.ARR_20K, Segment.TOP_40]


def test_an_account_absent_from_an_imported_month_did_churn():
    churned = paid_september_and_october()
    MonthlyRevenueFactory.create(month=NOV, amount=Decimal(10))  # November is in, without it
    row: Any = with_revenue(Account.objects.filter(pk=churned.pk), today=SECOND_OF_DECEMBER).get()
    assert (row.mrr, row.mom_change) == (Decimal(0), Decimal(-1000))


def test_a_full_book_stays_full_until_november_is_imported():
    owner = tam()
    # 125,000 a month in one AM-managed account: ARR 1.5m, the book target.
    paid_september_and_october(125_000, owner=owner, owner_role="TAM", am_managed=True)
    assert full_book_reasons([owner.pk], today=SECOND_OF_DECEMBER) == {
        owner.pk: "Book full: $1,500,000 AM-managed ARR (limit $1,500,000)."
    }
    assert book_totals(owner, today=SECOND_OF_DECEMBER).arr == Decimal(1_500_000)


def test_the_quarter_in_progress_counts_october_alone_not_a_churned_november(on_2_december):
    owner = tam()
    customer = paid_september_and_october(owner=owner, owner_role="TAM", am_managed=True)
    MonthlyRevenueFactory.create(account=customer, month=dt.date(2026, 7, 1))
    MonthlyRevenueFactory.create(account=customer, month=dt.date(2026, 8, 1))
    [row] = tam_quotas(quarter=parse_quarter("2026Q4"), tams=[owner])
    [account] = row.accounts
    # Q3: 4 × 0.7 × (1,000 + 1,000 + 1,000) = 8,400; Q4 so far: 12 × 0.7 × 1,000 = 8,400.
    assert (account.start_arr, account.end_arr) == (Decimal(8400), Decimal(8400))


def test_revenue_page_opens_on_october_and_offers_no_month_without_data(client, on_2_december):
    paid_september_and_october()
    client.force_login(revops())
    response = client.get(reverse("billing:revenue"))
    assert response.context["current"].month == OCT
    assert response.context["current"].total == Decimal(1000)
    assert response.context["next_month"] == ""
    assert "2026-11 →" not in response.text and "2026-12 →" not in response.text
    assert "Revenue through October 2026 (November not imported yet)." in response.text


def test_revenue_page_asked_for_a_month_without_data_shows_the_data_month(client, on_2_december):
    paid_september_and_october()
    client.force_login(revops())
    response = client.get(reverse("billing:revenue") + "?month=2026-12")
    current = response.context["current"]
    assert (current.month, current.total, current.churned) == (OCT, Decimal(1000), Decimal(0))


def test_revenue_page_links_forward_from_an_earlier_month(client, on_2_december):
    paid_september_and_october()
    client.force_login(revops())
    response = client.get(reverse("billing:revenue") + "?month=2026-09")
    assert response.context["next_month"] == "2026-10"


def test_the_first_paid_month_is_the_first_month_with_a_paid_amount():
    customer = AccountFactory.create()
    MonthlyRevenueFactory.create(account=customer, month=dt.date(2026, 8, 1), amount=Decimal(0))
    for month in (SEP, OCT):
        MonthlyRevenueFactory.create(account=customer, month=month, amount=Decimal(500))
    never_paid = AccountFactory.create()
    MonthlyRevenueFactory.create(account=never_paid, month=SEP, amount=Decimal(0))

    assert first_paid_months(account_ids=[customer.pk, never_paid.pk]) == {customer.pk: SEP}


def test_the_quota_page_offers_no_quarter_without_an_imported_month(client, time_machine):
    # 2 October: revenue through August, so 2026Q4 has no month in yet.
    time_machine.move_to(dt.datetime(2026, 10, 2, 12, tzinfo=dt.UTC), tick=False)
    owner = tam()
    customer = AccountFactory.create(owner=owner, owner_role="TAM", am_managed=True)
    for month in (dt.date(2026, 7, 1), dt.date(2026, 8, 1)):
        MonthlyRevenueFactory.create(account=customer, month=month)
    client.force_login(owner)

    asked = client.get(reverse("billing:quota") + "?quarter=2026Q4")
    default = client.get(reverse("billing:quota"))

    assert asked.context["quarter"] == default.context["quarter"] == "2026Q3"
    assert "2026Q4" not in default.context["quarters"]
    assert "Revenue through August 2026 (September not imported yet)." in default.text


def test_the_reports_refuse_a_month_or_quarter_not_imported_yet(on_2_december):
    paid_september_and_october()
    with pytest.raises(CommandError, match="November 2026 is not imported yet"):
        call_command("revenue_report", "--month", "2026-11")
    with pytest.raises(CommandError, match="2027Q1 has no imported month yet"):
        call_command("quota_report", "--quarter", "2027Q1")
