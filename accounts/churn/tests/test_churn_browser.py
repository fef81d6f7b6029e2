from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.churn.flags import flag_account
from accounts.churn.models import WeeklyStatusUpdate
from accounts.churn.tests.churn_helpers import owned_account
from accounts.tests.factories import manager, tam

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_runs_the_review_and_owner_posts_an_update(page, login_as, settings):
    settings.CHURN_WEBHOOK_URL = ""
    owner = tam(name="Olive Owner")
    account = owned_account(owner=owner, name="Acme Rockets")
    flag = flag_account(
        account=account,
        by=owner,
        triggers="usage down 40%",
        known="new CTO",
        now=timezone.now() - dt.timedelta(days=10),
    )

    login_as(manager(name="Mia Manager"))
    page.goto("/churn/")
    card = page.locator(f"#flag-{flag.pk}")
    assert "Acme Rockets" in card.inner_text()
    assert card.get_by_test_id("missing-update").is_visible()
    assert page.get_by_role("heading", name="Olive Owner").is_visible()
    page.wait_for_function("() => window.Chart && Chart.getChart('churn-trend') !== undefined")
    page.get_by_role("button", name="Log out").click()

    login_as(owner)
    page.goto("/churn/")
    card = page.locator(f"#flag-{flag.pk}")
    card.get_by_text("Post this week's status").click()
    card.get_by_label("What was tried").fill("Booked an exec call")
    card.get_by_label("Trend").select_option("improving")
    card.get_by_role("button", name="Save status").click()
    card = page.locator(f"#flag-{flag.pk}")
    card.get_by_test_id("latest-status").get_by_text("Booked an exec call").wait_for()
    assert card.get_by_test_id("missing-update").count() == 0
    assert page.get_by_text("Status for Acme Rockets saved.").is_visible()
    assert WeeklyStatusUpdate.objects.get(flag=flag).tried == "Booked an exec call"


def test_owner_flags_churn_risk_from_the_account_page(page, login_as, settings):
    settings.CHURN_WEBHOOK_URL = ""
    owner = tam(name="Olive Owner")
    account = owned_account(owner=owner, name="Quiet Quokka")

    login_as(owner)
    page.goto(f"/accounts/{account.pk}/")
    page.get_by_role("button", name="Flag churn risk").click()
    page.get_by_label("What triggered it").fill("Champion left, usage down")
    page.get_by_role("button", name="Flag at risk").click()

    page.wait_for_url(f"**/accounts/{account.pk}/")
    assert page.get_by_test_id("churn-risk").get_by_text("flagged").first.is_visible()
    assert page.get_by_text("Quiet Quokka is flagged at risk").is_visible()
    assert account.churn_flags.get().triggers == "Champion left, usage down"


def test_manager_reads_the_signal_backtest_with_its_chart(page, login_as):
    from decimal import Decimal

    from accounts.churn.models import ChurnSignal
    from billing.tests.factories import MonthlyRevenueFactory
    from revopsweb.dates import add_months, company_today, month_start

    account = owned_account(name="Lapsed Llama")
    last = add_months(month_start(company_today()), -1)
    # Another customer pays through last month, so revenue is imported through it.
    MonthlyRevenueFactory.create(account=owned_account(), month=last, amount=Decimal(100))
    # Paid until four months ago, then nothing: churn three months ago.
    for back in range(4, 10):
        MonthlyRevenueFactory.create(
            account=account, month=add_months(last, -back), amount=Decimal(900)
        )
    ChurnSignal.objects.create(
        account=account,
        kind="usage_drop",
        evidence={},
        detected_on=add_months(last, -5) + dt.timedelta(days=10),
        cleared_on=add_months(last, -4),
    )

    login_as(manager())
    page.goto("/churn/backtest/")
    page.wait_for_function("() => window.Chart && Chart.getChart('backtest-chart') !== undefined")
    row = page.get_by_test_id("backtest-90").locator("tr", has_text="Usage down 30%").first
    assert "100.0%" in row.inner_text()
    assert page.get_by_role("link", name="Export CSV").is_visible()
    page.get_by_role("link", name="Signal backtest").is_visible()


def test_manager_opens_an_owners_group_pages_it_and_posts_a_status(page, login_as, settings):
    """Issue 20: the review lists owners with counts; a group's cards load when it is
    opened, 25 at a time, and the review actions still work on a loaded card."""
    settings.CHURN_WEBHOOK_URL = ""
    busy, quiet = tam(name="Bea Busy"), tam(name="Quinn Quiet")
    raised = timezone.now() - dt.timedelta(days=10)
    flags = []
    for i in range(27):
        account = owned_account(owner=busy, name=f"Busy {i:02d}")
        flags.append(flag_account(account=account, by=busy, triggers="usage down", now=raised))
    flag_account(
        account=owned_account(owner=quiet, name="Quietco"), by=quiet, triggers="x", now=raised
    )

    login_as(manager(name="Mia Manager"))
    page.goto("/churn/")
    groups = page.get_by_test_id("owner-group")
    assert groups.count() == 2
    assert "27 accounts" in groups.nth(0).inner_text()
    assert page.get_by_test_id("flag-card").count() == 0  # nothing loaded until opened

    groups.nth(0).locator("summary").click()
    cards = groups.nth(0).get_by_test_id("flag-card")
    cards.nth(24).wait_for()
    assert cards.count() == 25
    groups.nth(0).get_by_role("link", name="Next page").click()
    page.get_by_role("link", name="Previous page").wait_for()
    assert cards.count() == 2
    assert page.url.endswith("/churn/")  # swapped in place, no navigation

    card = cards.nth(0)
    card_id = card.get_attribute("id")
    card.get_by_text("Post this week's status").click()
    card.get_by_label("What was tried").fill("Called the champion")
    card.get_by_label("Trend").select_option("improving")
    card.get_by_role("button", name="Save status").click()
    page.locator(f"#{card_id}").get_by_test_id("latest-status").get_by_text(
        "Called the champion"
    ).wait_for()
    assert WeeklyStatusUpdate.objects.filter(tried="Called the champion").count() == 1
    # The other owner's group was never opened, so it never loaded.
    assert groups.nth(1).get_by_test_id("flag-card").count() == 0
