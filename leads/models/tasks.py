from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from revopsweb.models import LedgerEntry

from .tracker import LeadType, Territory


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


# Sources only the jobs set, never offered or accepted on the new task form: lead
# generation's rules (leads/generation/generate.py) and the follow-ups of prospect
# disqualifications (leads/followups.py).
SYSTEM_ONLY_SOURCES: frozenset[str] = frozenset({TaskSource.LEAD_RULE, TaskSource.FOLLOW_UP})


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

# Reasons only the system sets, never offered or accepted by hand: the stale job
# closes a task still untouched after its reassignment (leads/stale.py). The other
# Auto-dispositioned reason, Below Threshold – Auto, is one a person picks: "mark
# the task Below Threshold – Auto" to start the automated onboarding flow
# (sales/overview, "Below Threshold – Auto (Customer.io)").
SYSTEM_ONLY_REASONS: frozenset[str] = frozenset({_R.STALE_AUTOCLOSED})


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
    # No index of its own: Meta's (territory, status) serves every lookup by territory,
    # and each index of this table is written again by every reassignment.
    territory = models.ForeignKey(
        Territory,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
        db_index=False,
    )
    message = models.TextField(blank=True)
    score = models.PositiveSmallIntegerField("lead score", default=0, help_text="Out of 70.")
    score_breakdown = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=TaskStatus.choices, default=TaskStatus.NEW)
    # No index of its own: Meta's (assignee, status, created_at) leads with it.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lead_tasks",
        db_index=False,
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
            # The tracker's unassigned queue, oldest first (leads.tracker_views._queue):
            # without it every unassigned lead of the territory was read, joined to its
            # account and sorted for the first 100 (8,020 of them after the bench's
            # assignment run: 27 against 0.35 ms on the 100k bench database).
            models.Index(
                fields=["created_at"],
                condition=models.Q(kind="lead", assignee__isnull=True, status__in=OPEN_STATUSES),
                name="task_unassigned_queue",
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

    # No index of its own: Meta's (task, -at) leads with it.
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="events", db_index=False)
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
