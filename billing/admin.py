from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest

from revopsweb.imports import RowValidatedModelForm

from .facts import FactAdmin, fact_admin_form, revenue_facts_changed
from .forms import MonthlyRevenueRowForm
from .invoices import InvoiceImport, PaymentAttemptImport
from .models import (
    Consolidation,
    Invoice,
    MonthlyRevenue,
    OneTimeCredit,
    PaymentAttempt,
    Product,
)
from .term_admin import OneTimeCreditAdminForm
from .term_imports import OneTimeCreditImport


class _InvalidatesRevenueCache(admin.ModelAdmin[Any]):
    """Revenue inputs edited here change the cached revenue numbers and the Top 40,
    as an import does (``billing.facts.revenue_facts_changed``)."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        transaction.on_commit(revenue_facts_changed, robust=True)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        transaction.on_commit(revenue_facts_changed, robust=True)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        super().delete_queryset(request, queryset)
        transaction.on_commit(revenue_facts_changed, robust=True)


@admin.register(Product)
class ProductAdmin(_InvalidatesRevenueCache):
    list_display = ("name", "key", "is_core", "counts_for_cross_sell", "is_active", "sort_order")
    list_editable = ("is_core", "counts_for_cross_sell", "is_active", "sort_order")
    list_filter = ("is_core", "counts_for_cross_sell", "is_active")
    search_fields = ("name", "key")
    prepopulated_fields = {"key": ("name",)}  # noqa: RUF012


class MonthlyRevenueAdminForm(RowValidatedModelForm):
    """Validated by ``MonthlyRevenueRowForm``, like the revenue CSV and API."""

    row_form = MonthlyRevenueRowForm

    class Meta:
        model = MonthlyRevenue
        fields = ("account", "product", "month", "amount")

    def row_values(self, data: Mapping[str, Any]) -> dict[str, object]:
        account, product = data.get("account"), data.get("product")
        return {
            "organization_id": account.organization_id if account else "",
            "product": product.key if product else "",
            "month": data.get("month"),
            "amount": data.get("amount"),
        }


@admin.register(MonthlyRevenue)
class MonthlyRevenueAdmin(_InvalidatesRevenueCache):
    form = MonthlyRevenueAdminForm
    list_display = ("account", "product", "month", "amount")
    list_filter = ("product", "month")
    search_fields = ("account__name", "account__organization_id")
    list_select_related = ("account", "product")
    autocomplete_fields = ("account",)
    date_hierarchy = "month"
    show_full_result_count = False


class PaymentAttemptInline(admin.TabularInline[PaymentAttempt, Invoice]):
    """The invoice's attempts, read-only here: add or correct one under *Payment attempts*,
    where the import's validator and dunning run."""

    model = PaymentAttempt
    fields = ("attempted_on", "outcome", "failure_reason")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Invoice)
class InvoiceAdmin(FactAdmin):
    fact = InvoiceImport
    form = fact_admin_form(
        InvoiceImport,
        lambda d: {
            "number": d.get("number"),
            "organization_id": d["account"].organization_id if d.get("account") else "",
            "period": d.get("period"),
            "issued_on": d.get("issued_on"),
            "due_on": d.get("due_on"),
            "amount": d.get("amount"),
            "status": d.get("status"),
            "paid_on": d.get("paid_on"),
        },
        fields=(
            "number",
            "account",
            "period",
            "issued_on",
            "due_on",
            "amount",
            "status",
            "paid_on",
        ),
    )
    inlines = (PaymentAttemptInline,)
    list_display = (
        "number",
        "account",
        "period",
        "issued_on",
        "due_on",
        "amount",
        "status",
        "paid_on",
    )
    list_filter = ("status",)
    search_fields = ("number", "account__name", "account__organization_id")
    list_select_related = ("account",)
    autocomplete_fields = ("account",)
    date_hierarchy = "issued_on"
    show_full_result_count = False


@admin.register(PaymentAttempt)
class PaymentAttemptAdmin(FactAdmin):
    fact = PaymentAttemptImport
    form = fact_admin_form(
        PaymentAttemptImport,
        lambda d: {
            "invoice_number": d["invoice"].number if d.get("invoice") else "",
            "attempted_on": d.get("attempted_on"),
            "outcome": d.get("outcome"),
            "failure_reason": d.get("failure_reason"),
        },
        fields=("invoice", "attempted_on", "outcome", "failure_reason"),
    )
    list_display = ("invoice", "attempted_on", "outcome", "failure_reason")
    list_filter = ("outcome",)
    search_fields = ("invoice__number", "invoice__account__name")
    list_select_related = ("invoice",)
    autocomplete_fields = ("invoice",)
    date_hierarchy = "attempted_on"
    show_full_result_count = False


@admin.register(Consolidation)
class ConsolidationAdmin(_InvalidatesRevenueCache):
    list_display = ("account", "customer", "reason", "created_at")
    search_fields = ("account__name", "customer__name", "account__organization_id")
    list_select_related = ("account", "customer")
    autocomplete_fields = ("account", "customer")


@admin.register(OneTimeCredit)
class OneTimeCreditAdmin(FactAdmin):
    """Through the one-time credits fact kind: its row form, its refreshes (revenue, Top 40)."""

    fact = OneTimeCreditImport
    form = OneTimeCreditAdminForm
    list_display = ("account", "month", "amount", "reason", "created_at")
    list_filter = ("reason", "month")
    search_fields = ("account__name", "account__organization_id")
    list_select_related = ("account",)
    autocomplete_fields = ("account",)
