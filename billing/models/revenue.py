"""Products, monthly revenue, its per-account MRR rollup and consolidations."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import pghistory
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

# A product counts as paid in a month when its revenue that month exceeds this:
# for segments, books and handovers (paid products) and for quota's
# cross-sell multiplier alike.
PAID_PRODUCT_MIN = Decimal(200)


@pghistory.track()
class Product(models.Model):
    """A row of the product catalog, edited by RevOps."""

    key = models.SlugField(
        max_length=40, unique=True, help_text="Stable key used in imports, e.g. session_replay."
    )
    name = models.CharField(max_length=80)
    is_core = models.BooleanField(
        "core",
        default=False,
        help_text="One of the three primary products of the allocation rules.",
    )
    counts_for_cross_sell = models.BooleanField(
        "counts for cross-sell multiplier",
        default=False,
        help_text="Counts towards the TAM quota's cross-sell multiplier.",
    )
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ("sort_order", "name")

    def __str__(self) -> str:
        return self.name


@pghistory.track()
class MonthlyRevenue(models.Model):
    """What an account was invoiced for one product in one month."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="monthly_revenue"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="monthly_revenue")
    month = models.DateField(help_text="First day of the month.")
    amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0))],
        help_text="Dollars.",
    )

    class Meta:
        ordering = ("account", "month", "product")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["account", "month", "product"], name="monthly_revenue_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(month__day=1), name="monthly_revenue_first_of_month"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="monthly_revenue_not_negative"
            ),
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["month", "product"]),
            # The paid products of a month, read without the table: "every core product
            # paid" is asked of each of the ~5,400 CSM accounts on the allocation page
            # (100,000 accounts), one index-only probe each. Month first, so one month's
            # probes share a few hundred leaf pages. A quarter of the rows are over $200.
            models.Index(
                fields=["month", "account", "product"],
                condition=models.Q(amount__gt=PAID_PRODUCT_MIN),
                name="monthly_revenue_paid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.product_id} {self.month:%Y-%m}: {self.amount}"


class AccountMonthMrr(models.Model):
    """One account's MRR in one month: the sum of its MonthlyRevenue rows.

    Maintained by PostgreSQL itself (statement-level triggers on
    billing_monthlyrevenue, migration 0006), so every writer (CSV import, API,
    admin, demo seed's COPY, test factories) keeps it exact without calling
    anything; a row exists exactly when the account has revenue rows that
    month. Pages join it once per row (``accounts.segments.with_revenue``)
    instead of summing the revenue table in a subquery for each figure that
    reads MRR. Never written by the app.
    """

    # No foreign key constraint: the row goes away with its revenue rows (the
    # trigger), which an account's deletion cascades to.
    account = models.ForeignKey(
        "accounts.Account",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the unique (account, month) index serves it
        related_name="monthly_mrr",
    )
    month = models.DateField(help_text="First day of the month.")
    mrr = models.DecimalField(max_digits=14, decimal_places=2, help_text="Dollars.")
    revenue_rows = models.IntegerField(
        help_text="MonthlyRevenue rows summed (the row is deleted at 0)."
    )
    # For the single-product churn signal (accounts.churn.signals), which then
    # reads one month of this table instead of every page of the revenue table.
    billed_products = models.IntegerField(
        db_default=0, help_text="Products billed this month: revenue rows with amount > 0."
    )
    # The sum of those rows' product ids: a signed delta like the counts, so the
    # triggers keep it exact under any write; when billed_products is 1 it is
    # that one product's id.
    billed_product_id_sum = models.BigIntegerField(
        db_default=0,
        help_text="Sum of the billed products' ids (the product's id when exactly one).",
    )

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["account", "month"], name="account_month_mrr_unique"),
        ]
        # The Top 40 by ARR of a month is an index scan of 40 entries.
        indexes: ClassVar[list[models.Index]] = [
            models.Index("month", models.F("mrr").desc(), "account", name="account_month_mrr_rank")
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.month:%Y-%m}: {self.mrr}"


@pghistory.track()
class Consolidation(models.Model):
    """One account whose revenue belongs to another customer account.

    Used by the adjusted revenue (revops/revenue-adjustments, "Account
    consolidations"): an EU → US move or a second team of the same organization
    is counted as the surviving ``customer`` account, so the move is not churn.
    """

    account = models.OneToOneField(
        "accounts.Account",
        on_delete=models.CASCADE,
        related_name="consolidation",
        help_text="The account whose revenue is folded into the customer.",
    )
    customer = models.ForeignKey(
        "accounts.Account",
        on_delete=models.CASCADE,
        related_name="consolidated_accounts",
        help_text="The account that stands for the whole customer.",
    )
    reason = models.CharField(max_length=200, help_text="e.g. moved from EU to US cloud.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=~models.Q(account=models.F("customer")),
                name="consolidation_not_into_itself",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} → {self.customer_id}"

    def clean(self) -> None:
        # One level only: the adjusted revenue folds an account into its
        # customer once, so a customer must not itself be folded elsewhere.
        if self.customer_id and Consolidation.objects.filter(account_id=self.customer_id).exists():
            raise ValidationError({"customer": "That account is itself consolidated into another."})
        if (
            self.account_id
            and Consolidation.objects.filter(customer_id=self.account_id)
            .exclude(pk=self.pk)
            .exists()
        ):
            raise ValidationError(
                {"account": "Other accounts are consolidated into this one; move those first."}
            )
