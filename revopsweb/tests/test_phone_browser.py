"""The main pages at phone width, 390 px (issue 19), and the account page on a
desktop: no horizontal scrolling of the page (tables scroll inside themselves)
and Log out on screen."""

from __future__ import annotations

import pytest

from accounts.tests.factories import AccountFactory, tam
from leads.tests.factories import TaskFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def test_my_book_tasks_task_and_account_fit_390_px(phone):
    from accounts.tests.factories import TEST_PASSWORD

    me = tam(name="Maximiliana Featherstonehaugh-Worthington")
    accounts = [
        AccountFactory.create(
            name=f"Extraordinarily Long Company Name Incorporated {i}", owner=me, owner_role="TAM"
        )
        for i in range(4)
    ]
    task = TaskFactory.create(assignee=me, account=accounts[0])
    phone.goto("/login/")
    phone.get_by_label("Work email").fill(me.email)
    phone.get_by_label("Password").fill(TEST_PASSWORD)
    phone.get_by_role("button", name="Log in").click()
    phone.wait_for_url(lambda url: "/login/" not in url)
    for url in ("/", "/book/", "/tasks/", f"/tasks/{task.pk}/", f"/accounts/{accounts[0].pk}/"):
        phone.goto(url)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (url, width)
        box = phone.get_by_role("button", name="Log out").bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390, url


def test_the_account_page_fits_a_1400_px_desktop(browser, live_server):
    # Its small panels share a row; a panel's table wider than its column scrolls inside it.
    from accounts.tests.factories import TEST_PASSWORD

    me = tam()
    account = AccountFactory.create(owner=me, owner_role="TAM")
    TaskFactory.create(assignee=me, account=account)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/login/")
    page.get_by_label("Work email").fill(me.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    page.goto(f"/accounts/{account.pk}/")
    width = page.evaluate("document.documentElement.scrollWidth")
    context.close()
    assert width <= 1400
