from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.core.validators import MinValueValidator
from django.db import models


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
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["month", "product"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.product_id} {self.month:%Y-%m}: {self.amount}"


class Invoice(models.Model):
    """An invoice sent to an account; open or failed invoices block handovers and signal churn."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PAID = "paid", "Paid"
        FAILED = "failed", "Payment failed"
        VOID = "void", "Void"

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="invoices"
    )
    number = models.CharField(max_length=40, unique=True)
    issued_on = models.DateField()
    due_on = models.DateField()
    amount = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
    )
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.OPEN)
    paid_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ("-issued_on",)
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["account", "status"])]

    def __str__(self) -> str:
        return f"{self.number} ({self.get_status_display()})"
