"""Every scheduled job once, on demand: the quick start's catch-up and the smoke suite.

The jobs are the entries of ``settings.CELERY_BEAT_SCHEDULE``, in its order
(the order of the day: the monthly reset opens the month before the other jobs
count anything in it). Each job is idempotent and records its own ``JobRun``
(``revopsweb.jobs.run_job``), so a catch-up run is one more ordinary run: it
shows in the admin's Job runs list, and a run that finds nothing to do changes
nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.conf import settings

from .celery import app
from .models import JobRun


def scheduled_tasks() -> list[str]:
    """The Celery task names of the beat schedule, in its order, each once."""
    names = [str(entry["task"]) for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    return list(dict.fromkeys(names))


@dataclass(frozen=True)
class JobResult:
    """One task run in this process: the JobRun rows it recorded and how long it took (seconds)."""

    task: str
    runs: list[JobRun]
    seconds: float
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return not self.error and all(r.outcome == JobRun.Outcome.SUCCEEDED for r in self.runs)

    def summary(self) -> str:
        """One line: each JobRun's outcome and what it did, then the error if any ("done" for a
        task that records no JobRun)."""
        parts = [
            f"{run.job} {run.get_outcome_display().lower()}, {run.what_it_did}" for run in self.runs
        ]
        if self.error:
            parts.append(self.error)
        return "; ".join(parts) or "done"


def run_now(tasks: Sequence[str] | None = None) -> Iterator[JobResult]:
    """Run each scheduled task (or ``tasks``) once in this process, in schedule order.

    Yields after each task, so a caller can show progress. A failing task does
    not stop the others: its error is on its ``JobResult`` (and on its JobRun).
    Raises ``KeyError`` for a name that is not a registered task.
    """
    # The apps' tasks modules are found lazily (a worker imports them at start).
    app.loader.import_default_modules()
    # Celery logs each task it runs ("Task … succeeded"); the caller reports instead.
    trace_logger = logging.getLogger("celery.app.trace")
    for name in tasks or scheduled_tasks():
        task = app.tasks[name]
        last = JobRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        started = time.perf_counter()
        level = trace_logger.level
        trace_logger.setLevel(logging.WARNING)
        try:
            result = task.apply(throw=False)
        finally:
            trace_logger.setLevel(level)
        seconds = time.perf_counter() - started
        error = "" if result.successful() else f"{type(result.result).__name__}: {result.result}"
        runs = list(JobRun.objects.filter(pk__gt=last).order_by("pk"))
        yield JobResult(task=name, runs=runs, seconds=seconds, error=error)


def send_to_workers(tasks: Sequence[str] | None = None) -> list[str]:
    """Queue each scheduled task (or ``tasks``) once for the workers; return the task ids."""
    return [app.send_task(name).id for name in tasks or scheduled_tasks()]
