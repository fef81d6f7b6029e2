"""Housekeeping tasks of the platform itself (nothing domain-specific)."""

from __future__ import annotations

from celery import shared_task

from . import jobs


@shared_task
def sweep_dead_job_runs() -> dict[str, int]:
    """Every 10 minutes: mark job runs left "running" by a killed process as died."""
    return {"died": jobs.sweep_dead_job_runs()}
