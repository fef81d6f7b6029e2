from __future__ import annotations

from celery import shared_task

from .models import Account


@shared_task
def ping() -> dict[str, int]:
    """Health check for workers: proves the worker reaches the broker and the database."""
    return {"accounts": Account.objects.count()}
