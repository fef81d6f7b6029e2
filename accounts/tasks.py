from __future__ import annotations

from typing import Any

from celery import shared_task

from revopsweb.dates import company_today
from revopsweb.jobs import run_job

from . import churn
from .models import Account
from .segments import refresh_top_accounts as refresh

# Webhook retries: 6 attempts over about 30 minutes (30 s, 1, 2, 4, 8, 16 min).
WEBHOOK_MAX_RETRIES = 5
WEBHOOK_FIRST_RETRY_SECONDS = 30


@shared_task
def ping() -> dict[str, int]:
    """Health check for workers: proves the worker reaches the broker and the database."""
    return {"accounts": Account.objects.count()}


@shared_task
def refresh_top_accounts() -> dict[str, int]:
    """Hourly: re-rank the Top 40 by ARR into the cache (see accounts.segments)."""
    run = run_job("refresh_top_accounts", lambda: refresh(today=company_today()))
    return {"job_run": run.pk}


@shared_task
def detect_churn_signals() -> dict[str, Any]:
    """Nightly: recompute churn signals for every account (set-based, idempotent)."""
    run = run_job("detect_churn_signals", churn.detect_churn_signals)
    return {"outcome": run.outcome, "rows": run.rows_affected}


@shared_task(bind=True, max_retries=WEBHOOK_MAX_RETRIES)
def post_churn_flag_to_webhook(self: Any, *, flag_id: int) -> str:
    """Post a new flag's note to #customer-churn; retry transient failures with backoff."""
    try:
        return churn.deliver_flag_webhook(flag_id=flag_id)
    except churn.TransientWebhookError as exc:
        if self.request.retries >= self.max_retries:
            return "failed"
        raise self.retry(
            exc=exc, countdown=WEBHOOK_FIRST_RETRY_SECONDS * 2**self.request.retries
        ) from exc
