"""The job entry points: JobRun rows, time off run daily, Celery wiring."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from leads import jobs
from leads.models import Task, TaskStatus, TimeOff, TrackerMember
from leads.tests.factories import TaskFactory, member
from revopsweb.models import JobRun


def _stale_tasks(count: int, *, days: int = 11) -> TrackerMember:
    stuck = member()
    member()
    at = timezone.now() - dt.timedelta(days=days)
    for _ in range(count):
        TaskFactory.create(assignee=stuck.user, assigned_at=at, last_touched_at=at)
    return stuck


@pytest.mark.django_db
def test_each_run_records_a_job_run_with_the_rows_it_changed():
    _stale_tasks(3)

    first = jobs.run_stale_tasks_job()
    second = jobs.run_stale_tasks_job()

    assert (first.outcome, first.rows_affected) == (JobRun.Outcome.SUCCEEDED, 3)
    assert (second.outcome, second.rows_affected) == (JobRun.Outcome.SUCCEEDED, 0)
    assert first.finished_at is not None
    assert JobRun.objects.filter(job=jobs.STALE_JOB).count() == 2


@pytest.mark.django_db
def test_a_failing_run_is_recorded_as_failed(monkeypatch):
    def broken() -> int:
        raise RuntimeError("database went away")

    monkeypatch.setattr(jobs, "reset_month", broken)

    with pytest.raises(RuntimeError):
        jobs.run_monthly_reset_job()

    run = JobRun.objects.get(job=jobs.RESET_JOB)
    assert run.outcome == JobRun.Outcome.FAILED
    assert "database went away" in run.detail


@pytest.mark.django_db
def test_the_commands_run_the_jobs(capsys):
    _stale_tasks(2)

    call_command("reassign_stale_tasks")
    call_command("reset_tracker_month")
    call_command("apply_time_off")

    out = capsys.readouterr().out
    assert "leads.stale_tasks: Succeeded, 2 tasks reassigned or closed" in out
    assert set(JobRun.objects.values_list("job", flat=True)) == {
        jobs.STALE_JOB,
        jobs.RESET_JOB,
        jobs.TIME_OFF_JOB,
    }


@pytest.mark.django_db
def test_the_time_off_job_uses_the_company_date():
    away = member()
    TimeOff.objects.create(
        member=away, starts_on=dt.date(2026, 12, 2), ends_on=dt.date(2026, 12, 3)
    )
    # 03:00 UTC on the 2nd is still the 1st in New York: not yet.
    with time_machine.travel(dt.datetime(2026, 12, 2, 3, tzinfo=dt.UTC)):
        assert jobs.run_time_off_job().rows_affected == 0
    with time_machine.travel(dt.datetime(2026, 12, 2, 11, tzinfo=dt.UTC)):
        assert jobs.run_time_off_job().rows_affected == 1
    away.refresh_from_db()
    assert not away.is_active


def test_the_beat_schedule_runs_every_job_as_a_registered_task(settings):
    from revopsweb.celery import app

    # What a worker imports at start (autodiscovery of every app's tasks module):
    # run alone, this test would otherwise see only the modules imported so far.
    app.loader.import_default_modules()
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks >= {
        "leads.tasks.reassign_stale_tasks_task",
        "leads.tasks.reset_tracker_month",
        "leads.tasks.apply_tracker_time_off",
    }
    assert tasks <= set(app.tasks)
    assert app.conf.timezone == settings.TIME_ZONE


@pytest.mark.celery_worker
def test_the_stale_job_runs_on_a_real_celery_worker(celery_worker):
    from leads.tasks import reassign_stale_tasks_task

    stuck = _stale_tasks(4)

    result = reassign_stale_tasks_task.delay().get(timeout=60)

    assert result["outcome"] == JobRun.Outcome.SUCCEEDED
    assert result["rows"] == 4
    assert not Task.objects.filter(assignee=stuck.user).exists()
    assert JobRun.objects.get(job=jobs.STALE_JOB).rows_affected == 4
    assert Task.objects.filter(status=TaskStatus.NEW, reassignment_count=1).count() == 4
