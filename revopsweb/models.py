from __future__ import annotations

from django.conf import settings
from django.db import models


class LedgerEntry(models.Model):
    """One row of a domain's append-only history, in one shape: who (``actor``;
    empty when the round robin or a scheduled job acted), when (``at``), why
    (``reason``) and what (``what``: one line built from the subclass's own
    columns). The ledgers (ownership changes, the round-robin ledger, task
    history, handover timeline) inherit it; each maps the three fields onto the
    columns its table already had (``db_column``), so no data moved.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    reason = models.TextField(blank=True)

    class Meta:
        abstract = True

    @property
    def what(self) -> str:
        """What changed, in one line (each ledger says it from its own columns)."""
        raise NotImplementedError


class JobRun(models.Model):
    """One run of a scheduled job: when, how many rows, how it ended."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (another run held the lock)"
        DIED = "died", "Died (its process ended before finishing)"

    job = models.CharField(max_length=80, db_index=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_affected = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RUNNING)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ("-started_at", "-id")

    def __str__(self) -> str:
        return f"{self.job} {self.started_at:%Y-%m-%d %H:%M} {self.outcome}"


class Delivery(models.Model):
    """One outbound notification (a webhook post), kept until it is delivered.

    Written in the same transaction as the event it announces (the outbox), so
    a committed event always has its delivery and a rolled-back one never does.
    Sent by a worker, re-sent by the periodic sweep until the receiver accepts
    it or it is given up; the receiver can drop repeats by ``idempotency_key``
    (sent as the ``Idempotency-Key`` header). Domain-neutral: ``kind`` says
    what it announces (``churn.flag_raised``, later sales alerts, dunning).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (given up)"

    kind = models.CharField(max_length=60, db_index=True)
    url = models.URLField(max_length=500)
    payload = models.JSONField()
    idempotency_key = models.UUIDField(unique=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # When the next send may start. A send in progress pushes it forward by a
    # lease, so the sweep leaves it alone unless its worker died.
    next_attempt_at = models.DateTimeField()
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_pending_due",
                condition=models.Q(status="pending"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.status}"
