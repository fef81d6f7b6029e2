"""Running scheduled jobs exclusively and recording each run.

A job function does its own set-based work and returns how many rows it
changed. ``run_job`` takes a PostgreSQL advisory lock named after the job, so
two workers running the same job at once do not both do the work: the second
records a skipped run. The lock is a session-level lock taken on the
process's ordinary database connection (the one the job's own queries use, not
a connection of its own): ``advisory_lock`` releases it when the job ends, and
PostgreSQL drops it with that connection, so a killed worker never leaves it
held.

A run whose process was killed (kill -9, OOM, a lost host) cannot record its
end, so its row would say "running" forever. Whoever next holds the job's lock
knows better: while a run is alive it holds the lock, so every other "running"
row of that job belongs to a dead process and is marked *died*
(``mark_dead_runs``). The next run of the job does it, and so does the
periodic ``sweep_dead_job_runs`` for jobs that run rarely.
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
    """Yield True when this process holds the job's lock, False when another does."""
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


DIED_DETAIL = (
    "The process running this job ended before it could record an outcome (killed, "
    "out of memory or lost its database connection). Marked when the job's lock was "
    "next taken; the job is idempotent, so the next run finishes what is left."
)


def mark_dead_runs(*, job: str, keep: int | None = None) -> int:
    """Mark ``job``'s "running" rows (except ``keep``) as died; returns how many.

    Call only while holding the job's advisory lock: a live run holds it for its
    whole duration, so no other row of the job can still be running. Idempotent.
    """
    running = JobRun.objects.filter(job=job, outcome=JobRun.Outcome.RUNNING)
    if keep is not None:
        running = running.exclude(pk=keep)
    return running.update(
        outcome=JobRun.Outcome.DIED, finished_at=timezone.now(), detail=DIED_DETAIL
    )


def sweep_dead_job_runs() -> int:
    """Mark the died runs of every job whose lock is free now; returns how many.

    For jobs that run rarely (monthly, daily), so the admin does not show a
    killed run as "running" until the next run. Jobs whose lock is held are
    left alone: their "running" row may be alive.
    """
    jobs = (
        JobRun.objects.filter(outcome=JobRun.Outcome.RUNNING)
        .values_list("job", flat=True)
        .distinct()
        .order_by("job")
    )
    marked = 0
    for job in list(jobs):
        with advisory_lock(job) as acquired:
            if acquired:
                marked += mark_dead_runs(job=job)
    return marked


def run_job(job: str, work: Callable[[], int], *, counts: tuple[str, str]) -> JobRun:
    """Run ``work`` under the job's lock and record the run.

    ``work`` returns how many things it did; ``counts`` names them, singular and
    plural ("month recomputed", "months recomputed"), and the run keeps the words
    that fit the number (``JobRun.what_it_did``).

    ``work`` must be idempotent: it may run again after a crash, and must then
    finish what is left without repeating what was done. Earlier runs of the
    job left "running" by a killed process are marked died first.
    """
    with advisory_lock(job) as acquired:
        # The row is written after the lock is decided, so a "running" row only
        # ever exists while its process holds the lock (or has died holding it).
        run = JobRun.objects.create(
            job=job,
            started_at=timezone.now(),
            outcome=JobRun.Outcome.RUNNING if acquired else JobRun.Outcome.SKIPPED,
        )
        if acquired:
            mark_dead_runs(job=job, keep=run.pk)
            try:
                run.rows_affected = work()
                run.counts = counts[0] if run.rows_affected == 1 else counts[1]
                run.outcome = JobRun.Outcome.SUCCEEDED
            except Exception:
                run.outcome = JobRun.Outcome.FAILED
                run.detail = traceback.format_exc()[-4000:]
                logger.exception("Job %s failed", job)
                run.finished_at = timezone.now()
                run.save(
                    update_fields=["outcome", "detail", "finished_at", "rows_affected", "counts"]
                )
                raise
        # Recorded before the lock is released: the next run starts after this
        # one's finish, and never finds this row still "running" (and so died).
        run.finished_at = timezone.now()
        run.save(update_fields=["outcome", "detail", "finished_at", "rows_affected", "counts"])
    return run
