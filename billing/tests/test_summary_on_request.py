"""A revenue page that finds its summaries out of date (billing.cache.fresh_summary):
refreshed in the request when that is quick, else asked of the workers while the
page says its figures are being updated."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.urls import reverse

from accounts.tests.factories import AccountFactory, manager, revops
from billing.cache import UPDATING_MESSAGE
from billing.models import RevenueSummaryDirty
from billing.summary import refresh_revenue_summary, revenue_summary_dirty
from billing.tests.helpers import series

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_refresh_queued_yet():
    cache.clear()


def _revenue(count: int = 2) -> None:
    for i in range(count):
        series(AccountFactory.create(), [1000 + i, 1200, 1500, 900 + i])


def test_a_small_companys_page_refreshes_in_the_request(client, settings):
    settings.REVENUE_INLINE_REFRESH_MAX_MB = 1_000
    _revenue()
    client.force_login(revops())

    content = client.get(reverse("billing:revenue")).content.decode()

    assert not revenue_summary_dirty()
    assert UPDATING_MESSAGE not in content


def test_a_large_companys_page_asks_the_workers_once_and_says_so(
    client, settings, django_capture_on_commit_callbacks
):
    # Past the size, the page must not hold the request for every account's months.
    _revenue()
    refresh_revenue_summary()
    settings.REVENUE_INLINE_REFRESH_MAX_MB = 0
    # What a month's import leaves (a statement of more than 10,000 rows marks its month).
    RevenueSummaryDirty.objects.create(month=dt.date(2026, 1, 1))
    client.force_login(revops())

    with django_capture_on_commit_callbacks() as queued:
        first = client.get(reverse("billing:revenue")).content.decode()
        client.get(reverse("billing:revenue"))

    assert revenue_summary_dirty()
    assert 'data-testid="revenue-updating"' in first
    assert len(queued) == 1


def test_the_managers_home_says_its_revenue_is_being_updated(client, settings):
    settings.REVENUE_INLINE_REFRESH_MAX_MB = 0
    _revenue()
    client.force_login(manager())

    content = client.get(reverse("home")).content.decode()

    assert 'data-testid="revenue-updating"' in content


def test_the_csv_waits_for_the_refresh_instead_of_exporting_old_figures(client, settings):
    settings.REVENUE_INLINE_REFRESH_MAX_MB = 0
    _revenue()
    client.force_login(revops())

    response = client.get(reverse("billing:revenue_csv"))

    assert response.status_code == 503
    assert response["Retry-After"] == "60"


def test_a_few_accounts_changes_are_refreshed_in_the_request_whatever_the_size(client, settings):
    _revenue()
    refresh_revenue_summary()
    settings.REVENUE_INLINE_REFRESH_MAX_MB = 0
    account = AccountFactory.create()
    # One account's rows written after the refresh: recorded as changes, not a month mark.
    series(account, [10, 20, 30, 40])
    client.force_login(revops())

    content = client.get(reverse("billing:revenue")).content.decode()

    assert not revenue_summary_dirty()
    assert 'data-testid="revenue-updating"' not in content


def test_summaries_never_built_show_no_figures_rather_than_zeros(client, settings):
    # A large company's first build goes to the workers: until it is done there is
    # no figure to show, and $0 would read as a company with no revenue.
    settings.REVENUE_INLINE_REFRESH_MAX_MB = 0
    _revenue()
    client.force_login(revops())

    content = client.get(reverse("billing:revenue")).content.decode()

    assert 'data-testid="revenue-updating"' in content
    assert 'data-testid="mrr-total"' not in content


def test_the_managers_home_shows_no_revenue_months_before_the_first_build(client, settings):
    settings.REVENUE_INLINE_REFRESH_MAX_MB = 0
    _revenue()
    client.force_login(manager())

    content = client.get(reverse("home")).content.decode()

    assert "No revenue imported yet" not in content
    assert 'data-testid="revenue-updating"' in content
