"""Billing terms: one-time credits, credit grants, annual contracts, trials, forecast MRR, optimisation exclusions."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import pghistory
from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from .revenue import Product


class CreditReason(models.TextChoices):
    """Reasons offered in Billing Admin → Credits (revops/credits)."""

    FIRST_BIG_BILL = "first_big_bill", "First Big Bill"
    UNWANTED_SPIKE = "unwanted_spike", "Unwanted Spike"
    TRIAL_ACCOMMODATION = "trial_accommodation", "Trial Accommodation"
    PROMO = "promo", "Promo Credit"
    INCIDENT = "incident", "Incident Credit"
    BUG = "bug", "Bug Credit"
    OTHER = "other", "Other"


# "credit is issued for a promo, outage, or a billing correction" (revenue
# adjustments): the reasons that can trigger the one-time credit override.
OVERRIDE_CREDIT_REASONS = frozenset({CreditReason.PROMO, CreditReason.INCIDENT, CreditReason.BUG})


@pghistory.track()
class OneTimeCredit(models.Model):
    """A one-time credit applied to an account's invoice for ``month``."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="one_time_credits"
    )
    month = models.DateField(help_text="First day of the month whose invoice the credit covers.")
    amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text="Dollars.",
    )
    reason = models.CharField(max_length=20, choices=CreditReason.choices)
    notes = models.TextField(blank=True)
    reference_url = models.URLField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("account", "month")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            # The natural key of its import and API: one credit per reason per invoice month.
            models.UniqueConstraint(
                fields=["account", "month", "reason"], name="one_time_credit_natural_key"
            ),
            models.CheckConstraint(
                condition=models.Q(month__day=1), name="one_time_credit_first_of_month"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="one_time_credit_positive"
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["month"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.month:%Y-%m} {self.get_reason_display()}: {self.amount}"


# --- Billing terms (issue 17, part B): credit grants, annual contracts, trials,
# forecast MRR. These tables are the truth; the account columns that older
# rules read (credit_balance, credit_expires_on, annual_discount,
# trial_ends_on, forecasted_mrr, current_period_ends_on) are a projection of
# them, written only by billing.terms.refresh_account_terms.


class CreditGrantKind(models.TextChoices):
    """customer-billing-configurations: startup plan credits, enterprise credit purchases."""

    STARTUP = "startup", "Startup plan credits"
    ENTERPRISE = "enterprise", "Enterprise credit purchase"


@pghistory.track()
class CreditGrant(models.Model):
    """Credits granted to an account: a startup plan's free credits or an enterprise purchase.

    Natural key: account, kind, granted_on. The account is "on credits" from
    ``granted_on`` until ``expires_on`` or ``depleted_on``, whichever comes first.
    """

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="credit_grants"
    )
    kind = models.CharField(max_length=10, choices=CreditGrantKind.choices)
    granted_on = models.DateField()
    expires_on = models.DateField()
    amount = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="Credits granted, dollars."
    )
    balance = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="Credits left as billing reports them, dollars."
    )
    paid_amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal(0),
        help_text="What the customer paid for the credits (enterprise), dollars; 0 for startup.",
    )
    depleted_on = models.DateField(
        null=True, blank=True, help_text="The day the credits ran out, if they did."
    )
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ("account", "-granted_on")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["account", "kind", "granted_on"], name="credit_grant_natural_key"
            ),
            models.CheckConstraint(
                condition=models.Q(expires_on__gt=models.F("granted_on")),
                name="credit_grant_expires_after_grant",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0, balance__gte=0, paid_amount__gte=0)
                & models.Q(balance__lte=models.F("amount")),
                name="credit_grant_amounts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.get_kind_display()} {self.granted_on}: {self.amount}"


@pghistory.track()
class AnnualContract(models.Model):
    """An annual contract: its term, annual amount and discount. Natural key: account, starts_on.

    The monthly run rate is ``annual_amount / 12`` (sales/how-we-work: usage
    beyond it counts for quota).
    """

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="annual_contracts"
    )
    starts_on = models.DateField()
    ends_on = models.DateField(help_text="Last day of the contract.")
    annual_amount = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="Committed spend per year, dollars."
    )
    discount_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        help_text="Annual plan discount, percent (20 = 20%).",
    )
    converted_from_monthly = models.BooleanField(
        default=False,
        help_text="Converted from monthly under the old commission plan: no usage beyond the "
        "run rate counts for quota in the contract's first year (no double dipping).",
    )

    class Meta:
        ordering = ("account", "-starts_on")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["account", "starts_on"], name="annual_contract_natural_key"
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__gt=models.F("starts_on")),
                name="annual_contract_ends_after_start",
            ),
            models.CheckConstraint(
                # >= 0: contracts migrated from the account's discount field have
                # no known amount (0); the validator asks for more than $0.
                condition=models.Q(
                    annual_amount__gte=0, discount_percent__gte=0, discount_percent__lt=100
                ),
                name="annual_contract_amounts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.starts_on}–{self.ends_on}: {self.annual_amount}"

    @property
    def run_rate(self) -> Decimal:
        """Monthly run rate, dollars: the annual amount ÷ 12."""
        return (self.annual_amount / 12).quantize(Decimal("0.01"))


class TrialKind(models.TextChoices):
    SALES_ASSISTED = "sales_assisted", "Sales-assisted trial"
    CROSS_SELL = "cross_sell", "Cross-sell trial"
    FREE_USAGE = "free_usage", "Billing-admin free usage"


class FourWeekReason(models.TextChoices):
    """sales/trials, "Extend to 4 weeks when" (besides a deal over $60K ARR)."""

    COMPLEX_ENVIRONMENT = "complex_environment", "Complex technical environment"
    MULTIPLE_STAKEHOLDERS = "multiple_stakeholders", "Multiple stakeholder validation"
    COMPETITIVE_EVALUATION = "competitive_evaluation", "Evaluating alongside other products"


class TrialOutcome(models.TextChoices):
    WON = "won", "Won"
    LOST = "lost", "Lost"


@pghistory.track()
class Trial(models.Model):
    """A trial on an account. Natural key: account, kind, starts_on.

    ``ends_on`` is the end agreed at the start; extensions move the end by
    their days (``TrialExtension``).
    """

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="trials")
    kind = models.CharField(max_length=14, choices=TrialKind.choices)
    product = models.ForeignKey(
        Product,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="trials",
        help_text="The product on trial; empty for the whole platform.",
    )
    starts_on = models.DateField()
    ends_on = models.DateField(
        help_text="The day the trial expires, as agreed (before extensions)."
    )
    deal_arr = models.DecimalField(
        "deal value (ARR)",
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Expected ARR of the deal, dollars; sets the trial length (sales/trials).",
    )
    four_week_reason = models.CharField(max_length=22, choices=FourWeekReason.choices, blank=True)
    sdk_live_on = models.DateField(
        "Day 0 (SDK live)",
        null=True,
        blank=True,
        help_text="SDK installed and events firing: the trial goes no further before it.",
    )
    success_criteria = models.TextField(blank=True)
    outcome = models.CharField(max_length=4, choices=TrialOutcome.choices, blank=True)

    class Meta:
        ordering = ("-starts_on", "account")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["account", "kind", "starts_on"], name="trial_natural_key"
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="trial_ends_after_start",
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["ends_on"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.get_kind_display()} from {self.starts_on}"


@pghistory.track()
class TrialExtension(models.Model):
    """Days added to a trial, with why and what we get in return (sales/trials).

    Natural key: trial, granted_on.
    """

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="extensions")
    granted_on = models.DateField()
    days = models.PositiveSmallIntegerField()
    reason = models.TextField()
    get = models.TextField(help_text='The "get": what the customer gives in return.')

    class Meta:
        ordering = ("trial", "granted_on")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["trial", "granted_on"], name="trial_extension_natural_key"
            ),
            models.CheckConstraint(
                condition=models.Q(days__gte=7, days__lte=30), name="trial_extension_7_to_30_days"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trial_id} +{self.days} days ({self.granted_on})"


@pghistory.track()
class ForecastMrr(models.Model):
    """Billing's forecast MRR for an account's current period. Natural key: account, period_ends_on."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="mrr_forecasts"
    )
    period_ends_on = models.DateField(help_text="End of the billing period forecast.")
    amount = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
    )

    class Meta:
        ordering = ("account", "-period_ends_on")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["account", "period_ends_on"], name="forecast_mrr_natural_key"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="forecast_mrr_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.period_ends_on}: {self.amount}"


class ExclusionStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    LEAD_APPROVED = "lead_approved", "Approved by team lead"
    APPROVED = "approved", "Approved"
    DECLINED = "declined", "Declined"


@pghistory.track()
class OptimisationExclusion(models.Model):
    """A usage drop the TAM caused by optimising the customer's spend, asked to be
    left out of quota (sales/how-we-work): evidence, team lead, then a manager."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="optimisation_exclusions"
    )
    quarter = models.DateField(help_text="First day of the quarter whose drop is excluded.")
    amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text="ARR drop to exclude, dollars.",
    )
    evidence = models.TextField(help_text="What was optimised, when, and the customer's words.")
    evidence_url = models.URLField(blank=True)
    status = models.CharField(
        max_length=13, choices=ExclusionStatus.choices, default=ExclusionStatus.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    lead_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lead_decided_at = models.DateTimeField(null=True, blank=True)
    manager_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    manager_decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(blank=True)

    class Meta:
        ordering = ("-requested_at",)
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["account", "quarter"],
                condition=~models.Q(status="declined"),
                name="one_live_exclusion_per_account_quarter",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="exclusion_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.quarter:%Y-%m}: {self.amount} ({self.status})"
