from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import F
from django.db.models.functions import Lower

from revopsweb.models import LedgerEntry

from .staff import Region


class OwnerRole(models.TextChoices):
    TAE = "TAE", "TAE"
    TAM = "TAM", "TAM"
    CSM = "CSM", "CSM"


class Plan(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    # sales/lead-scoring: "high ICP score and subscribe to the Scale plan".
    SCALE = "scale", "Scale"
    ANNUAL = "annual", "Annual"
    STARTUP = "startup", "Startup / YC credits"
    TRIAL = "trial", "Trial"


class Health(models.TextChoices):
    GOOD = "good", "Good"
    FAIR = "fair", "Fair"
    POOR = "poor", "Poor"


class NewOwnerTrait(models.TextChoices):
    US_TAM = "us_tam", "US TAM"
    US_CSM = "us_csm", "US CSM"
    EU_TAM = "eu_tam", "EU TAM"
    EU_CSM = "eu_csm", "EU CSM"
    READY_TO_MOVE = "ready_to_move", "Ready to move"


# The region and owner role each regional trait asks for (sales/account-allocation).
ASSIGNABLE_TRAITS: dict[NewOwnerTrait, tuple[Region, OwnerRole]] = {
    NewOwnerTrait.US_TAM: (Region.US, OwnerRole.TAM),
    NewOwnerTrait.US_CSM: (Region.US, OwnerRole.CSM),
    NewOwnerTrait.EU_TAM: (Region.EU, OwnerRole.TAM),
    NewOwnerTrait.EU_CSM: (Region.EU, OwnerRole.CSM),
}


# Accounts the allocation queue reviews whatever their ARR: a new-owner trait is set,
# or a CSM owns them (sales/account-allocation). A partial index on it lets the
# queue find them without reading every account (issue 20).
TRAIT_OR_CSM = ~models.Q(new_owner_trait="") | models.Q(owner_role=OwnerRole.CSM)


# Every change of an account's fields is recorded (who, when, source) by
# django-pghistory's triggers, except its owner: OwnershipChange records those
# moves with their reason (accounts/ownership.py).
@pghistory.track(exclude=["owner", "owner_role", "owner_since", "updated_at"])
class Account(models.Model):
    """A customer account (one PostHog organization)."""

    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=200, blank=True)
    organization_id = models.CharField(
        "organization id",
        max_length=64,
        unique=True,
        help_text="The product's external organization id.",
    )
    country = models.CharField(
        "HQ country", max_length=2, blank=True, help_text="ISO 3166 alpha-2 code."
    )
    region = models.CharField(max_length=2, choices=Region.choices, blank=True)
    territory = models.ForeignKey(
        "leads.Territory", null=True, blank=True, on_delete=models.SET_NULL, related_name="accounts"
    )
    employee_count = models.PositiveIntegerField(null=True, blank=True)
    business_type = models.CharField(max_length=60, blank=True)
    plan = models.CharField(max_length=10, choices=Plan.choices, default=Plan.MONTHLY)
    credit_balance = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(0))
    credit_expires_on = models.DateField(null=True, blank=True)
    has_discount_agreement = models.BooleanField(default=False)
    annual_discount = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        null=True,
        blank=True,
        help_text="Annual plan discount as a fraction (0.2 = 20%).",
    )
    renewal_date = models.DateField(null=True, blank=True)
    health = models.CharField(max_length=4, choices=Health.choices, blank=True)
    active_users_30d = models.PositiveIntegerField("active users (30 days)", null=True, blank=True)
    last_contact_at = models.DateTimeField(null=True, blank=True)
    first_paid_month = models.DateField(null=True, blank=True)
    trial_ends_on = models.DateField(
        null=True, blank=True, help_text="Free trial until (billing); Active trial segment."
    )
    current_period_ends_on = models.DateField(
        null=True, blank=True, help_text="End of the current billing period (Stripe)."
    )
    forecasted_mrr = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Forecasted MRR for the current period (billing); first-payment segment.",
    )

    # Ownership. Changes go through accounts.ownership.change_account_owner,
    # which records each move in OwnershipChange.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_accounts",
    )
    owner_role = models.CharField(max_length=3, choices=OwnerRole.choices, blank=True)
    owner_since = models.DateField(null=True, blank=True)
    tam_overlay = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="overlay_accounts",
        help_text="TAM working alongside the CSM owner.",
    )
    onboarding_specialist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="onboarding_accounts",
    )
    new_owner_trait = models.CharField(max_length=13, choices=NewOwnerTrait.choices, blank=True)
    am_managed = models.BooleanField(
        "AM managed",
        default=False,
        help_text="Counts for the owner's quota. Set by a team lead or manager.",
    )
    is_lead = models.BooleanField(
        "leads state",
        default=False,
        help_text="A TAM is working it, but it is not in the managed book.",
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name",)
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["owner", "name"]),
            # The id lets intake's "lowest id with this domain" lookup stop at
            # the first index entry; on lower(domain) alone PostgreSQL may
            # walk the primary key and filter, a scan of every account.
            models.Index(Lower("domain"), F("id"), name="account_domain_lower"),
            models.Index(fields=["id"], condition=TRAIT_OR_CSM, name="account_trait_or_csm"),
            # The owned accounts' ids, read whole (an index-only scan): the allocation
            # queue leaves them out of its $20k+ unowned accounts. Read through the
            # owner index, each of the ~10,000 rows' heap pages was visited (about
            # 20 ms of the queue's statement at 100,000 accounts; issue 20).
            models.Index(
                fields=["id"], condition=models.Q(owner__isnull=False), name="account_owned"
            ),
        ]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=models.Q(owner__isnull=True) | ~models.Q(owner_role=""),
                name="account_owner_has_role",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OwnershipChange(LedgerEntry):
    """Append-only history of who owned an account: who moved it, when, why."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="ownership_changes")
    previous_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    new_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    new_owner_role = models.CharField(max_length=3, choices=OwnerRole.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_column="changed_by_id",
        verbose_name="changed by",
        help_text="Empty when a scheduled job or the round robin made the change.",
    )
    at = models.DateTimeField(db_index=True, db_column="changed_at", verbose_name="changed at")
    effective_on = models.DateField(help_text="The day the new owner took the account.")
    reason = models.TextField()
    source = models.CharField(
        max_length=40, help_text="What made the change: round robin, handover, import, …"
    )
    task = models.ForeignKey(
        "leads.Task",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The round-robin task this change came with (the account follows that task "
        "when it is reassigned); empty for every other change.",
    )

    class Meta:
        ordering = ("-at", "-id")
        get_latest_by = "at"

    def __str__(self) -> str:
        return f"{self.account}: {self.previous_owner} → {self.new_owner}"

    @property
    def what(self) -> str:
        return (
            f"{self.account}: owner {self.previous_owner or 'none'} → "
            f"{self.new_owner or 'none'} ({self.source})"
        )


class Contact(models.Model):
    """A person at a customer account."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=150)
    email = models.EmailField()
    title = models.CharField(max_length=150, blank=True)
    is_champion = models.BooleanField(default=False)
    left_company_on = models.DateField(
        null=True,
        blank=True,
        help_text="Set when the person left; a champion leaving is a churn signal.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name",)
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                Lower("email"), "account", name="contact_email_unique_per_account"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class ActivityKind(models.TextChoices):
    NOTE = "note", "Note"
    CALL = "call", "Call"
    MEETING = "meeting", "Meeting"
    EMAIL = "email", "Email"
    SLACK = "slack", "Slack message"
    SUPPORT_TICKET = "support_ticket", "Support ticket"
    DATA_EXPORT = "data_export", "Full data export requested"
    BILLING_PAGE_VISIT = "billing_page_visit", "Billing page visit"
    PAYMENT_FAILED = "payment_failed", "Payment failed"


class Activity(models.Model):
    """Something that happened on an account: who, when, what.

    ``from_customer`` separates the customer's own messages (a reply, a Slack
    message) from our outreach; churn signals and receiving flags need that.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="activities")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    kind = models.CharField(max_length=20, choices=ActivityKind.choices)
    from_customer = models.BooleanField(default=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    occurred_at = models.DateTimeField(db_index=True)
    summary = models.CharField(max_length=300)
    body = models.TextField(blank=True)

    class Meta:
        ordering = ("-occurred_at", "-id")
        verbose_name_plural = "activities"
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["account", "kind", "-occurred_at"])
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.summary}"


class AccountSnapshot(models.Model):
    """One account's usage and health for one week (week starts Monday).

    Arrives by CSV import and the JSON API; health history, active users and
    usage signals are read from here.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="snapshots")
    week = models.DateField(help_text="Monday of the week.")
    health = models.CharField(max_length=4, choices=Health.choices, blank=True)
    active_users_30d = models.PositiveIntegerField(null=True, blank=True)
    events = models.BigIntegerField(null=True, blank=True, help_text="Events ingested in the week.")
    support_tickets = models.PositiveIntegerField(null=True, blank=True)
    billing_page_visits = models.PositiveIntegerField(null=True, blank=True)
    warehouse_export_rows = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="Rows exported to the customer's external warehouse (batch exports) in the week.",
    )

    # What a snapshot measures, in the order imports, the API form and the demo use.
    MEASURES: ClassVar[tuple[str, ...]] = (
        "health",
        "active_users_30d",
        "events",
        "support_tickets",
        "billing_page_visits",
        "warehouse_export_rows",
    )

    class Meta:
        ordering = ("account", "-week")
        get_latest_by = "week"
        # The nightly churn signals read the last 100 days and two months a
        # year back of every account (accounts.churn.signals): an index-only
        # scan of those weeks instead of reading all two years of snapshots.
        indexes: ClassVar[list[models.Index]] = [
            models.Index(
                fields=["week"],
                include=[
                    "account",
                    "health",
                    "events",
                    "support_tickets",
                    "billing_page_visits",
                    "active_users_30d",
                    "warehouse_export_rows",
                ],
                name="snapshot_week_churn",
            )
        ]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["account", "week"], name="snapshot_one_per_week"),
            models.CheckConstraint(
                condition=models.Q(week__week_day=2), name="snapshot_week_is_monday"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} week of {self.week}"


# Token scopes of input kinds declared by apps built on the core (billing's fact
# kinds), added in their AppConfig.ready: the core cannot import them.
_REGISTERED_TOKEN_SCOPES: dict[str, str] = {}


def register_token_scope(value: str, label: str) -> None:
    """Offer ``value`` (at most 20 characters) as an integration token scope named ``label``."""
    if len(value) > 20:
        raise ValueError(f"Token scope {value!r} is longer than 20 characters.")
    _REGISTERED_TOKEN_SCOPES[value] = label


def token_scope_choices() -> list[tuple[str, str]]:
    """The core's token scopes, then every registered one (callable choices: a new scope
    needs no migration)."""
    return [*IntegrationToken.Scope.choices, *_REGISTERED_TOKEN_SCOPES.items()]


class IntegrationToken(models.Model):
    """A per-integration API token, created by RevOps in the admin.

    Only a SHA-256 digest is stored; the token itself is shown once, on creation.
    """

    class Scope(models.TextChoices):
        INTAKE = "intake", "Lead intake"
        SNAPSHOTS = "snapshots", "Usage and health snapshots"
        REVENUE = "revenue", "Monthly revenue"

    name = models.CharField(
        max_length=100, unique=True, help_text="Which integration uses it, e.g. 'Website form'."
    )
    scope = models.CharField(max_length=20, choices=token_scope_choices)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        max_length=8, editable=False, help_text="First characters, to recognise a token."
    )
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AccountPlan(models.Model):
    """One quarter's account plan (sales/account-planning), one per account and quarter.

    Past quarters' plans stay as the plan history. Titled
    "Q[n] Account Plan – [Company]"; the sections follow the handbook template
    and the risk-mitigation page.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="plans")
    quarter_start = models.DateField(help_text="First day of the plan's quarter.")
    title = models.CharField(max_length=250)
    overview = models.TextField(blank=True)
    objectives = models.TextField(blank=True)
    stakeholders = models.TextField(blank=True)
    products_cross_sell = models.TextField("products and cross-sell", blank=True)
    risks = models.TextField(blank=True)
    action_items = models.TextField(blank=True)
    levers_tried = models.TextField(
        "expansion levers tried",
        blank=True,
        help_text="What was tried to grow the account (needed before declaring no levers).",
    )
    no_viable_levers = models.BooleanField(
        "no viable expansion levers",
        default=False,
        help_text="Every avenue for growth is exhausted; the account should leave the TAM book.",
    )
    plan_above_20k = models.BooleanField(
        "documents a plan above $20k ARR",
        default=False,
        help_text="A specific plan to get the account above $20k ARR this quarter.",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("account", "-quarter_start")
        get_latest_by = "quarter_start"
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["account", "quarter_start"], name="account_plan_one_per_quarter"
            ),
            models.CheckConstraint(
                condition=models.Q(quarter_start__day=1)
                & models.Q(quarter_start__month__in=[1, 4, 7, 10]),
                name="account_plan_quarter_start",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class TopAccount(models.Model):
    """Cache of the Top 40 accounts by ARR for one month.

    Ranking every account's revenue costs a scan of the month's revenue rows
    (about 90 ms at 100,000 accounts) on every page that marks Top 40, so
    ``accounts.segments.refresh_top_accounts`` stores the ranking after
    revenue changes and hourly. When a month has no cached rows the pages store
    its ranking before their query (``rank_top_accounts_if_unranked``), so their
    statements read only this table.
    """

    month = models.DateField(help_text="The month the ranking is for (first day).")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField()
    arr = models.DecimalField(max_digits=14, decimal_places=2)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ("month", "rank")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["month", "account"], name="top_account_once_per_month"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} #{self.rank}: {self.account_id}"
