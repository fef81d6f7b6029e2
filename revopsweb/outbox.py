"""Durable outbound notifications (the outbox).

Usage, inside the transaction that records the event::

    with transaction.atomic():
        event = SomeEvent.objects.create(...)
        enqueue_delivery(kind="some.event", url=settings.SOME_WEBHOOK_URL,
                         payload={"text": ...})

The #customer-churn note of a new churn flag is sent this way
(``accounts/churn/webhook.py``, kind ``churn.flag_raised``); later
notifications (sales alerts, dunning) use the same call.

The delivery row commits (or rolls back) with the event. After commit a
worker is asked to send it at once; if that enqueue fails (Redis down), or
the worker dies, or the receiver is down, the sweep (every minute, from beat)
sends every due delivery again, with exponential backoff, until the receiver
answers 2xx or ``OUTBOX_MAX_ATTEMPTS`` is reached (then *failed*, with the
last error, in the admin and in ``failed_delivery_count``). A 4xx other than
408/429 is final at once: repeating the same request will not help.

At least once: a send whose worker died after posting but before recording
it is sent again. Every send of one delivery carries the same
``Idempotency-Key`` header (a UUID), so the receiver can drop repeats.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from functools import partial
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import Delivery

logger = logging.getLogger(__name__)

# Deliveries handed to workers per sweep; the rest wait for the next minute.
SWEEP_BATCH = 500
# Status codes worth repeating: the receiver may accept the same request later.
RETRY_STATUSES = {408, 429}


def enqueue_delivery(*, kind: str, url: str, payload: dict[str, Any]) -> Delivery:
    """Record a delivery of ``payload`` (JSON) to ``url`` and send it after commit.

    Call inside the event's transaction. Returns the pending delivery. The
    enqueue of the send is robust: with the broker down it is logged and the
    sweep sends it later.
    """
    from .tasks import send_delivery_task

    now = timezone.now()
    delivery = Delivery.objects.create(
        kind=kind,
        url=url,
        payload=payload,
        idempotency_key=uuid.uuid4(),
        next_attempt_at=now,
        created_at=now,
    )
    transaction.on_commit(partial(send_delivery_task.delay, delivery_id=delivery.pk), robust=True)
    return delivery


def retry_delay(*, attempts: int) -> dt.timedelta:
    """Wait after the ``attempts``-th failed send: first retry delay, doubling, capped."""
    seconds = settings.OUTBOX_FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, settings.OUTBOX_MAX_RETRY_SECONDS))


def _lease() -> dt.timedelta:
    # Longer than one send can take, so the sweep never re-sends a live one.
    return dt.timedelta(seconds=settings.OUTBOUND_HTTP_TIMEOUT_SECONDS + 30)


def send_delivery(*, delivery_id: int, now: dt.datetime | None = None) -> str:
    """Send one due delivery once; returns "delivered", "retry", "failed" or "not due".

    Claims the delivery with a conditional update (pending and due), so two
    workers never post it at the same time; the claim leases it until the
    send's timeout has passed. Idempotent: a delivered or failed delivery,
    or one another worker holds, is left alone ("not due").
    """
    now = now or timezone.now()
    claimed = Delivery.objects.filter(
        pk=delivery_id, status=Delivery.Status.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + _lease(), attempts=F("attempts") + 1)
    if claimed != 1:
        return "not due"
    delivery = Delivery.objects.get(pk=delivery_id)
    try:
        response = httpx.post(
            delivery.url,
            json=delivery.payload,
            headers={
                "Idempotency-Key": str(delivery.idempotency_key),
                "X-Revopsweb-Kind": delivery.kind,
            },
            timeout=settings.OUTBOUND_HTTP_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as exc:
        return _failed(delivery, error=f"{type(exc).__name__}: {exc}", final=False)
    if response.is_success:
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.DELIVERED, delivered_at=timezone.now(), last_error=""
        )
        return "delivered"
    retryable = response.status_code >= 500 or response.status_code in RETRY_STATUSES
    return _failed(
        delivery, error=f"HTTP {response.status_code}: {response.text[:200]}", final=not retryable
    )


def _failed(delivery: Delivery, *, error: str, final: bool) -> str:
    if final or delivery.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        logger.error("Delivery %s (%s) given up: %s", delivery.pk, delivery.kind, error)
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.FAILED, last_error=error[:2000]
        )
        return "failed"
    logger.warning("Delivery %s (%s) will be retried: %s", delivery.pk, delivery.kind, error)
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() + retry_delay(attempts=delivery.attempts),
        last_error=error[:2000],
    )
    return "retry"


def due_delivery_ids(*, now: dt.datetime | None = None) -> list[int]:
    """Ids of pending deliveries whose next attempt is due, oldest first (at most SWEEP_BATCH)."""
    now = now or timezone.now()
    return list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:SWEEP_BATCH]
    )


def sweep_deliveries(*, now: dt.datetime | None = None) -> int:
    """Hand every due delivery to the workers; returns how many. Idempotent:
    a delivery handed out twice is sent once (``send_delivery`` claims it)."""
    from .tasks import send_delivery_task

    ids = due_delivery_ids(now=now)
    for delivery_id in ids:
        send_delivery_task.delay(delivery_id=delivery_id)
    return len(ids)


def failed_delivery_count() -> int:
    """Deliveries given up, for RevOps to look at (admin: Deliveries, status failed)."""
    return Delivery.objects.filter(status=Delivery.Status.FAILED).count()


def retry_deliveries(*, ids: list[int]) -> int:
    """Put failed deliveries back in the queue (the admin's "Retry now"); returns how many."""
    return Delivery.objects.filter(pk__in=ids, status=Delivery.Status.FAILED).update(
        status=Delivery.Status.PENDING, next_attempt_at=timezone.now()
    )
