"""Who joins the "$20k+ ARR without an owner" queue (sales/account-allocation): ARR is
12 × MRR by billing configuration (billing/customer-billing-configurations), found from
the revenue summary rather than worked out per account (issue 20)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from accounts.books import Queue, allocation_queue, allocation_queue_page
from accounts.models import NewOwnerTrait, OwnerRole, Plan
from accounts.roles import Role
from accounts.tests.books_factories import (
    TODAY,
    freeze_today,
    fully_expanded,
    give_arr,
    give_revenue,
    grant_credits,
)
from accounts.tests.factories import AccountFactory, manager, tam, user_with_role
from billing.models import CreditGrantKind

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today(time_machine):
    freeze_today(time_machine)


def _unowned_queue() -> dict[int, Decimal]:
    page = allocation_queue_page(today=TODAY, queue=Queue.UNOWNED_20K, per_page=100)
    rows: list[Any] = page.rows  # accounts read with their ARR
    assert page.counts[Queue.UNOWNED_20K] == len(rows)
    return {account.pk: account.arr for account, _, _ in rows}


def test_an_unowned_account_joins_the_queue_at_twenty_thousand_arr_not_a_cent_below():
    at = AccountFactory.create()
    give_revenue(at, product_analytics="1666.67")  # ARR 20,000.04
    below = AccountFactory.create()
    give_revenue(below, product_analytics="1666.66")  # ARR 19,999.92
    owned = AccountFactory.create(owner=tam(), owner_role=OwnerRole.TAM)
    give_arr(owned, 240_000)
    assert _unowned_queue() == {at.pk: Decimal("20000.04")}


def test_the_queue_reads_arr_by_billing_configuration_not_usage():
    # Startup credits pay for the month: MRR $0 whatever the usage.
    on_credits = AccountFactory.create(plan=Plan.STARTUP)
    grant_credits(on_credits, CreditGrantKind.STARTUP)
    give_arr(on_credits, 600_000)
    # An enterprise purchase spreads what was paid over its 12 months: $24,000 ARR
    # on $1,200 of usage is queued, $12,000 ARR on $600,000 of usage is not.
    paid_more = AccountFactory.create(plan=Plan.ANNUAL)
    grant_credits(paid_more, CreditGrantKind.ENTERPRISE, paid_amount=Decimal(24_000))
    give_arr(paid_more, 1_200)
    paid_less = AccountFactory.create(plan=Plan.ANNUAL)
    grant_credits(paid_less, CreditGrantKind.ENTERPRISE, paid_amount=Decimal(12_000))
    give_arr(paid_less, 600_000)
    # No data for the month at all: not in yet, so not queued.
    AccountFactory.create()
    assert _unowned_queue() == {paid_more.pk: Decimal("24000.00")}


def test_the_page_reads_the_same_queries_whatever_each_queue_holds(
    client, django_assert_num_queries
):
    client.force_login(manager())
    csm = user_with_role(Role.CSM)
    crowded = tam()

    def grow(n: int) -> None:
        for _ in range(n):
            give_arr(AccountFactory.create(), 30_000)
            AccountFactory.create(new_owner_trait=NewOwnerTrait.US_TAM)
            AccountFactory.create(owner=csm, owner_role=OwnerRole.CSM)
        AccountFactory.create_batch(n, owner=crowded, owner_role=OwnerRole.TAM)

    # session, user with their roles, revenue month, over-15 TAM books, queue counts,
    # the Top 40 stored if the month is unranked (one statement), the page's rows,
    # which of them the person may open (the people to assign are read by each row's
    # assign form, on demand)
    grow(2)
    with django_assert_num_queries(8):
        small = client.get(reverse("accounts:allocation")).content.decode()
    grow(16)
    with django_assert_num_queries(8):
        large = client.get(reverse("accounts:allocation")).content.decode()
    assert "$20k+ ARR without an owner (2)" in small
    assert "$20k+ ARR without an owner (18)" in large
    assert "In a TAM book over 15 accounts (18)" in large
    assert "CSM account with expansion potential (18)" in large


def test_pages_taken_from_each_part_of_the_queue_stitch_into_the_whole_queue_in_order():
    # The plain unowned $20k+ accounts are ranked from the summary's index, the
    # others (a trait, a CSM owner) worked out per account: their ARRs interleave,
    # two tie (then by name), one ranks by an enterprise purchase's spread.
    for name, arr in (("b", 30_000), ("a", 30_000), ("c", 90_000), ("d", 21_000)):
        give_arr(AccountFactory.create(name=name), arr)
    give_arr(AccountFactory.create(name="e", new_owner_trait=NewOwnerTrait.READY_TO_MOVE), 50_000)
    give_arr(AccountFactory.create(name="f", new_owner_trait=NewOwnerTrait.READY_TO_MOVE), 30_000)
    csm = user_with_role(Role.CSM)
    give_arr(AccountFactory.create(name="g", owner=csm, owner_role=OwnerRole.CSM), 25_000)
    spread = AccountFactory.create(name="h", plan=Plan.ANNUAL)
    grant_credits(spread, CreditGrantKind.ENTERPRISE, paid_amount=Decimal(36_000))
    give_arr(spread, 1_200)
    whole = [(a.pk, reasons) for a, reasons, _ in allocation_queue(today=TODAY)]
    assert len(whole) == 8
    for queue in ("", Queue.UNOWNED_20K):
        pages = [
            allocation_queue_page(today=TODAY, queue=queue, number=n, per_page=3) for n in (1, 2, 3)
        ]
        stitched = [(a.pk, reasons) for page in pages for a, reasons, _ in page.rows]
        expected = [row for row in whole if not queue or queue in row[1]]
        assert stitched == expected
        assert pages[0].total == len(expected)


def test_each_queues_count_and_page_agree_with_the_whole_queue():
    # One statement counts every queue and picks the page from columns worked out
    # once per account (issue 20): each queue's count and rows must be the ones the
    # whole queue, tested account by account, gives.
    csm = user_with_role(Role.CSM)
    growable = AccountFactory.create(name="growable", owner=csm, owner_role=OwnerRole.CSM)
    expanded = AccountFactory.create(name="expanded", owner=csm, owner_role=OwnerRole.CSM)
    fully_expanded(expanded)
    give_arr(growable, 24_000)
    both = AccountFactory.create(name="both", new_owner_trait=NewOwnerTrait.EU_TAM)
    give_arr(both, 48_000)  # unowned at $20k+ and waiting for a person
    AccountFactory.create(name="flagged", new_owner_trait=NewOwnerTrait.READY_TO_MOVE)
    give_arr(AccountFactory.create(name="plain"), 30_000)
    AccountFactory.create_batch(16, owner=tam(), owner_role=OwnerRole.TAM)
    whole = [(a.pk, reasons) for a, reasons, _ in allocation_queue(today=TODAY)]
    assert expanded.pk not in dict(whole) and len(whole) == 4 + 16
    for queue in ("", *Queue.LABELS):
        page = allocation_queue_page(today=TODAY, queue=queue, per_page=100)
        expected = [row for row in whole if not queue or queue in row[1]]
        assert [(a.pk, reasons) for a, reasons, _ in page.rows] == expected
        assert page.total == len(expected)
        if queue:
            assert page.counts[queue] == len(expected)


def test_a_page_past_the_end_of_one_queue_shows_its_last_page():
    AccountFactory.create_batch(5, new_owner_trait=NewOwnerTrait.READY_TO_MOVE)
    AccountFactory.create_batch(4, new_owner_trait=NewOwnerTrait.US_TAM)
    page = allocation_queue_page(today=TODAY, queue=Queue.AWAITING_PERSON, number=7, per_page=3)
    assert (page.number, page.num_pages, len(page.rows)) == (2, 2, 1)
    empty = allocation_queue_page(today=TODAY, queue=Queue.CSM_EXPANSION, number=3, per_page=3)
    assert (empty.number, empty.num_pages, empty.rows, empty.total) == (1, 1, [], 0)
