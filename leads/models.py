from __future__ import annotations

import datetime as dt
from decimal import Decimal
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
        """The round robin's load: (leads this month + manual adjustment) × priority."""
        return (self.leads_this_month + self.manual_adjustment) * self.priority


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

    member = models.ForeignKey(TrackerMember, on_delete=models.PROTECT, related_name="ledger")
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


class TaskSource(models.TextChoices):
    CONTACT_FORM = "contact_form", "Contact form"
    SALES_EMAIL = "sales_email", "Sales email"
    PRODUCT_SIGNUP = "product_signup", "Product signup"
    PRODUCT_LED = "product_led", "Product-led signal"
    LEAD_RULE = "lead_rule", "Lead rule"
    FOLLOW_UP = "follow_up", "Follow-up"
    ONBOARDING_REFERRAL = "onboarding_referral", "Onboarding referral"
    MANUAL = "manual", "Manual"
    SUPPORT_TICKET = "support_ticket", "Support ticket tagged for sales"


class TaskKind(models.TextChoices):
    """A lead (worked in the queues, assigned by the round robin) or a
    recommendation a TAM/CSM gave a customer, due by a date (its own statuses)."""

    LEAD = "lead", "Lead"
    RECOMMENDATION = "recommendation", "Recommendation"


class TaskStatus(models.TextChoices):
    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In progress"
    NURTURING = "nurturing", "Nurturing"
    CONVERTED = "converted", "Converted"
    DISQUALIFIED = "disqualified", "Disqualified"
    # Recommendations only: given and waiting on the customer, or actioned.
    RECOMMENDED = "recommended", "Waiting on the customer"
    ACTIONED = "actioned", "Actioned"


# Open leads. A recommendation's open status (RECOMMENDED) is not one of them,
# so the queues, the stale job and the round robin never see recommendations.
OPEN_STATUSES = (TaskStatus.NEW, TaskStatus.IN_PROGRESS, TaskStatus.NURTURING)
RECOMMENDATION_STATUSES = (TaskStatus.RECOMMENDED, TaskStatus.ACTIONED)


class DisqualificationCategory(models.TextChoices):
    AUTO = "auto", "Auto-dispositioned"
    REROUTE = "reroute", "Re-route"
    NOT_A_LEAD = "not_a_lead", "Not a lead"
    UNREACHABLE = "unreachable", "Unreachable"
    FIT = "fit", "Fit"
    TIMING = "timing", "Timing / Economics"
    OTHER = "other", "Other"


class DisqualificationReason(models.TextChoices):
    """The disqualification picklist of sales/overview; CATEGORY maps each to its bucket."""

    BELOW_THRESHOLD_AUTO = "below_threshold_auto", "Below Threshold – Auto"
    STALE_AUTOCLOSED = "stale_autoclosed", "Stale – Autoclosed"
    SUPPORT_REQUEST = "support_request", "Support Request"
    BILLING_SUPPORT_REQUEST = "billing_support_request", "Billing Support Request"
    EXISTING_CUSTOMER_INQUIRY = "existing_customer_inquiry", "Existing Customer Inquiry"
    EVENT_REQUEST = "event_request", "Event Request"
    PARTNERSHIP_REQUEST = "partnership_request", "Partnership Request"
    SPAM = "spam", "Spam"
    DUPLICATE_LEAD = "duplicate_lead", "Duplicate Lead"
    NON_COMMERCIAL = "non_commercial", "Non-Commercial"
    STARTUP_PLAN = "startup_plan", "Startup Plan / YC"
    SELF_HOSTED = "self_hosted", "Self-Hosted Requirement"
    BUSINESS_CLOSED = "business_closed", "Business Closed"
    FEEDBACK = "feedback", "Feedback"
    BAA_DPA = "baa_dpa", "BAA / DPA Request"
    NO_RESPONSE_PASS = "no_response_pass", "No Response – Pass"
    NO_RESPONSE_PROSPECT = "no_response_prospect", "No Response – Prospect"
    INVALID_CONTACT = "invalid_contact", "Invalid Contact Info"
    BELOW_ASSIST_PASS = "below_assist_pass", "Below Sales Assist Threshold – Pass"
    BELOW_ASSIST_PROSPECT = "below_assist_prospect", "Below Sales Assist Threshold – Prospect"
    NOT_A_GOOD_FIT = "not_a_good_fit", "Not a Good Fit"
    NO_TECHNICAL_RESOURCE = "no_technical_resource", "No Technical Resource"
    NO_PRODUCT_FIT = "no_product_fit", "No Product Fit"
    USING_COMPETITOR = "using_competitor", "Using Competitor / Unsolicited RFP"
    NO_BUDGET = "no_budget", "No Budget"
    NO_CURRENT_NEED = "no_current_need", "No Current Need"
    RESOURCE_CONSTRAINTS = "resource_constraints", "Resource Constraints"
    OTHER = "other", "Other"


_R = DisqualificationReason
_C = DisqualificationCategory
DISQUALIFICATION_CATEGORY: dict[str, str] = {
    **dict.fromkeys((_R.BELOW_THRESHOLD_AUTO, _R.STALE_AUTOCLOSED), _C.AUTO),
    **dict.fromkeys(
        (
            _R.SUPPORT_REQUEST,
            _R.BILLING_SUPPORT_REQUEST,
            _R.EXISTING_CUSTOMER_INQUIRY,
            _R.EVENT_REQUEST,
            _R.PARTNERSHIP_REQUEST,
        ),
        _C.REROUTE,
    ),
    **dict.fromkeys(
        (
            _R.SPAM,
            _R.DUPLICATE_LEAD,
            _R.NON_COMMERCIAL,
            _R.STARTUP_PLAN,
            _R.SELF_HOSTED,
            _R.BUSINESS_CLOSED,
            _R.FEEDBACK,
            _R.BAA_DPA,
        ),
        _C.NOT_A_LEAD,
    ),
    **dict.fromkeys(
        (_R.NO_RESPONSE_PASS, _R.NO_RESPONSE_PROSPECT, _R.INVALID_CONTACT), _C.UNREACHABLE
    ),
    **dict.fromkeys(
        (
            _R.BELOW_ASSIST_PASS,
            _R.BELOW_ASSIST_PROSPECT,
            _R.NOT_A_GOOD_FIT,
            _R.NO_TECHNICAL_RESOURCE,
            _R.NO_PRODUCT_FIT,
            _R.USING_COMPETITOR,
        ),
        _C.FIT,
    ),
    **dict.fromkeys((_R.NO_BUDGET, _R.NO_CURRENT_NEED, _R.RESOURCE_CONSTRAINTS), _C.TIMING),
    _R.OTHER: _C.OTHER,
}


class TaskQuerySet(models.QuerySet["Task"]):
    def open(self) -> TaskQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def unassigned(self) -> TaskQuerySet:
        return self.open().filter(assignee__isnull=True)


class Task(models.Model):
    """A unit of inbound work on an account and a contact.

    ``last_touched_at`` is set on assignment and on every touch; the stale job
    (issue 5) reassigns open tasks untouched for 10 days once
    (``reassignment_count``) and then disqualifies them as Stale – Autoclosed.
    ``explanation`` and ``pool`` record the last assignment decision;
    ``unassigned_reason`` says why a task waits in the team leads' queue.
    """

    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="tasks")
    contact = models.ForeignKey(
        "accounts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    source = models.CharField(max_length=20, choices=TaskSource.choices)
    lead_type = models.CharField(max_length=12, choices=LeadType.choices)
    territory = models.ForeignKey(
        Territory, null=True, blank=True, on_delete=models.PROTECT, related_name="tasks"
    )
    message = models.TextField(blank=True)
    score = models.PositiveSmallIntegerField("lead score", default=0, help_text="Out of 70.")
    score_breakdown = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=TaskStatus.choices, default=TaskStatus.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lead_tasks",
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    last_touched_at = models.DateTimeField(null=True, blank=True)
    reassignment_count = models.PositiveSmallIntegerField(default=0)
    explanation = models.TextField(blank=True)
    pool = models.JSONField(
        default=list,
        blank=True,
        help_text="Each candidate at decision time and why it was passed over.",
    )
    unassigned_reason = models.TextField(blank=True)
    disqualification_reason = models.CharField(
        max_length=30, choices=DisqualificationReason.choices, blank=True
    )
    disqualification_comment = models.TextField(blank=True)
    # Raised by a lead rule (leads.generation): the rule's key and what made it
    # fire (rule version, thresholds, the account's values, suggested outcome).
    # A key, not a foreign key, so this app does not depend on the rules' app.
    # Database defaults too: the benchmarks insert tasks with plain SQL.
    lead_rule = models.CharField(max_length=40, blank=True, default="", db_default="")
    rule_facts = models.JSONField(
        default=dict, blank=True, db_default=models.Value({}, output_field=models.JSONField())
    )
    follow_up_on = models.DateField(
        null=True,
        blank=True,
        help_text="Nurture: when to come back. Prospect disqualification: when the follow-up task is due.",
    )
    kind = models.CharField(
        max_length=14, choices=TaskKind.choices, default=TaskKind.LEAD, db_default=TaskKind.LEAD
    )
    due_on = models.DateField(
        null=True,
        blank=True,
        help_text="Recommendation: when the customer should have acted on it (company time zone).",
    )
    follow_up_of = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="follow_up_task",
        help_text="The disqualified task this one follows up (at most one follow-up each).",
    )
    # An intake integration's Idempotency-Key, unique per token (scope "token:<id>";
    # "" for keys from before keys were scoped), and a digest of the request it came
    # with, so the same key with a different lead is refused instead of replayed.
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)
    idempotency_scope = models.CharField(max_length=40, blank=True, default="")
    idempotency_digest = models.CharField(max_length=64, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ("created_at", "id")
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["assignee", "status", "created_at"]),
            models.Index(fields=["status", "last_touched_at"]),
            models.Index(fields=["territory", "status"]),
            models.Index(
                fields=["lead_rule", "account", "created_at"],
                condition=~models.Q(lead_rule=""),
                name="task_lead_rule_account",
            ),
            models.Index(
                fields=["account", "due_on"],
                condition=models.Q(status="recommended"),
                name="task_recommendation_open",
            ),
            models.Index(
                fields=["follow_up_on"],
                condition=models.Q(follow_up_on__isnull=False),
                name="task_follow_up_due",
            ),
        ]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=~models.Q(status=TaskStatus.DISQUALIFIED)
                | ~models.Q(disqualification_reason=""),
                name="task_disqualified_has_reason",
            ),
            models.UniqueConstraint(
                fields=["idempotency_scope", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="task_idempotency_key_per_scope",
            ),
            # A recommendation has a due date and only the recommendation statuses;
            # a lead never has those statuses.
            models.CheckConstraint(
                condition=(
                    models.Q(kind=TaskKind.RECOMMENDATION)
                    & models.Q(status__in=RECOMMENDATION_STATUSES)
                    & models.Q(due_on__isnull=False)
                )
                | (
                    ~models.Q(kind=TaskKind.RECOMMENDATION)
                    & ~models.Q(status__in=RECOMMENDATION_STATUSES)
                ),
                name="task_recommendation_statuses",
            ),
            # A lead rule raises at most one open task per account (issue 18).
            models.UniqueConstraint(
                fields=["account", "lead_rule"],
                condition=models.Q(status__in=OPEN_STATUSES) & ~models.Q(lead_rule=""),
                name="task_one_open_per_account_and_rule",
            ),
        ]

    def __str__(self) -> str:
        return f"Task {self.pk} on {self.account_id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def disqualification_category(self) -> str:
        category = DISQUALIFICATION_CATEGORY.get(self.disqualification_reason, "")
        return DisqualificationCategory(category).label if category else ""


class TaskEventKind(models.TextChoices):
    CREATED = "created", "Created"
    ASSIGNED = "assigned", "Assigned"
    REASSIGNED = "reassigned", "Reassigned"
    UNASSIGNED = "unassigned", "Left unassigned"
    STATUS = "status", "Status changed"
    NOTE = "note", "Note"
    CALL = "call", "Call logged"
    EMAIL = "email", "Email logged"
    DISQUALIFIED = "disqualified", "Disqualified"
    CONVERTED = "converted", "Converted to opportunity"


class TaskEvent(LedgerEntry):
    """Append-only history of a task: who, when, what, why."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=TaskEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty when the round robin or a scheduled job acted.",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    old_value = models.CharField(max_length=200, blank=True)
    new_value = models.CharField(max_length=200, blank=True)
    summary = models.TextField()
    reason = models.TextField(blank=True)
    at = models.DateTimeField(db_column="occurred_at", verbose_name="occurred at")

    class Meta:
        ordering = ("-at", "-id")
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["task", "-at"], name="leads_taske_task_id_bfb94e_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.summary}"

    @property
    def what(self) -> str:
        return str(self)


class OpportunityRecordType(models.TextChoices):
    NEW_REVENUE = "new_revenue", "New Revenue"
    NEW_REVENUE_EXISTING = "new_revenue_existing", "New Revenue – Existing Customer"
    CONVERT_TO_ANNUAL = "convert_to_annual", "Existing – Convert to Annual"
    RENEWAL = "renewal", "Renewal"


class OpportunityType(models.TextChoices):
    ANNUAL = "annual", "Annual Plan"
    MONTHLY = "monthly", "Monthly Plan"


class Opportunity(models.Model):
    """A qualified deal created by converting a task."""

    task = models.OneToOneField(Task, on_delete=models.PROTECT, related_name="opportunity")
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="opportunities"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    record_type = models.CharField(max_length=22, choices=OpportunityRecordType.choices)
    type = models.CharField(max_length=10, choices=OpportunityType.choices)
    amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0))],
        help_text="Dollars.",
    )
    close_date = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at",)
        verbose_name_plural = "opportunities"
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="opportunity_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_record_type_display()} {self.amount} for {self.account_id}"
