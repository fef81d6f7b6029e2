"""Celery wrappers of the lead rules' jobs (scheduled in settings.CELERY_BEAT_SCHEDULE).

Idempotent (a rerun the same day raises nothing), so ``acks_late``.
"""

from __future__ import annotations

from celery import shared_task

from leads.jobs import summary

from . import jobs


@shared_task(acks_late=True)
def generate_leads_task() -> dict[str, object]:
    return summary(jobs.run_generation_job())
