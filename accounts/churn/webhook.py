"""Posting a new churn-risk flag to the #customer-churn channel's incoming
webhook (customer-success "Churn risk"). Called by the Celery task
``post_churn_flag_to_webhook`` (accounts/churn/tasks.py), which retries
transient failures.
"""

from __future__ import annotations

import logging

import httpx
from django.conf import settings
from django.utils import timezone

from .models import ChurnRiskFlag

logger = logging.getLogger(__name__)


class TransientWebhookError(Exception):
    """The webhook could not be reached or answered 5xx/429: worth retrying."""


def webhook_message(flag: ChurnRiskFlag) -> dict[str, str]:
    """The Slack-style message for a new flag: account, ARR, trigger, what's known, help, actions."""
    account = flag.account
    lines = [
        f":rotating_light: *{account.name}* flagged at risk by {flag.raised_by}",
        f"ARR: ${flag.arr_at_flag:,.0f} · severity: {flag.get_severity_display()}",
        f"Owner: {account.owner or 'none'}",
        f"Triggered by: {flag.triggers}",
    ]
    if flag.known:
        lines.append(f"What we know: {flag.known}")
    if flag.help_needed:
        lines.append(f"Help needed: {flag.help_needed}")
    if flag.owner_actions:
        lines.append(f"What we're doing: {flag.owner_actions}")
    return {"text": "\n".join(lines)}


def deliver_flag_webhook(*, flag_id: int) -> str:
    """Post a flag's note to CHURN_WEBHOOK_URL once; return what happened.

    "delivered", "already delivered", "disabled" (no URL) or "rejected" (a 4xx
    other than 429, not retried; the error is kept on the flag). Raises
    TransientWebhookError for network errors, timeouts, 429 and 5xx, which
    the task retries. Idempotent: a delivered flag is not posted again.
    """
    flag = ChurnRiskFlag.objects.select_related("account__owner", "raised_by").get(pk=flag_id)
    if flag.webhook_delivered_at is not None:
        return "already delivered"
    url = settings.CHURN_WEBHOOK_URL
    if not url:
        return "disabled"
    try:
        response = httpx.post(
            url, json=webhook_message(flag), timeout=settings.OUTBOUND_HTTP_TIMEOUT_SECONDS
        )
    except httpx.TransportError as exc:
        _note_webhook_error(flag_id, f"{type(exc).__name__}: {exc}")
        raise TransientWebhookError(str(exc)) from exc
    if response.status_code == 429 or response.status_code >= 500:
        _note_webhook_error(flag_id, f"HTTP {response.status_code}")
        raise TransientWebhookError(f"HTTP {response.status_code}")
    if response.status_code >= 400:
        _note_webhook_error(flag_id, f"HTTP {response.status_code} (not retried)")
        logger.warning("Churn webhook refused flag %s: HTTP %s", flag_id, response.status_code)
        return "rejected"
    ChurnRiskFlag.objects.filter(pk=flag_id).update(
        webhook_delivered_at=timezone.now(), webhook_error=""
    )
    return "delivered"


def _note_webhook_error(flag_id: int, error: str) -> None:
    ChurnRiskFlag.objects.filter(pk=flag_id).update(webhook_error=error[:300])
