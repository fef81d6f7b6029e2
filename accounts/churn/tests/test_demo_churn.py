from __future__ import annotations

import random

import pytest
import time_machine
from django.core.management import call_command

from accounts.churn.demo import seed_churn
from accounts.churn.models import ChurnRiskFlag, ChurnSignal, FlagStatus
from accounts.churn.tests.churn_helpers import NOW, TODAY, owned_account
from accounts.tests.factories import tam
from revopsweb.models import JobRun

pytestmark = pytest.mark.django_db


def test_demo_seed_creates_flags_history_and_signals():
    owners = [tam() for _ in range(4)]
    for i in range(80):
        owned_account(owner=owners[i % 4])
    with time_machine.travel(NOW, tick=False):
        created = seed_churn(rng=random.Random(8), today=TODAY)
    assert created > 0
    assert ChurnRiskFlag.objects.filter(status=FlagStatus.OPEN).count() == 8
    assert ChurnRiskFlag.objects.filter(status=FlagStatus.CHURNED, retro__isnull=True).exists()
    assert ChurnSignal.objects.filter(kind="health_poor").exists()


def test_the_management_command_runs_the_job_and_records_it():
    owned_account(active_users_30d=1)
    call_command("detect_churn_signals")
    run = JobRun.objects.get(job="detect_churn_signals")
    assert run.outcome == JobRun.Outcome.SUCCEEDED and run.rows_affected >= 1
    assert ChurnSignal.objects.filter(kind="few_active_users").exists()


def test_the_celery_task_is_a_wrapper_over_the_same_job():
    from accounts.churn.tasks import detect_churn_signals_task as task

    owned_account(active_users_30d=2)
    assert task.apply().get()["outcome"] == JobRun.Outcome.SUCCEEDED


def test_the_demo_signal_history_precedes_churn_so_the_backtest_has_figures():
    from decimal import Decimal

    from accounts.churn.backtest import backtest_signals
    from billing.tests.factories import MonthlyRevenueFactory
    from revopsweb.dates import add_months

    owner = tam()
    accounts = [owned_account(owner=owner) for _ in range(40)]
    october = add_months(TODAY.replace(day=1), -1)
    for index, account in enumerate(accounts):
        # $1,000 a month for a year; every fourth account churns in August.
        for back in range(3 if index % 4 == 0 else 0, 12):
            MonthlyRevenueFactory.create(
                account=account, month=add_months(october, -back), amount=Decimal(1000)
            )
    with time_machine.travel(NOW, tick=False):
        seed_churn(rng=random.Random(8), today=TODAY)
        result = backtest_signals(today=TODAY)
    overall = [r for r in result.rows if r.segment == "all" and r.days == 180]
    assert sum(r.hits for r in overall) > 0
    assert sum(r.outcomes for r in overall) > 0
    assert any(r.precision is not None and r.precision > 0 for r in overall)
