"""Celery wrappers of the leads jobs (scheduled in settings.CELERY_BEAT_SCHEDULE).

Each job is idempotent and resumable, so a redelivered message after a worker
died is harmless: ``acks_late``.
"""

from __future__ import annotations

from celery import shared_task

from . import jobs


@shared_task(acks_late=True)
def reassign_stale_tasks_task() -> dict[str, object]:
    return jobs.summary(jobs.run_stale_tasks_job())


@shared_task(acks_late=True)
def reset_tracker_month() -> dict[str, object]:
    return jobs.summary(jobs.run_monthly_reset_job())


@shared_task(acks_late=True)
def apply_tracker_time_off() -> dict[str, object]:
    return jobs.summary(jobs.run_time_off_job())


@shared_task(acks_late=True)
def raise_follow_ups() -> dict[str, object]:
    return jobs.summary(jobs.run_follow_ups_job())
