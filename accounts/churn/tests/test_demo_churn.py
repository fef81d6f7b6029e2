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
