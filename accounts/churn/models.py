"""Churn risk tables: nightly signals, flags, weekly status, escalations, retros.

The tables keep their names from when they lived in the accounts app
(``accounts_churnsignal`` …): the move to this app changed no data. Rows are
written by accounts/churn/signals.py (signals) and accounts/churn/flags.py (the rest).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models


class SignalKind(models.TextChoices):
    USAGE_DROP = "usage_drop", "Usage down 30%+ (not seasonal)"
    HEALTH_POOR = "health_poor", "Health poor 4+ weeks"
    RENEWAL_NEGATIVE = "renewal_negative", "Renewal < 90 days, negative engagement"
    PAYMENT_FAILED = "payment_failed", "Payment failed, no response"
    FEW_ACTIVE_USERS = "few_active_users", "Only 1–2 active users"
    NO_CUSTOMER_MESSAGE = "no_customer_message", "No customer message 14+ days"
    CHAMPION_LEFT = "champion_left", "Champion left, no replacement"
    DATA_EXPORT = "data_export", "Full data export requested"
    SUPPORT_SPIKE = "support_spike", "Support tickets spiking"
    BILLING_VISITS = "billing_visits", "Billing page visits without context"
    RECOMMENDATION_STALE = "recommendation_stale", "Recommendation not actioned 2+ weeks"
    SINGLE_PRODUCT = "single_product", "Single product usage"
    WAREHOUSE_ONLY = "warehouse_only", "Data exported to a warehouse only"


class ChurnSignal(models.Model):
    """An early-warning signal the nightly job found on an account.

    At most one open signal (``cleared_on`` empty) per account and kind; when the
    condition stops holding the job sets ``cleared_on``, so the table is the
    signal's history too.
    """

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="churn_signals"
    )
    kind = models.CharField(max_length=20, choices=SignalKind.choices)
    evidence = models.JSONField(default=dict, help_text="The figures and dates behind it.")
    detected_on = models.DateField(help_text="The day the nightly job first saw it.")
    cleared_on = models.DateField(null=True, blank=True)

    class Meta:
        db_table = "accounts_churnsignal"  # moved from accounts; table kept
        ordering = ("account", "kind", "-detected_on")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            # Its index, on (account, kind) of the open signals, also serves
            # every lookup of an account's open signals: a second partial index
            # on the account alone (churn_signal_open_by_account, dropped by
            # migration 0004) was one more index write per signal the nightly
            # job opens (issue 20).
            models.UniqueConstraint(
                fields=["account", "kind"],
                condition=models.Q(cleared_on__isnull=True),
                name="churn_signal_one_open_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.kind} since {self.detected_on}"


class Severity(models.TextChoices):
    ELEVATED = "elevated", "At risk"
    SERIOUS = "serious", "Serious risk"


class FlagStatus(models.TextChoices):
    OPEN = "open", "At risk"
    RESOLVED = "resolved", "Resolved (saved)"
    CHURNED = "churned", "Churned"
    REMOVED = "removed", "Flag removed"


class ChurnRiskFlag(models.Model):
    """An account flagged at risk: the churn-risk segment is its open flags.

    Flags are never deleted; closing one (resolved, churned, or removed when
    raised by mistake) keeps it as history.
    """

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="churn_flags"
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    raised_at = models.DateTimeField(db_index=True)
    arr_at_flag = models.DecimalField(
        "ARR at flag", max_digits=14, decimal_places=2, default=Decimal(0)
    )
    signal_kinds = models.JSONField(
        default=list, blank=True, help_text="Signal kinds open when the flag was raised."
    )
    triggers = models.TextField("what triggered it")
    known = models.TextField("what we know", blank=True)
    help_needed = models.TextField(blank=True)
    owner_actions = models.TextField("what the owner is doing", blank=True)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.ELEVATED)
    next_key_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    close_note = models.TextField(blank=True)
    # The #customer-churn note (revopsweb.outbox): its status, attempts and
    # last error. None when no webhook was configured at flag time.
    webhook_delivery = models.OneToOneField(
        "revopsweb.Delivery",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="#customer-churn note",
    )

    class Meta:
        db_table = "accounts_churnriskflag"  # moved from accounts; table kept
        ordering = ("-raised_at", "-id")
        get_latest_by = "raised_at"
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(status="open"),
                name="churn_flag_one_open_per_account",
            ),
            models.CheckConstraint(
                condition=models.Q(status="open", closed_at__isnull=True)
                | (~models.Q(status="open") & models.Q(closed_at__isnull=False)),
                name="churn_flag_closed_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} flagged {self.raised_at:%Y-%m-%d} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == FlagStatus.OPEN

    def weeks_at_risk(self, today: dt.date) -> int:
        """Whole weeks since the flag was raised (until it closed)."""
        end = self.closed_at.date() if self.closed_at else today
        return max(0, (end - self.raised_at.date()).days // 7)


class StatusTrend(models.TextChoices):
    IMPROVING = "improving", "Improving"
    NO_CHANGE = "no_change", "No change"
    WORSE = "worse", "Getting worse"


class WeeklyStatusUpdate(models.Model):
    """The owner's 60-second update on a flagged account for one week."""

    flag = models.ForeignKey(ChurnRiskFlag, on_delete=models.CASCADE, related_name="status_updates")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    week = models.DateField(help_text="Monday of the week.")
    tried = models.TextField("what was tried")
    working = models.TextField("what works or doesn't", blank=True)
    help_needed = models.TextField(blank=True)
    trend = models.CharField(max_length=9, choices=StatusTrend.choices)
    next_key_date = models.DateField(null=True, blank=True)
    posted_at = models.DateTimeField()

    class Meta:
        db_table = "accounts_weeklystatusupdate"  # moved from accounts; table kept
        ordering = ("flag", "-week")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["flag", "week"], name="churn_status_one_per_week"),
        ]

    def __str__(self) -> str:
        return f"{self.flag_id} week of {self.week}"


class EscalationTeam(models.TextChoices):
    ENGINEERING = "engineering", "Engineering"
    PRODUCT = "product", "Product"
    LEADERSHIP = "leadership", "Leadership"


class Escalation(models.Model):
    """Someone pulled in to help save a flagged account; the owner stays the owner."""

    flag = models.ForeignKey(ChurnRiskFlag, on_delete=models.CASCADE, related_name="escalations")
    team = models.CharField(max_length=11, choices=EscalationTeam.choices)
    person = models.CharField("who was pulled in", max_length=150, blank=True)
    escalated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    escalated_at = models.DateTimeField()
    note = models.TextField(blank=True)

    class Meta:
        db_table = "accounts_escalation"  # moved from accounts; table kept
        ordering = ("flag", "escalated_at")

    def __str__(self) -> str:
        return f"{self.flag_id} → {self.team}"


class RootCause(models.TextChoices):
    PRICE = "price", "Price"
    PRODUCT = "product", "Product"
    RELATIONSHIP = "relationship", "Relationship"
    IMPLEMENTATION = "implementation", "Implementation"
    BUSINESS_CHANGE = "business_change", "Business change"
    OUT_OF_CONTROL = "out_of_control", "Out of our control"


class ChurnRetro(models.Model):
    """The retro on a churned account, due within a week of the churn."""

    flag = models.OneToOneField(ChurnRiskFlag, on_delete=models.CASCADE, related_name="retro")
    what_happened = models.TextField()
    root_cause = models.CharField(max_length=15, choices=RootCause.choices)
    learnings = models.TextField()
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    written_at = models.DateTimeField()

    class Meta:
        db_table = "accounts_churnretro"  # moved from accounts; table kept

    def __str__(self) -> str:
        return f"Retro for flag {self.flag_id}"
