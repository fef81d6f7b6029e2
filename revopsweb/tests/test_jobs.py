from __future__ import annotations

import signal
import sys
import threading

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from revopsweb.jobs import advisory_lock, run_job, sweep_dead_job_runs
from revopsweb.models import JobRun


@pytest.mark.django_db
def test_a_run_is_recorded_with_its_row_count():
    run = run_job("test.count", lambda: 7, counts=("thing", "things"))
    assert (run.outcome, run.rows_affected) == (JobRun.Outcome.SUCCEEDED, 7)
    assert run.finished_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize(("count", "words"), [(1, "1 thing done"), (2, "2 things done")])
def test_a_run_names_its_count_in_words_that_fit_the_number(count, words):
    run = run_job("test.words", lambda: count, counts=("thing done", "things done"))
    assert JobRun.objects.get(pk=run.pk).what_it_did == words


@pytest.mark.django_db
def test_a_failing_run_is_recorded_and_reraised():
    def boom() -> int:
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        run_job("test.boom", boom, counts=("thing", "things"))
    run = JobRun.objects.get(job="test.boom")
    assert run.outcome == JobRun.Outcome.FAILED
    assert "database went away" in run.detail


@pytest.mark.django_db(transaction=True)
def test_a_second_runner_skips_while_the_first_holds_the_lock():
    holding, release = threading.Event(), threading.Event()

    def first() -> None:
        with advisory_lock("test.exclusive") as acquired:
            assert acquired
            holding.set()
            release.wait(10)
        connections.close_all()

    thread = threading.Thread(target=first)
    thread.start()
    holding.wait(10)
    try:
        run = run_job("test.exclusive", lambda: 1, counts=("thing", "things"))
    finally:
        release.set()
        thread.join()
    assert run.outcome == JobRun.Outcome.SKIPPED
    assert (
        run_job("test.exclusive", lambda: 1, counts=("thing", "things")).outcome
        == JobRun.Outcome.SUCCEEDED
    )


# A job process that holds the lock and works for a minute, until it is killed.
_SLOW_JOB = """
import time, django
django.setup()
from revopsweb.jobs import run_job
run_job("test.killed", lambda: time.sleep(60) or 0, counts=("thing", "things"))
"""


def _start_slow_job(tmp_path):
    from revopsweb.tests.processes import app_env, running

    return running([sys.executable, "-c", _SLOW_JOB], env=app_env(), log=tmp_path / "job.log")


def _wait_until_running(tmp_path) -> JobRun:
    from revopsweb.tests.processes import wait_for

    wait_for(
        JobRun.objects.filter(job="test.killed", outcome=JobRun.Outcome.RUNNING).exists,
        timeout=30,
        what="the job process to start its run",
        log=tmp_path / "job.log",
    )
    return JobRun.objects.get(job="test.killed")


def _lock_free() -> bool:
    with advisory_lock("test.killed") as acquired:
        return acquired


def _wait_until_postgresql_ends_the_killed_session() -> None:
    # PostgreSQL ends the killed client's session (and its locks) a moment
    # after the process dies; a real next run comes much later than that.
    from revopsweb.tests.processes import wait_for

    wait_for(_lock_free, timeout=30, what="the killed session's lock to be released")


@pytest.mark.django_db(transaction=True)
def test_a_run_killed_with_sigkill_is_marked_died_by_the_next_run(tmp_path):
    with _start_slow_job(tmp_path) as process:
        killed = _wait_until_running(tmp_path)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    _wait_until_postgresql_ends_the_killed_session()
    next_run = run_job("test.killed", lambda: 1, counts=("thing", "things"))
    killed.refresh_from_db()
    assert killed.outcome == JobRun.Outcome.DIED
    assert killed.finished_at is not None and "ended before" in killed.detail
    assert next_run.outcome == JobRun.Outcome.SUCCEEDED


@pytest.mark.django_db(transaction=True)
def test_the_sweep_marks_a_killed_run_died_but_leaves_a_live_one_running(tmp_path):
    with _start_slow_job(tmp_path) as process:
        alive = _wait_until_running(tmp_path)
        assert sweep_dead_job_runs() == 0
        alive.refresh_from_db()
        assert alive.outcome == JobRun.Outcome.RUNNING
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    _wait_until_postgresql_ends_the_killed_session()
    assert sweep_dead_job_runs() == 1
    alive.refresh_from_db()
    assert alive.outcome == JobRun.Outcome.DIED


@pytest.mark.django_db
def test_the_admin_lists_died_runs_under_their_own_outcome(admin_client):
    JobRun.objects.create(job="test.shown", started_at=timezone.now(), outcome=JobRun.Outcome.DIED)
    JobRun.objects.create(job="test.hidden", started_at=timezone.now())
    response = admin_client.get(
        reverse("admin:revopsweb_jobrun_changelist"), {"outcome__exact": "died"}
    )
    assert response.status_code == 200
    assert [run.job for run in response.context["cl"].result_list] == ["test.shown"]
    assert b"Died (its process ended before finishing)" in response.content
