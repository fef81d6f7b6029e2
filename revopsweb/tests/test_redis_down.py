"""With Redis down (cache and broker on a closed port) pages degrade, never 500.

The cache only saves work: a connection error is a logged miss and the page
computes. The contact form's rate limit fails open by default (documented in
the README) or closed when configured. A committed import answers normally:
its after-commit hooks (cache version bump, refresh job) log their failure.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.churn.models import ChurnSignal
from accounts.tests.factories import AccountFactory, revops
from billing.models import MonthlyRevenue
from billing.tests.helpers import series
from leads.models import Task
from leads.tests.factories import member
from leads.tests.test_views import CONTACT
from revopsweb.celery import app
from revopsweb.tests.processes import free_port, port_open


def _use_broker(url: str) -> None:
    app.conf.broker_url = url  # type: ignore[misc]
    # The app keeps its connection and producer pools; drop them so the next
    # publish connects to ``url``.
    app._pool = None  # type: ignore[attr-defined]
    app.amqp._producer_pool = None  # type: ignore[attr-defined]


class Outage:
    """Cache and broker pointed at a closed port until ``restore()``."""

    def __init__(self, settings) -> None:
        port = free_port()
        assert not port_open(port)
        self.url = f"redis://127.0.0.1:{port}/0"
        self._settings, self._cache = settings, settings.CACHES
        self._broker = app.conf.broker_url
        settings.CACHES = {"default": {**self._cache["default"], "LOCATION": self.url}}
        _use_broker(self.url)

    def restore(self) -> None:
        self._settings.CACHES = self._cache
        _use_broker(self._broker)


@pytest.fixture
def redis_down(settings) -> Iterator[Outage]:
    """Point the cache and the Celery broker at a loopback port nobody listens on."""
    outage = Outage(settings)
    try:
        yield outage
    finally:
        outage.restore()


@pytest.mark.django_db
def test_the_revenue_page_computes_its_numbers_when_the_cache_is_down(client, redis_down):
    # The page reads the revenue summaries, not the cache (issue 20); it must
    # still answer with Redis gone.
    series(AccountFactory.create(), [1000, 1200, 1500])
    client.force_login(revops())
    response = client.get(reverse("billing:revenue") + "?month=2026-03")
    assert response.status_code == 200
    assert response.context["current"].total == Decimal("1500.00")


@pytest.mark.django_db
def test_the_churn_backtest_computes_its_table_when_the_cache_is_down(client, redis_down, caplog):
    with time_machine.travel(dt.datetime(2026, 11, 18, 12, tzinfo=dt.UTC), tick=False):
        account = AccountFactory.create()
        series(account, [1000] * 10)  # January to October 2026
        ChurnSignal.objects.create(
            account=account, kind="usage_drop", evidence={}, detected_on=dt.date(2026, 3, 1)
        )
        client.force_login(revops())
        with caplog.at_level(logging.ERROR, logger="revopsweb.cache"):
            response = client.get(reverse("churn:backtest"))
    assert response.status_code == 200
    assert "Within 90 days" in response.content.decode()
    assert any("Exception ignored" in r.message for r in caplog.records)


@pytest.mark.django_db
def test_the_contact_form_takes_the_lead_when_the_limit_cannot_count(client, settings, redis_down):
    settings.RATELIMIT_ENABLE = True
    assert settings.RATELIMIT_FAIL_OPEN is True  # the documented default
    member()
    response = client.post(reverse("leads:contact"), CONTACT)
    assert response.status_code == 302
    assert Task.objects.count() == 1


@pytest.mark.django_db
def test_the_contact_form_refuses_when_configured_to_fail_closed(client, settings, redis_down):
    settings.RATELIMIT_ENABLE = True
    settings.RATELIMIT_FAIL_OPEN = False
    member()
    response = client.post(reverse("leads:contact"), CONTACT)
    assert response.status_code == 429
    assert not Task.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_committed_mrr_import_answers_normally_with_redis_down(client, redis_down, caplog):
    AccountFactory.create(organization_id="org_1")
    client.force_login(revops())
    upload = SimpleUploadedFile(
        "mrr.csv", b"organization_id,product,month,amount\norg_1,logs,2026-05,50\n"
    )
    with caplog.at_level(logging.ERROR, logger="django.db.backends.base"):
        response = client.post(reverse("billing:import_mrr"), {"file": upload})
    assert response.status_code == 302
    assert MonthlyRevenue.objects.get().amount == Decimal("50.00")
    # The refresh after commit (billing.facts.revenue_facts_changed) could not queue
    # its jobs: logged, not raised.
    assert any(
        "Error calling revenue_facts_changed in on_commit()" in r.getMessage()
        for r in caplog.records
    )
