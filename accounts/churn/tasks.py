from __future__ import annotations

from typing import Any

from celery import shared_task

from revopsweb.jobs import run_job

from .signals import detect_churn_signals
from .webhook import TransientWebhookError, deliver_flag_webhook

# Webhook retries: 6 attempts over about 30 minutes (30 s, 1, 2, 4, 8, 16 min).
WEBHOOK_MAX_RETRIES = 5
WEBHOOK_FIRST_RETRY_SECONDS = 30


@shared_task
def detect_churn_signals_task() -> dict[str, Any]:
    """Nightly: recompute churn signals for every account (set-based, idempotent)."""
    run = run_job("detect_churn_signals", detect_churn_signals)
    return {"outcome": run.outcome, "rows": run.rows_affected}


@shared_task(bind=True, max_retries=WEBHOOK_MAX_RETRIES)
def post_churn_flag_to_webhook(self: Any, *, flag_id: int) -> str:
    """Post a new flag's note to #customer-churn; retry transient failures with backoff."""
    try:
        return deliver_flag_webhook(flag_id=flag_id)
    except TransientWebhookError as exc:
        if self.request.retries >= self.max_retries:
            return "failed"
        raise self.retry(
            exc=exc, countdown=WEBHOOK_FIRST_RETRY_SECONDS * 2**self.request.retries
        ) from exc
