"""Two workers running the jobs at once, each on its own PostgreSQL connection."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from leads import jobs
from leads.assignment import assign_task
from leads.ledger import reconcile_counters
from leads.models import LedgerKind, RoundRobinEvent, Task, TaskEvent, TaskEventKind
from leads.reset import reset_month
from leads.stale import StaleResult, process_stale_tasks
from leads.tests.factories import TaskFactory, member
from revopsweb.jobs import advisory_lock
from revopsweb.models import JobRun

pytestmark = pytest.mark.django_db(transaction=True)

NOW = dt.datetime(2026, 11, 20, 14, 0, tzinfo=dt.UTC)


def _together(work: list[Callable[[], Any]]) -> list[Any]:
    """Start every callable at once, each thread on its own connection; re-raise errors."""
    barrier = threading.Barrier(len(work))
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(job: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results.append(job())
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results


def test_two_concurrent_stale_runs_process_every_task_exactly_once():
    stuck = member()
    member()
    member(priority=2)
    at = NOW - dt.timedelta(days=12)
    for _ in range(40):
        TaskFactory.create(assignee=stuck.user, assigned_at=at, last_touched_at=at)

    results: list[StaleResult] = _together(
        [lambda: process_stale_tasks(now=NOW, batch_size=5) for _ in range(2)]
    )

    assert sum(r.reassigned for r in results) == 40
    ledger = Counter(
        RoundRobinEvent.objects.filter(kind=LedgerKind.REASSIGNMENT).values_list(
            "task_id", flat=True
        )
    )
    assert len(ledger) == 40
    assert set(ledger.values()) == {1}
    assert TaskEvent.objects.filter(kind=TaskEventKind.REASSIGNED).count() == 40
    assert set(Task.objects.values_list("reassignment_count", flat=True)) == {1}
    assert not Task.objects.filter(assignee=stuck.user).exists()
    assert reconcile_counters() == []


def test_the_stale_job_and_live_assignments_run_together_without_deadlock_or_lost_counts():
    stuck = member()
    member()
    member(priority=2)
    at = NOW - dt.timedelta(days=12)
    for _ in range(30):
        TaskFactory.create(assignee=stuck.user, assigned_at=at, last_touched_at=at)
    fresh = [TaskFactory.create() for _ in range(12)]

    def assign_all(tasks: list[Task]) -> int:
        for task in tasks:
            assign_task(task=task, now=NOW)
        return len(tasks)

    _together(
        [
            lambda: process_stale_tasks(now=NOW, batch_size=4),
            lambda: assign_all(fresh[:6]),
            lambda: assign_all(fresh[6:]),
        ]
    )

    assert RoundRobinEvent.objects.filter(kind=LedgerKind.REASSIGNMENT).count() == 30
    assert RoundRobinEvent.objects.filter(kind=LedgerKind.ASSIGNMENT).count() == 12
    assert not Task.objects.filter(assignee__isnull=True).exists()
    assert reconcile_counters() == []


def test_two_concurrent_resets_open_the_month_once():
    for _ in range(6):
        member(period=dt.date(2026, 10, 1))

    counts = _together([lambda: reset_month(now=NOW) for _ in range(2)])

    assert sorted(counts) == [0, 6]
    assert RoundRobinEvent.objects.filter(kind=LedgerKind.RESET).count() == 6


def test_a_run_that_finds_the_job_already_running_is_recorded_as_skipped():
    with advisory_lock(jobs.STALE_JOB) as held:
        assert held
        (run,) = _together([jobs.run_stale_tasks_job])

    assert run.outcome == JobRun.Outcome.SKIPPED
