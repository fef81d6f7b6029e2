from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest

from revopsweb.imports import RowValidatedModelForm

from .cache import bump_revenue_data_version
from .forms import MonthlyRevenueRowForm
from .models import Consolidation, Invoice, MonthlyRevenue, OneTimeCredit, Product
from .term_admin import OneTimeCreditAdminForm


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin[Product]):
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
class MonthlyRevenueAdmin(admin.ModelAdmin[MonthlyRevenue]):
    form = MonthlyRevenueAdminForm
    list_display = ("account", "product", "month", "amount")
    list_filter = ("product", "month")
    search_fields = ("account__name", "account__organization_id")
    list_select_related = ("account", "product")
    autocomplete_fields = ("account",)
    date_hierarchy = "month"
    show_full_result_count = False


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin[Invoice]):
    list_display = ("number", "account", "issued_on", "due_on", "amount", "status", "paid_on")
    list_filter = ("status",)
    search_fields = ("number", "account__name", "account__organization_id")
    list_select_related = ("account",)
    autocomplete_fields = ("account",)
    date_hierarchy = "issued_on"
    show_full_result_count = False


class _InvalidatesRevenueCache(admin.ModelAdmin[Any]):
    """Adjustment inputs edited here change the cached revenue numbers."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        transaction.on_commit(bump_revenue_data_version)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        transaction.on_commit(bump_revenue_data_version)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        super().delete_queryset(request, queryset)
        transaction.on_commit(bump_revenue_data_version)


@admin.register(Consolidation)
class ConsolidationAdmin(_InvalidatesRevenueCache):
    list_display = ("account", "customer", "reason", "created_at")
    search_fields = ("account__name", "customer__name", "account__organization_id")
    list_select_related = ("account", "customer")
    autocomplete_fields = ("account", "customer")


@admin.register(OneTimeCredit)
class OneTimeCreditAdmin(_InvalidatesRevenueCache):
    form = OneTimeCreditAdminForm
    list_display = ("account", "month", "amount", "reason", "created_at")
    list_filter = ("reason", "month")
    search_fields = ("account__name", "account__organization_id")
    list_select_related = ("account",)
    autocomplete_fields = ("account",)
