"""Each role lands on its home; the account search from the keyboard (issue 19)."""

from __future__ import annotations

import pytest

from accounts.tests.factories import AccountFactory, manager, revops, tam, team_lead

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("make", "panel", "heading"),
    [
        (tam, "home-book", "Your book today"),
        (team_lead, "home-team-books", "Your team"),
        (manager, "home-company-risk", "The company"),
        (revops, "home-data", "The data"),
    ],
)
def test_each_role_lands_on_its_home_after_login(page, login_as, make, panel, heading):
    login_as(make())
    assert page.url == page.url.split("/", 3)[0] + "//" + page.url.split("/", 3)[2] + "/"
    assert page.get_by_role("heading", level=1, name=heading).is_visible()
    assert page.get_by_test_id(panel).is_visible()
    assert page.get_by_text("Below the target").count() == (1 if make is tam else 0)


def test_search_from_any_page_with_the_slash_key_and_open_a_result(page, login_as):
    me = tam()
    account = AccountFactory.create(name="Hedgehog Analytics", owner=me, owner_role="TAM")
    login_as(me)
    page.goto("/tasks/")
    page.keyboard.press("/")
    box = page.locator("#site-search")
    assert box.evaluate("el => el === document.activeElement")
    box.type("hedgeh")
    result = page.locator("#site-search-results").get_by_role("link", name="Hedgehog Analytics")
    result.click()
    page.wait_for_url(f"**/accounts/{account.pk}/")


def test_ctrl_k_focuses_the_search_even_while_typing_in_a_field(page, login_as):
    login_as(tam())
    page.goto("/book/")
    page.locator("#id_q").focus()
    page.keyboard.press("Control+k")
    assert page.locator("#site-search").evaluate("el => el === document.activeElement")


def test_the_search_works_without_javascript(no_js_login_as):
    me = tam()
    AccountFactory.create(name="Quokka Cloud", domain="quokka.io")
    page = no_js_login_as(me)
    page.locator("#site-search").fill("quokka.io")
    page.locator("#site-search").press("Enter")
    page.wait_for_url("**/search/?q=quokka.io")
    assert page.get_by_test_id("search-result").filter(has_text="Quokka Cloud").is_visible()


def test_the_login_page_asks_for_no_missing_file(page):
    # A browser asks for /favicon.ico unless the page names an icon: a 404 and a
    # console error on the first page of every session.
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.on("console", lambda m: failed.append(m.text) if m.type == "error" else None)
    page.goto("/login/")
    page.wait_for_load_state("networkidle")
    assert failed == []
