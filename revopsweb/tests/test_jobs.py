from __future__ import annotations

import threading

import pytest
from django.db import connections

from revopsweb.jobs import advisory_lock, run_job
from revopsweb.models import JobRun


@pytest.mark.django_db
def test_a_run_is_recorded_with_its_row_count():
    run = run_job("test.count", lambda: 7)
    assert (run.outcome, run.rows_affected) == (JobRun.Outcome.SUCCEEDED, 7)
    assert run.finished_at is not None


@pytest.mark.django_db
def test_a_failing_run_is_recorded_and_reraised():
    def boom() -> int:
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        run_job("test.boom", boom)
    run = JobRun.objects.get(job="test.boom")
    assert run.outcome == JobRun.Outcome.FAILED
    assert "database went away" in run.detail


@pytest.mark.django_db(transaction=True)
def test_a_second_runner_skips_while_the_first_holds_the_lock(postgres_only):
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
        run = run_job("test.exclusive", lambda: 1)
    finally:
        release.set()
        thread.join()
    assert run.outcome == JobRun.Outcome.SKIPPED
    assert run_job("test.exclusive", lambda: 1).outcome == JobRun.Outcome.SUCCEEDED
