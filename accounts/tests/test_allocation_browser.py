"""Allocation in the browser (issue 19): 25 rows a page, the queue filter kept across pages."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import NewOwnerTrait
from accounts.tests.books_factories import give_arr
from accounts.tests.factories import AccountFactory, manager

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_paging_a_queue_keeps_the_queue(page, login_as, time_machine):
    # The books' fixed TODAY (as freeze_today), ticking so the browser's waits still run.
    time_machine.move_to(dt.datetime(2026, 5, 15, 12, 0, tzinfo=dt.UTC), tick=True)
    AccountFactory.create_batch(30, new_owner_trait=NewOwnerTrait.READY_TO_MOVE)
    give_arr(AccountFactory.create(name="Big Unowned"), 30_000)
    login_as(manager())
    page.goto("/book/allocation/")
    rows = page.get_by_test_id("allocation-row")
    assert rows.count() == 25
    page.get_by_test_id("queue-filter").get_by_role("link", name="Ready to move").click()
    page.wait_for_url("**/book/allocation/?queue=*")
    assert rows.count() == 25
    assert page.get_by_text("30 accounts, page 1 of 2").is_visible()
    page.get_by_test_id("pager").get_by_role("link", name="Next").click()
    page.wait_for_url("**page=2")
    assert "queue=" in page.url
    assert rows.count() == 5
    assert page.get_by_text("30 accounts, page 2 of 2").is_visible()
    assert page.get_by_text("Big Unowned").count() == 0
    page.get_by_test_id("pager").get_by_role("link", name="Previous").click()
    page.wait_for_url("**page=1")
    assert "queue=" in page.url and rows.count() == 25
