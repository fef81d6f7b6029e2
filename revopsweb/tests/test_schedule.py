"""Every scheduled job once, on demand (revopsweb.schedule, manage.py run_scheduled_jobs)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from revopsweb.models import JobRun
from revopsweb.schedule import scheduled_tasks

pytestmark = pytest.mark.django_db


def test_the_jobs_are_the_beat_schedules_tasks_in_its_order():
    expected = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert scheduled_tasks() == expected
    # The month opens before any job counts anything in it.
    assert scheduled_tasks()[0] == "leads.tasks.reset_tracker_month"


def test_a_failing_job_is_reported_and_the_others_still_run(monkeypatch, capsys):
    from leads import jobs

    def broken() -> int:
        raise RuntimeError("database went away")

    monkeypatch.setattr(jobs, "reset_month", broken)

    with pytest.raises(CommandError, match="leads.tasks.reset_tracker_month"):
        call_command("run_scheduled_jobs")

    out = capsys.readouterr().out
    assert "database went away" in out
    outcomes = dict(JobRun.objects.values_list("job", "outcome"))
    assert outcomes[jobs.RESET_JOB] == JobRun.Outcome.FAILED
    assert outcomes["detect_churn_signals"] == JobRun.Outcome.SUCCEEDED
    assert outcomes["billing.refresh_revenue_cache"] == JobRun.Outcome.SUCCEEDED


def test_only_the_named_jobs_run():
    call_command("run_scheduled_jobs", "accounts.churn.tasks.detect_churn_signals_task")

    assert list(JobRun.objects.values_list("job", "outcome")) == [
        ("detect_churn_signals", JobRun.Outcome.SUCCEEDED)
    ]


def test_a_name_outside_the_schedule_is_refused_before_anything_runs():
    with pytest.raises(CommandError, match="Not a scheduled job: accounts.tasks.ping"):
        call_command("run_scheduled_jobs", "accounts.tasks.ping")

    assert not JobRun.objects.exists()
