"""The revenue page's summaries: lifecycle components and NDR/GDR sums per month
(company total and per product), the month's biggest movers, the adjusted
revenue per customer and month they aggregate, and the months still to
recompute. Written only by ``billing.summary``; read by the revenue
pages (revops/lifecycle-analysis, revops/retention-metrics)."""

from __future__ import annotations

from typing import ClassVar

from django.db import models


class RevenueMonthSummary(models.Model):
    """One month's lifecycle components, at company level (``product_id`` 0) or one
    product's, on one basis (adjusted or not), with the NDR/GDR sums of the 3-, 6-
    and 12-month bases (company level only; zero per product).

    ``billing.summary`` writes it from the stored adjusted amounts
    (``RevenueCustomerMonth``) with ``billing.lifecycle``'s stages and sums, a range of
    months at a time; ``billing/tests/test_summary.py`` holds it equal to
    ``lifecycle_components``.
    """

    adjusted = models.BooleanField()
    month = models.DateField(help_text="First day of the month.")
    # 0 for the company total; a product's id otherwise (no foreign key: 0 is not one).
    product_id = models.IntegerField()
    total = models.DecimalField(max_digits=16, decimal_places=2, help_text="Dollars.")
    baseline = models.DecimalField(max_digits=16, decimal_places=2, help_text="Dollars.")
    new = models.DecimalField(max_digits=16, decimal_places=2, help_text="Dollars.")
    reactivated = models.DecimalField(max_digits=16, decimal_places=2, help_text="Dollars.")
    retained = models.DecimalField(max_digits=16, decimal_places=2, help_text="Dollars.")
    expansion = models.DecimalField(max_digits=16, decimal_places=2, help_text="Dollars.")
    contraction = models.DecimalField(max_digits=16, decimal_places=2, help_text="Dollars.")
    churned = models.DecimalField(max_digits=16, decimal_places=2, help_text="Dollars.")
    ret_base_3 = models.DecimalField(max_digits=16, decimal_places=2, help_text="Dollars.")
    ret_now_3 = models.DecimalField(max_digits=16, decimal_places=2, help_text="Dollars.")
    ret_gross_3 = models.DecimalField(max_digits=16, decimal_places=2, help_text="Dollars.")
    ret_base_6 = models.DecimalField(max_digits=16, decimal_places=2, help_text="Dollars.")
    ret_now_6 = models.DecimalField(max_digits=16, decimal_places=2, help_text="Dollars.")
    ret_gross_6 = models.DecimalField(max_digits=16, decimal_places=2, help_text="Dollars.")
    ret_base_12 = models.DecimalField(max_digits=16, decimal_places=2, help_text="Dollars.")
    ret_now_12 = models.DecimalField(max_digits=16, decimal_places=2, help_text="Dollars.")
    ret_gross_12 = models.DecimalField(max_digits=16, decimal_places=2, help_text="Dollars.")

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["adjusted", "month", "product_id"], name="revenue_month_summary_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} product {self.product_id} adjusted={self.adjusted}"


class RevenueMover(models.Model):
    """One of a month's biggest gainers (``up`` ≤ 10) or losers (``down`` ≤ 10)."""

    adjusted = models.BooleanField()
    month = models.DateField(help_text="First day of the month.")
    # The customer account (consolidations fold into it); names are read live.
    customer = models.ForeignKey(
        "accounts.Account", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    prev = models.DecimalField(max_digits=16, decimal_places=2, help_text="Dollars.")
    amount = models.DecimalField(max_digits=16, decimal_places=2, help_text="Dollars.")
    up = models.IntegerField(help_text="Rank among the month's gainers.")
    down = models.IntegerField(help_text="Rank among the month's losers.")

    class Meta:
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["adjusted", "month"], name="revenue_mover_month")
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.customer_id}"


class RevenueCustomerMonth(models.Model):
    """One customer's revenue in one month on one basis after the adjustments
    (``billing.adjustments``), at the company level (``product_id`` 0; the
    per-product levels are computed from the month and the one before without
    storing anything per customer). Only non-zero amounts have a row (a missing
    month is $0), and on the adjusted basis the months whose billed amount is
    non-zero.

    The input the summaries aggregate, so a refresh re-applies the adjustments
    only for the months whose inputs changed (``billing.summary``).
    """

    # Month first after the basis: a refresh reads and replaces ranges of months.
    pk = models.CompositePrimaryKey("adjusted", "month", "product_id", "customer_id")
    adjusted = models.BooleanField()
    product_id = models.IntegerField()
    # The customer account (consolidations fold into it); no foreign key, as movers.
    customer_id = models.BigIntegerField()
    month = models.DateField(help_text="First day of the month.")
    amount = models.DecimalField(max_digits=16, decimal_places=2, help_text="Dollars.")
    # Unrounded (PostgreSQL numeric without a scale: a discount's division keeps its
    # digits), so rules 4 and 5 compare exactly what they compare on the revenue rows.
    billed = models.DecimalField(
        null=True,
        help_text="Dollars before rules 4 and 5 of billing.adjustments (rules 1-3 and the "
        "billing configurations applied), unrounded; the adjusted company level only (a "
        "refresh reads it for the months before the first one changed), else empty.",
    )

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} customer {self.customer_id} product {self.product_id}"


class RevenueFirstPaid(models.Model):
    """The first month a customer (or customer and product) had revenue on one
    basis, before the one-time-credit and spike rules: a month with revenue
    after it is "reactivated", not "new" (revops/lifecycle-analysis)."""

    pk = models.CompositePrimaryKey("adjusted", "product_id", "customer_id")
    adjusted = models.BooleanField()
    product_id = models.IntegerField()
    customer_id = models.BigIntegerField()
    month = models.DateField(help_text="First day of the month.")

    def __str__(self) -> str:
        return f"customer {self.customer_id} product {self.product_id} from {self.month:%Y-%m}"


class RevenueSummaryDirty(models.Model):
    """A month from which the summaries must be recomputed (through the latest).

    Inserted by PostgreSQL triggers on every input of the revenue figures
    (monthly revenue, credit grants, annual contracts, trials and their
    extensions, one-time credits, consolidations, an account's trial plan:
    migration 0011), so every writer marks what it touched; consumed by
    ``billing.summary.refresh_revenue_summary``. 1900-01-01 means "everything".
    """

    month = models.DateField(unique=True)

    def __str__(self) -> str:
        return f"from {self.month:%Y-%m}"


class RevenueSummaryChange(models.Model):
    """A monthly revenue row written since the last refresh, with its amount before
    the first such write (NULL: there was no row), so the refresh can recompute its
    account alone and the months' sums by difference (``billing.summary``).

    Inserted by the PostgreSQL triggers on monthly revenue (migration 0016) for a
    statement of at most ``billing.revenue_change_rows`` rows (default 10,000); a
    larger one (a month's import) marks its first month in ``RevenueSummaryDirty``
    instead, for every account. The first write since the refresh wins (ON CONFLICT
    DO NOTHING): it holds the amount the stored summaries were computed from.
    """

    pk = models.CompositePrimaryKey("account_id", "product_id", "month")
    # No foreign keys: a deleted account's rows are changes too.
    account_id = models.BigIntegerField()
    product_id = models.IntegerField()
    month = models.DateField(help_text="First day of the month.")
    old_amount = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, help_text="Dollars; NULL: no row before."
    )

    def __str__(self) -> str:
        return f"{self.account_id} {self.product_id} {self.month:%Y-%m} (was {self.old_amount})"
