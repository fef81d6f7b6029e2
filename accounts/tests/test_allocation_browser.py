"""Allocation in the browser (issues 19, 20): 25 rows a page, the queue filter kept across pages,
the assign form without JavaScript."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import NewOwnerTrait
from accounts.tests.books_factories import give_arr
from accounts.tests.factories import AccountFactory, manager, tam

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


def test_without_javascript_the_assign_link_opens_the_form_and_assigns(
    no_js_login_as, time_machine
):
    time_machine.move_to(dt.datetime(2026, 5, 15, 12, 0, tzinfo=dt.UTC), tick=True)

    boss, person = manager(), tam(name="Nina New")
    account = AccountFactory.create(name="Unowned Big", new_owner_trait=NewOwnerTrait.US_TAM)
    page = no_js_login_as(boss)
    page.goto("/book/allocation/")
    page.get_by_role("link", name="Assign Unowned Big…").click()
    page.wait_for_url(f"**/book/allocation/{account.pk}/assign/")
    page.get_by_label("Assign Unowned Big to").select_option(str(person.pk))
    page.get_by_label("Reason for Unowned Big").fill("US fit")
    page.get_by_role("button", name="Assign").click()
    page.get_by_text("Unowned Big assigned to Nina New").wait_for()
    account.refresh_from_db()
    assert account.owner == person
