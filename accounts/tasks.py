from __future__ import annotations

from celery import shared_task

from revopsweb.dates import company_today
from revopsweb.jobs import run_job

from .models import Account
from .segments import refresh_top_accounts


@shared_task
def ping() -> dict[str, int]:
    """Health check for workers: proves the worker reaches the broker and the database."""
    return {"accounts": Account.objects.count()}


@shared_task
def refresh_top_accounts_task() -> dict[str, int]:
    """Hourly: re-rank the Top 40 by ARR into the cache (see accounts.segments)."""
    run = run_job(
        "refresh_top_accounts",
        lambda: refresh_top_accounts(today=company_today()),
        counts=("account ranked", "accounts ranked"),
    )
    return {"job_run": run.pk}
