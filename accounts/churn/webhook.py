"""The #customer-churn note of a new churn-risk flag (customer-success "Churn risk").

A new flag's note is an outbox delivery (``revopsweb.outbox``), written in the
same transaction as the flag: a committed flag always has its note queued and
a rolled-back one never does. A worker posts it to ``CHURN_WEBHOOK_URL`` after
commit; the minute sweep re-sends it (Redis down at flag time, a worker killed
mid-send, the receiver down) until the channel accepts it or it is given up
(admin: *Deliveries*, status failed). Every send carries the same
``Idempotency-Key`` header, so the receiver can drop a repeat.
"""

from __future__ import annotations

from django.conf import settings

from revopsweb.models import Delivery
from revopsweb.outbox import enqueue_delivery

from .models import ChurnRiskFlag

# The Delivery.kind of a new flag's note.
FLAG_RAISED = "churn.flag_raised"


def webhook_configured() -> bool:
    """Whether new flags are posted to #customer-churn (``CHURN_WEBHOOK_URL`` is set)."""
    return bool(settings.CHURN_WEBHOOK_URL)


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


def queue_flag_note(flag: ChurnRiskFlag) -> Delivery | None:
    """Queue ``flag``'s note for #customer-churn; call inside the flag's transaction.

    Returns the pending delivery (also set as ``flag.webhook_delivery``), or
    None when no webhook is configured. The message is fixed now, so every
    re-send posts the same text with the same idempotency key.
    """
    if not webhook_configured():
        return None
    delivery = enqueue_delivery(
        kind=FLAG_RAISED, url=settings.CHURN_WEBHOOK_URL, payload=webhook_message(flag)
    )
    flag.webhook_delivery = delivery
    flag.save(update_fields=["webhook_delivery"])
    return delivery
