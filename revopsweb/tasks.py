"""Housekeeping tasks of the platform itself (nothing domain-specific)."""

from __future__ import annotations

from celery import shared_task

from . import import_jobs, jobs, outbox


@shared_task
def sweep_dead_job_runs_task() -> dict[str, int]:
    """Every 10 minutes: mark job runs left "running" by a killed process as died."""
    return {"died": jobs.sweep_dead_job_runs()}


@shared_task
def send_delivery_task(*, delivery_id: int) -> str:
    """Send one outbox delivery (see revopsweb.outbox); idempotent, claims it first."""
    return outbox.send_delivery(delivery_id=delivery_id)


@shared_task
def sweep_deliveries_task() -> dict[str, int]:
    """Every minute: hand due outbox deliveries (new, retrying, orphaned) to the workers."""
    return {"queued": outbox.sweep_deliveries()}


@shared_task
def run_import_job_task(*, job_id: str) -> str:
    """Check (and apply) one page import in the background; idempotent, locked per job."""
    return import_jobs.run_import_job(job_id=job_id)
