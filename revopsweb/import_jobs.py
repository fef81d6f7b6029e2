"""Page imports of any size: small files in the request, large ones by a worker with progress.

An import page hands its upload to ``handle_upload`` (see
``revopsweb.import_views``). A file up to ``IMPORT_SYNC_MAX_BYTES`` is checked
(and applied) in the request, as before; a larger one becomes an ``ImportJob``
that a Celery worker runs (``run_import_job``), so a 200,000-row file never
meets gunicorn's timeout and its page is a progress bar, not 13 MB of rows.

The run is the kind's own ``ImportKind.run_csv``: the same validation and the
same all-or-nothing transaction as the request path. The job's outcome (counts,
every error, the first outcomes) is written as the last statement of that
transaction, so a job marked done with ``applied`` always has its rows and a
rolled-back one never does. Progress goes to the job row over a second
database connection, because the writing phase is one open transaction the page
could not see into.

Crash-safe and idempotent: a run holds an advisory lock named after the job
for its whole life, and claims only a job that is not finished. A job whose
state says running while its lock is free belongs to a dead worker (killed,
restarted): ``refresh_job`` marks it failed with nothing applied. A job still
queued a minute after it was handed over (the broker was down) is handed over
again; a doubled message finds the lock held or the job finished and does nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from .imports import ImportKind, ImportResult, RowError
from .jobs import advisory_lock
from .models import ImportJob

logger = logging.getLogger(__name__)

# Outcomes kept for the page (it shows the first 100 rows).
OUTCOMES_KEPT = 100
# A queued job is handed to the workers again after this long (the broker was down).
REQUEUE_AFTER = dt.timedelta(seconds=60)
DIED = (
    "The worker running this import stopped before it finished (restarted or killed); "
    "nothing was applied. Upload the file again."
)
CRASHED = "The import stopped with an unexpected error; nothing was applied. It is logged."

State = ImportJob.State


def _lock_name(job_id: object) -> str:
    return f"import:{job_id}"


def _clean(text: str) -> str:
    # jsonb cannot hold U+0000; a reason quoting a hostile value must still be storable.
    return text.replace("\x00", "\\x00")


def error_rows(errors: Iterable[RowError]) -> list[list[object]]:
    """Errors as stored on a job: ``[[line, column, reason], …]``."""
    return [[e.line, _clean(e.column), _clean(e.reason)] for e in errors]


def _result_fields(result: ImportResult) -> dict[str, Any]:
    return {
        "state": State.DONE,
        "finished_at": timezone.now(),
        "rows": result.rows,
        "created": result.created,
        "updated": result.updated,
        "applied": result.applied,
        "error_count": len(result.errors),
        "errors": error_rows(result.errors),
        "outcomes": [
            [line, _clean(key), outcome] for line, key, outcome in result.outcomes[:OUTCOMES_KEPT]
        ],
        "data": b"",
    }


def record_result(
    *, kind: str, result: ImportResult, actor: Any, file_name: str, dry_run: bool, back_url: str
) -> ImportJob:
    """A finished job for an import run in the request (its errors become downloadable)."""
    now = timezone.now()
    return ImportJob.objects.create(
        kind=kind,
        file_name=file_name[:255],
        dry_run=dry_run,
        created_by=actor,
        created_at=now,
        started_at=now,
        back_url=back_url,
        **_result_fields(result),
    )


def start_import(
    *, kind: str, data: bytes, actor: Any, file_name: str, dry_run: bool, back_url: str
) -> ImportJob:
    """A queued job for ``data`` (UTF-8 CSV bytes), handed to a worker once committed.

    ``kind`` is an ``ImportKind.registry`` name. A broker that is down does not
    lose the job: it stays queued and is handed over again (``refresh_job``).
    """
    if kind not in ImportKind.registry:
        raise ValueError(f"No import kind {kind!r}.")
    now = timezone.now()
    job = ImportJob.objects.create(
        kind=kind,
        file_name=file_name[:255],
        dry_run=dry_run,
        created_by=actor,
        created_at=now,
        enqueued_at=now,
        back_url=back_url,
        data=data,
    )
    _enqueue(job)
    return job


def _enqueue(job: ImportJob) -> None:
    from .tasks import run_import_job_task

    job_id = str(job.pk)
    # robust: a broker outage leaves the job queued (logged), never an error page.
    transaction.on_commit(lambda: run_import_job_task.delay(job_id=job_id), robust=True)


class _Progress:
    """Writes progress to the job row over its own connection (autocommit), so
    the page sees it while the run's transaction is still open."""

    def __init__(self, job_id: uuid.UUID) -> None:
        self.job_id = job_id
        self.connection = connections.create_connection(DEFAULT_DB_ALIAS)

    def _write(self, state: str, done: int, total: int) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {ImportJob._meta.db_table} SET state = %s, rows_done = %s, "
                "rows_total = %s WHERE id = %s AND state NOT IN ('done', 'failed')",
                [state, done, total, self.job_id],
            )

    def checking(self, done: int, total: int) -> None:
        self._write(State.CHECKING, done, total)

    def writing(self, done: int, total: int) -> None:
        self._write(State.WRITING, done, total)

    def close(self) -> None:
        self.connection.close()


def run_import_job(*, job_id: str) -> str:
    """Run one queued import to its end; what happened, in a word (for the task's result).

    Idempotent: a job that is finished, or running in another worker (its lock
    held), is left alone.
    """
    with advisory_lock(_lock_name(job_id)) as acquired:
        if not acquired:
            return "running elsewhere"
        job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
        if job is None or job.finished:
            return "nothing to do"
        ImportJob.objects.filter(pk=job.pk).update(
            state=State.CHECKING, started_at=timezone.now(), rows_done=0, rows_total=0
        )
        progress = _Progress(job.pk)
        try:
            text = bytes(job.data).decode("utf-8-sig")
            kind = ImportKind.registry[job.kind](actor=job.created_by)

            def record(result: ImportResult) -> None:
                ImportJob.objects.filter(pk=job.pk).update(**_result_fields(result))

            result = kind.run_csv(
                text,
                dry_run=job.dry_run,
                validated=progress.checking,
                progress=progress.writing,
                before_commit=record,
            )
            if not result.applied:
                record(result)
        except Exception:
            logger.exception("Import job %s (%s) failed", job.pk, job.kind)
            ImportJob.objects.filter(pk=job.pk).update(
                state=State.FAILED, failure=CRASHED, finished_at=timezone.now(), data=b""
            )
            return "failed"
        finally:
            progress.close()
        return "applied" if result.applied else "checked"


def refresh_job(job: ImportJob, *, now: dt.datetime | None = None) -> ImportJob:
    """``job`` as the page should show it: a run whose worker died is marked failed,
    a job the broker never took is handed over again. Returns the job, re-read."""
    now = now or timezone.now()
    if job.state in (State.CHECKING, State.WRITING):
        with advisory_lock(_lock_name(job.pk)) as free:
            if free:
                # Nobody holds the lock, so no worker is running it.
                ImportJob.objects.filter(
                    pk=job.pk, state__in=[State.CHECKING, State.WRITING]
                ).update(state=State.FAILED, failure=DIED, finished_at=now, data=b"")
        job.refresh_from_db()
    elif job.state == State.QUEUED and (job.enqueued_at or job.created_at) < now - REQUEUE_AFTER:
        ImportJob.objects.filter(pk=job.pk).update(enqueued_at=now)
        _enqueue(job)
        job.refresh_from_db()
    return job
