from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from accounts.models import Region
from revopsweb.dates import current_month
from revopsweb.models import LedgerEntry


class Territory(models.Model):
    """A sales territory of the round robin, edited by RevOps."""

    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    ownership_region = models.CharField(
        max_length=2,
        choices=Region.choices,
        blank=True,
        help_text="Which team (US or EU) owns accounts in this territory; used to suggest owners.",
    )
    sort_order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ("sort_order", "name")
        verbose_name_plural = "territories"

    def __str__(self) -> str:
        return self.name


class TrackerRole(models.TextChoices):
    TAE = "TAE", "TAE"
    TAM = "TAM", "TAM"
    ONBOARDING = "onboarding", "Onboarding specialist"


class LeadType(models.TextChoices):
    """What kind of lead a task is; decides which tracker role receives it."""

    NEW_BUSINESS = "new_business", "New business"
    PRODUCT_LED = "product_led", "Product-led / expansion"
    ONBOARDING = "onboarding", "Onboarding"


LEAD_TYPE_ROLE: dict[str, str] = {
    LeadType.NEW_BUSINESS: TrackerRole.TAE,
    LeadType.PRODUCT_LED: TrackerRole.TAM,
    LeadType.ONBOARDING: TrackerRole.ONBOARDING,
}


def round_robin_load(*, leads_this_month: int, manual_adjustment: int, priority: int) -> int:
    """A tracker member's load in the round robin: (leads this month + manual
    adjustment) × priority (revops/lead-assignment-tracker)."""
    return (leads_this_month + manual_adjustment) * priority


class TrackerMember(models.Model):
    """One person in the round robin (the Lead Assignment Tracker row).

    ``leads_this_month`` and ``manual_adjustment`` are cached counters of the
    ledger (RoundRobinEvent) for ``period``: the sum of the lead deltas and of
    the adjustment deltas of that period's events. They are only written in the
    same transaction as the event that changes them (leads.ledger, leads.tracker and
    leads.assignment), and ``leads.ledger.reconcile_counters`` proves they agree.
    The monthly reset is one UPDATE (counters to 0, period to the new month,
    ``WHERE period < new``) plus an INSERT … SELECT of RESET events.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tracker_member"
    )
    role = models.CharField(max_length=10, choices=TrackerRole.choices)
    territories = models.ManyToManyField(Territory, related_name="tracker_members", blank=True)
    priority = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1)],
        help_text="Higher means fewer leads: priority 3 gets one lead per three of a priority-1 colleague.",
    )
    manual_adjustment = models.IntegerField(
        "manual leads adjustment",
        default=0,
        help_text="Added to this month's count; lets a mid-month joiner start level. May be negative.",
    )
    is_active = models.BooleanField(default=True)
    leads_this_month = models.IntegerField(default=0, editable=False)
    period = models.DateField(
        default=current_month,
        help_text="First day of the month the counters belong to (the open ledger period).",
    )
    last_assigned_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("user__name",)
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=models.Q(priority__gte=1), name="tracker_priority_gte_1"
            ),
            models.CheckConstraint(
                condition=models.Q(period__day=1), name="tracker_period_first_of_month"
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["role", "is_active"])]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"

    @property
    def load(self) -> int:
        """The round robin's load (``round_robin_load``)."""
        return round_robin_load(
            leads_this_month=self.leads_this_month,
            manual_adjustment=self.manual_adjustment,
            priority=self.priority,
        )


class TimeOff(models.Model):
    """A planned absence. ``leads.time_off.apply_time_off`` toggles the member.

    ``starts_on`` is the first day away and ``ends_on`` the last; the member is
    inactive from ``leave_on`` (two days earlier for absences over five days)
    and active again on ``ends_on + 1``. ``deactivated_at``/``reactivated_at``
    mark which steps the daily job has applied, so it is idempotent; it only
    reactivates members it deactivated (``deactivated_member``).
    """

    member = models.ForeignKey(TrackerMember, on_delete=models.CASCADE, related_name="time_off")
    starts_on = models.DateField()
    ends_on = models.DateField()
    # Stored (set on save from the dates) so the round robin can skip a member
    # from this day in SQL, before the daily job has switched them off.
    leave_on = models.DateField(editable=False)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    deactivated_at = models.DateTimeField(null=True, blank=True, editable=False)
    deactivated_member = models.BooleanField(
        default=False, editable=False, help_text="The job switched the member off for this absence."
    )
    reactivated_at = models.DateTimeField(null=True, blank=True, editable=False)
    calibration = models.IntegerField(
        null=True, blank=True, editable=False, help_text="Adjustment added on return."
    )

    LONG_ABSENCE_DAYS: ClassVar[int] = 5
    EARLY_LEAVE_DAYS: ClassVar[int] = 2

    class Meta:
        ordering = ("-starts_on",)
        verbose_name_plural = "time off"
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="time_off_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member}: {self.starts_on} – {self.ends_on}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.leave_on = self.leave_on_for(self.starts_on, self.ends_on)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"starts_on", "ends_on"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "leave_on"}
        super().save(*args, **kwargs)

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1

    @classmethod
    def leave_on_for(cls, starts_on: dt.date, ends_on: dt.date) -> dt.date:
        """The first inactive day: two days early for absences over five days."""
        days = (ends_on - starts_on).days + 1
        early = cls.EARLY_LEAVE_DAYS if days > cls.LONG_ABSENCE_DAYS else 0
        return starts_on - dt.timedelta(days=early)

    @property
    def return_on(self) -> dt.date:
        return self.ends_on + dt.timedelta(days=1)


class LedgerKind(models.TextChoices):
    ASSIGNMENT = "assignment", "Assignment"
    REASSIGNMENT = "reassignment", "Reassignment"
    COMPENSATION = "compensation", "Compensation (undo)"
    ADJUSTMENT = "adjustment", "Manual adjustment"
    RESET = "reset", "Monthly reset (new period)"
    WEIGHT = "weight", "Priority change"
    ACTIVATION = "activation", "Active toggled"
    TERRITORIES = "territories", "Territories changed"
    JOINED = "joined", "Added to the round robin"


# Kinds whose delta counts towards leads this month; ADJUSTMENT deltas add to
# the manual adjustment; the rest carry delta 0 and old → new values.
LEAD_KINDS = (LedgerKind.ASSIGNMENT, LedgerKind.REASSIGNMENT, LedgerKind.COMPENSATION)


class RoundRobinEvent(LedgerEntry):
    """Append-only ledger of the round robin. Never updated or deleted.

    For a member and a period, the sum of ``delta`` over LEAD_KINDS is the
    member's leads that month and the sum over ADJUSTMENT its manual adjustment.
    Undoing an event is a COMPENSATION event with the negated delta pointing at
    it (``compensates`` is unique, so an event is undone at most once).
    """

    # No index of its own: Meta's (member, period, kind) leads with it.
    member = models.ForeignKey(
        TrackerMember, on_delete=models.PROTECT, related_name="ledger", db_index=False
    )
    kind = models.CharField(max_length=14, choices=LedgerKind.choices)
    task = models.ForeignKey(
        "Task", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger"
    )
    delta = models.IntegerField(default=0)
    period = models.DateField(help_text="First day of the month the event counts in.")
    old_value = models.CharField(max_length=200, blank=True)
    new_value = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_column="author_id",
        verbose_name="author",
        help_text="Empty when the round robin or a scheduled job made the change.",
    )
    reason = models.TextField()
    compensates = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="compensated_by"
    )
    at = models.DateTimeField(db_index=True, db_column="created_at", verbose_name="created at")

    class Meta:
        ordering = ("-at", "-id")
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["member", "period", "kind"]),
            models.Index(fields=["period", "kind"]),
            # The tracker's history (leads.tracker.history): changes newest first,
            # without the lead events it never shows. Walking the created_at index
            # instead skipped every assignment since the last change (16,549 rows read
            # for 310 at the 100,000-account seed, 4.6 against 0.6 ms; more each
            # month). Lead events, the ledger's bulk, are not written to it.
            models.Index(
                fields=["-at", "-id"],
                condition=~models.Q(kind__in=LEAD_KINDS),
                name="leads_ledger_changes_idx",
            ),
        ]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=models.Q(period__day=1), name="ledger_period_first_of_month"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_kind_display()} {self.delta:+d} for {self.member_id} ({self.period:%Y-%m})"
        )

    @property
    def what(self) -> str:
        change = f"{self.old_value} → {self.new_value}" if self.old_value or self.new_value else ""
        return f"{self}{': ' + change if change else ''}"


class TerritoryLeads(models.Model):
    """Leads a tracker member received in one territory in one ledger period: the
    sum of the deltas of that period's lead events (LEAD_KINDS) whose task is in
    the territory.

    Kept by a statement-level trigger on the ledger (migration 0014), so whatever
    writes lead events (the intake's one-statement CTE, the stale sweep's set-based
    reassignment, an undo, the demo's bulk insert) keeps it equal to the ledger,
    and ``leads.ledger.reconcile_counters`` checks that it is. The tracker reads it
    instead of summing the period's events on each request: that sum grew with the
    month (61 ms after 80,000 assignments in one territory; issue 20). A task's
    territory is set when it is first assigned and not changed afterwards, so a lead
    counts where it was received. Never written by the application.
    """

    # No index of their own: the unique key leads with territory, and a member or
    # territory is only deleted while it has no ledger events (RoundRobinEvent
    # protects both), so it has no rows here either.
    member = models.ForeignKey(
        TrackerMember, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    territory = models.ForeignKey(
        Territory, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    period = models.DateField(help_text="First day of the month the leads count in.")
    leads = models.IntegerField()

    class Meta:
        verbose_name_plural = "territory leads"
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["territory", "period", "member"], name="territory_leads_key"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.leads} leads for {self.member_id} in {self.territory_id} ({self.period:%Y-%m})"
        )
