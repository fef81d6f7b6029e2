from __future__ import annotations

import uuid

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
    # What rows_affected counts, in words that fit the number ("24 months recomputed",
    # "1 lead created"): each job's count is of something else, and a bare "0 rows"
    # beside "24" elsewhere read as a failure (the walk's RevOps home).
    counts = models.CharField(max_length=60, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RUNNING)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ("-started_at", "-id")

    def __str__(self) -> str:
        return f"{self.job} {self.started_at:%Y-%m-%d %H:%M} {self.outcome}"

    @property
    def what_it_did(self) -> str:
        """The count in words: "24 months recomputed" (runs recorded before the words
        were kept, and runs that did not finish: "N rows")."""
        return f"{self.rows_affected:,} {self.counts or 'rows'}"


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


class ImportJob(models.Model):
    """One CSV import through a page, checked and applied by a worker (``revopsweb.import_jobs``).

    Holds the uploaded text until the run ends, the progress the page polls, and
    the outcome: counts, the first outcomes and every error (line, column,
    reason) for the page and its CSV download. Any input kind registered on
    ``revopsweb.imports.ImportKind`` runs through it, by ``kind`` (the registry
    name). The id is a random UUID, so a link cannot be guessed.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        CHECKING = "checking", "Checking rows"
        WRITING = "writing", "Writing rows"
        DONE = "done", "Finished"
        FAILED = "failed", "Stopped with an error"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=60)
    file_name = models.CharField(max_length=255, blank=True)
    dry_run = models.BooleanField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Where the person came from, for the "Import another file" link.
    back_url = models.CharField(max_length=200, blank=True)
    # The uploaded bytes (bytea: a text column could not hold a NUL, which the
    # row forms report as an error); emptied when the run ends.
    data = models.BinaryField(default=b"")
    enqueued_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    applied = models.BooleanField(default=False)
    error_count = models.PositiveIntegerField(default=0)
    # [[line, column, reason], …], every error of the run, in line order.
    errors = models.JSONField(default=list, blank=True)
    # [[line, key, outcome], …], the first rows' outcomes (the page shows 100).
    outcomes = models.JSONField(default=list, blank=True)
    failure = models.TextField(blank=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.kind} import {self.created_at:%Y-%m-%d %H:%M} {self.state}"

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)

    @property
    def percent(self) -> int:
        return int(self.rows_done * 100 / self.rows_total) if self.rows_total else 0
