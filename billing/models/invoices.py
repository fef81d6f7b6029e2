"""Invoices, payment attempts, dunning alerts and refund requests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

import pghistory
from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from .terms import OneTimeCredit


@pghistory.track()
class Invoice(models.Model):
    """An invoice sent to an account for one billing period (a month).

    A fact imported from the billing system (invoices CSV, ``POST
    /api/billing/invoices/``, admin); open or failed invoices block handovers
    and signal churn, failed payment attempts start dunning (sales/billing).
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PAID = "paid", "Paid"
        FAILED = "failed", "Payment failed"
        VOID = "void", "Void"

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="invoices"
    )
    number = models.CharField(max_length=40, unique=True)
    period = models.DateField(help_text="First day of the month billed.")
    issued_on = models.DateField()
    due_on = models.DateField()
    amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0))],
        help_text="Dollars.",
    )
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.OPEN)
    paid_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ("-issued_on",)
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=models.Q(period__day=1), name="invoice_period_first_of_month"
            ),
            models.CheckConstraint(
                condition=models.Q(due_on__gte=models.F("issued_on")),
                name="invoice_due_not_before_issued",
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["account", "status"])]

    def __str__(self) -> str:
        return f"{self.number} ({self.get_status_display()})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # An invoice made in code without its period bills the month it was issued
        # in (the imports and the admin always give one).
        if self.period is None and self.issued_on is not None:
            self.period = self.issued_on.replace(day=1)
        super().save(*args, **kwargs)


@pghistory.track()
class PaymentAttempt(models.Model):
    """One attempt to collect an invoice (the card on file, a bank transfer).

    Each failed attempt puts the account into dunning (``billing.dunning``).
    One attempt per invoice and day: the natural key of the import.
    """

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="payment_attempts")
    attempted_on = models.DateField()
    outcome = models.CharField(max_length=9, choices=Outcome.choices)
    failure_reason = models.CharField(
        max_length=200, blank=True, help_text="The billing system's reason, e.g. card_declined."
    )

    class Meta:
        ordering = ("invoice", "attempted_on")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["invoice", "attempted_on"], name="payment_attempt_unique_per_day"
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["outcome", "attempted_on"])]

    def __str__(self) -> str:
        return f"{self.invoice_id} {self.attempted_on}: {self.get_outcome_display()}"


class DunningAlert(models.Model):
    """The alert of one failed payment attempt (sales/billing, "Failed/late payments").

    Written by ``billing.dunning.alert_failed_attempts`` in the attempt's
    transaction, at most once per attempt: the account's risk indicator (open
    while the invoice is unpaid), who was told and the #sales-alerts post
    (an outbox delivery).
    """

    class Told(models.TextChoices):
        OWNER = "owner", "The owner"
        MANAGERS = "managers", "The managers (unmanaged, $1,500 or more)"
        CHANNEL = "channel", "#sales-alerts only (unmanaged, under $1,500)"

    attempt = models.OneToOneField(
        PaymentAttempt, on_delete=models.CASCADE, related_name="dunning_alert"
    )
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="dunning_alerts")
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="dunning_alerts"
    )
    amount = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="The invoice's amount when it failed, dollars."
    )
    told = models.CharField(max_length=8, choices=Told.choices)
    told_emails = models.JSONField(default=list, blank=True, help_text="Who was tagged.")
    delivery = models.ForeignKey(
        "revopsweb.Delivery",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The #sales-alerts post (none when SALES_ALERTS_WEBHOOK_URL is unset).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at",)
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["account", "created_at"])]

    def __str__(self) -> str:
        return f"{self.invoice_id} failed {self.attempt_id}: told {self.told}"


@pghistory.track()
class RefundRequest(models.Model):
    """A customer's refund request on one invoice (sales/refunds), with the facts the rules
    read; ``billing.refunds`` evaluates it and records the decision."""

    class Scenario(models.TextChoices):
        LEARNING_CURVE = "learning_curve", "Learning curve (first big bill)"
        UNEXPECTED_STARDOM = "unexpected_stardom", "Unexpected stardom (volume spike)"
        UNDER_ATTACK = "under_attack", "Under attack (bot or abuse spike)"
        WRONG_SETUP = "wrong_setup", "Wrong setup (unintended feature usage)"

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="refund_requests"
    )
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="refund_requests")
    requested_on = models.DateField()
    scenario = models.CharField(max_length=20, choices=Scenario.choices)
    incident = models.PositiveSmallIntegerField(help_text="1 for the account's first refund.")
    issue_fixed = models.BooleanField(
        default=False, help_text="The cause is fixed (billing limit set, usage ceased)."
    )
    extraordinary = models.BooleanField(
        default=False, help_text="Extraordinary circumstances, e.g. a PostHog bug."
    )
    price_at_spike = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="Dollars: the bill at the spike's volume."
    )
    price_at_baseline = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        help_text="Dollars: the bill at the baseline volume (average of the 3 months before).",
    )
    reason = models.TextField(help_text="The customer's explanation.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.REQUESTED)
    approved_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    credit = models.ForeignKey(
        OneTimeCredit, null=True, blank=True, on_delete=models.SET_NULL, related_name="refunds"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-requested_on", "-pk")

    def __str__(self) -> str:
        return f"Refund {self.pk} on {self.invoice_id} ({self.get_status_display()})"
