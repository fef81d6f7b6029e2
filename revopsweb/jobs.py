"""Running scheduled jobs exclusively and recording each run.

A job function does its own set-based work and returns how many rows it
changed. ``run_job`` takes a PostgreSQL advisory lock named after the job, so
two workers running the same job at once do not both do the work: the second
records a skipped run. The lock is a session lock on a dedicated connection
that dies with the process, so a killed worker never leaves it held.
"""

from __future__ import annotations

import hashlib
import logging
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection
from django.utils import timezone

from .models import JobRun

logger = logging.getLogger(__name__)


def _lock_key(job: str) -> int:
    # Advisory locks take a signed 64-bit key; derive a stable one from the name.
    return int.from_bytes(hashlib.sha256(job.encode()).digest()[:8], "big", signed=True)


@contextmanager
def advisory_lock(job: str) -> Iterator[bool]:
    """Yield True when this process holds the job's lock, False when another does.

    On SQLite (the quick start, one process) there is nothing to lock against.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    key = _lock_key(job)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def run_job(job: str, work: Callable[[], int]) -> JobRun:
    """Run ``work`` under the job's lock and record the run.

    ``work`` must be idempotent: it may run again after a crash, and must then
    finish what is left without repeating what was done.
    """
    run = JobRun.objects.create(job=job, started_at=timezone.now())
    with advisory_lock(job) as acquired:
        if not acquired:
            run.outcome = JobRun.Outcome.SKIPPED
        else:
            try:
                run.rows_affected = work()
                run.outcome = JobRun.Outcome.SUCCEEDED
            except Exception:
                run.outcome = JobRun.Outcome.FAILED
                run.detail = traceback.format_exc()[-4000:]
                logger.exception("Job %s failed", job)
                run.finished_at = timezone.now()
                run.save(update_fields=["outcome", "detail", "finished_at", "rows_affected"])
                raise
    run.finished_at = timezone.now()
    run.save(update_fields=["outcome", "detail", "finished_at", "rows_affected"])
    return run
