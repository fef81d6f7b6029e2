from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from revopsweb.jobs import run_job

from .models import Account
from .segments import refresh_top_accounts as refresh


@shared_task
def ping() -> dict[str, int]:
    """Health check for workers: proves the worker reaches the broker and the database."""
    return {"accounts": Account.objects.count()}


@shared_task
def refresh_top_accounts() -> dict[str, int]:
    """Hourly: re-rank the Top 40 by ARR into the cache (see accounts.segments)."""
    run = run_job("refresh_top_accounts", lambda: refresh(today=timezone.localdate()))
    return {"job_run": run.pk}
