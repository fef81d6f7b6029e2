"""The header and wide tables at common desktop widths: the sections stay on one
row at 1440 px, and a table wider than its box scrolls inside it rather than being
cut off at the box's edge or widening the page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import AccountFactory, manager, revops
from billing.models import Trial, TrialKind
from revopsweb.dates import company_today

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("make", [manager, revops], ids=["manager", "revops"])
def test_every_section_link_sits_on_one_row_at_1440_px(page, login_as, make):
    # A manager sees twelve sections, RevOps thirteen with Admin: the most of any role;
    # a long name is cut short rather than taking the sections' room.
    page.set_viewport_size({"width": 1440, "height": 900})
    login_as(make(name="Maximiliana Featherstonehaugh-Worthington"))

    links = page.locator("header .app-nav a")
    tops = {round(box["y"]) for box in (links.nth(i).bounding_box() for i in range(links.count()))}

    assert links.count() >= 12
    assert len(tops) == 1, tops
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440


@pytest.mark.parametrize("make", [manager, revops], ids=["manager", "revops"])
def test_every_section_link_sits_on_one_row_at_1280_px(page, login_as, make):
    # The most common laptop width: below 1440 px the search folds to its icon and
    # opens over the sections' end when focused (static/css/app.css).
    page.set_viewport_size({"width": 1280, "height": 800})
    login_as(make(name="Maximiliana Featherstonehaugh-Worthington"))

    links = page.locator("header .app-nav a")
    tops = {round(box["y"]) for box in (links.nth(i).bounding_box() for i in range(links.count()))}

    assert links.count() >= 12
    assert len(tops) == 1, tops
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    search = page.get_by_role("searchbox")
    page.keyboard.press("/")
    expect(search).to_be_focused()
    expect(search).to_have_css("width", "240px")  # 16rem of the 15 px root


def test_the_trials_table_scrolls_inside_its_box_on_a_1024_px_screen(page, login_as):
    account = AccountFactory.create(name="Willow Robotics")
    Trial.objects.create(
        account=account,
        kind=TrialKind.SALES_ASSISTED,
        starts_on=company_today() - dt.timedelta(days=2),
        ends_on=company_today() + dt.timedelta(days=12),
        deal_arr=Decimal(30_000),
        success_criteria="Session replay on checkout errors, linked from support tickets",
    )
    # Its twelve columns take about 1,250 px with one trial (wider at 1280 px with the
    # demo's trials); 1024 px makes one row wider than the page for certain.
    page.set_viewport_size({"width": 1024, "height": 768})
    login_as(manager())
    page.goto("/trials/")

    box = page.get_by_test_id("trials").locator("xpath=..")
    scroll_width, client_width, overflow = box.evaluate(
        "el => [el.scrollWidth, el.clientWidth, getComputedStyle(el).overflowX]"
    )

    assert scroll_width > client_width
    assert overflow == "auto"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
