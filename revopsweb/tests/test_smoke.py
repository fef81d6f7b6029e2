"""Quick-start smoke suite: migrate, seed, render every page.

Runs in the main run and again, first, on a fresh embedded PostgreSQL with the
quick start's settings (scripts/test.sh: `-m smoke`, no Redis: the database
cache and the folder broker), so the quick start can never silently break.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.demo import DEMO_LOGINS
from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = [pytest.mark.smoke, pytest.mark.django_db]

APP_NAMESPACES = ("accounts", "leads", "billing")


def _page_names() -> Iterator[str]:
    """Every parameterless GET page of the apps, found from the URL conf."""
    for entry in get_resolver().url_patterns:
        if not isinstance(entry, URLResolver) or entry.namespace not in APP_NAMESPACES:
            continue
        for pattern in entry.url_patterns:
            # Token-authenticated JSON APIs are for integrations, not pages.
            if (
                isinstance(pattern, URLPattern)
                and pattern.name
                and not pattern.pattern.regex.groups
                and not str(pattern.pattern).startswith("api/")
            ):
                yield f"{entry.namespace}:{pattern.name}"


@pytest.fixture
def demo_company() -> None:
    call_command("seed_demo", accounts=40, months=4, seed=7, verbosity=0)


def test_every_page_renders_for_every_demo_login(client, demo_company):
    names = sorted(set(_page_names()))
    assert "accounts:my_book" in names
    for email in DEMO_LOGINS:
        client.force_login(User.objects.get(email=email))
        for name in names:
            response = client.get(reverse(name))
            # 403 for pages a role may not see and 405 for POST-only actions
            # are answers; a 500 or a 404 on a page the nav links to is not.
            assert response.status_code in {200, 302, 403, 405}, (email, name, response.status_code)


def test_every_admin_changelist_renders(client, demo_company):
    client.force_login(UserFactory.create(is_staff=True, is_superuser=True))
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url


def test_revops_uses_the_admin_without_superuser_rights(client, demo_company):
    revops = User.objects.get(email="revops@demo.revopsweb.test")
    assert not revops.is_superuser
    client.force_login(revops)
    for url_name in ("admin:accounts_account_changelist", "admin:revopsweb_jobrun_changelist"):
        response = client.get(reverse(url_name), {"q": "a"})
        assert response.status_code == 200, url_name


def test_every_detail_page_renders_for_a_manager(client, demo_company):
    from accounts.handovers.models import Handover
    from accounts.models import Account, AccountPlan
    from leads.models import Task

    client.force_login(User.objects.get(email="manager@demo.revopsweb.test"))
    account = Account.objects.filter(owner__isnull=False).order_by("pk").first()
    task = Task.objects.order_by("pk").first()
    handover = Handover.objects.order_by("pk").first()
    plan = AccountPlan.objects.order_by("pk").first()
    assert account and task and handover and plan, "the demo company seeds each kind"
    urls = [
        reverse("accounts:account", args=[account.pk]),
        reverse("churn:flag", args=[account.pk]),
        reverse("accounts:plan", args=[plan.pk]),
        reverse("handovers:detail", args=[handover.pk]),
        reverse("leads:task", args=[task.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_the_quick_starts_database_step_seeds_and_runs_every_scheduled_job_once(client):
    from accounts.churn.models import ChurnSignal
    from billing.models import RevenueMonthSummary, RevenueSummaryDirty
    from billing.revenue_data import revenue_data_through
    from revopsweb.dates import company_today
    from revopsweb.models import JobRun

    # Raises CommandError when a job fails.
    call_command("prepare_demo", accounts=40, verbosity=0)

    outcomes = set(JobRun.objects.values_list("outcome", flat=True))
    assert outcomes == {JobRun.Outcome.SUCCEEDED}
    # The first page a newcomer opens already shows the nightly job's work...
    assert ChurnSignal.objects.filter(cleared_on__isnull=True).exists()
    client.force_login(User.objects.get(email="manager@demo.revopsweb.test"))
    suggested = client.get(reverse("churn:review")).context["suggested"]
    assert len(suggested) > 0
    # ...and the revenue page is warm: the job brought the summaries up to date.
    latest = revenue_data_through(today=company_today()).month
    assert latest is not None
    assert RevenueMonthSummary.objects.filter(month=latest, product_id=0).exists()
    assert not RevenueSummaryDirty.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_on_a_restart_the_demo_is_kept_and_a_worker_runs_each_queued_job(request, settings):
    """Through the configured broker: Redis in the main run, the folder broker in the
    quick-start smoke run."""
    import time

    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun

    from accounts.models import Account
    from revopsweb.celery import app
    from revopsweb.models import JobRun
    from revopsweb.schedule import scheduled_tasks

    if settings.REDIS_URL:
        request.getfixturevalue("redis_url")  # skips (or fails under CI) without Redis
    call_command("seed_demo", accounts=10, months=3, verbosity=0)
    ran: list[tuple[str, str]] = []

    def record(sender: object = None, state: str = "", **kwargs: object) -> None:
        ran.append((getattr(sender, "name", ""), state))

    task_postrun.connect(record, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            call_command("prepare_demo", verbosity=0)
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                if set(scheduled_tasks()) <= {name for name, _ in ran}:
                    break
                time.sleep(0.2)
    finally:
        task_postrun.disconnect(record)

    assert Account.objects.count() == 10
    assert {name: state for name, state in ran if name in scheduled_tasks()} == dict.fromkeys(
        scheduled_tasks(), "SUCCESS"
    )
    assert set(JobRun.objects.values_list("outcome", flat=True)) == {JobRun.Outcome.SUCCEEDED}
