"""Admin of the billing terms (issue 17 part B), each form validated by the kind's row form
(``billing.term_forms``), so the admin stores only what the CSV and the API accept; a
save or delete rewrites the account's projected columns (``billing.terms``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from revopsweb.imports import RowValidatedModelForm

from .models import (
    AnnualContract,
    CreditGrant,
    ForecastMrr,
    OneTimeCredit,
    OptimisationExclusion,
    Trial,
    TrialExtension,
)
from .term_forms import (
    AnnualContractRowForm,
    CreditGrantRowForm,
    ForecastMrrRowForm,
    OneTimeCreditRowForm,
    TrialExtensionRowForm,
    TrialRowForm,
)
from .term_imports import (
    AnnualContractImport,
    CreditGrantImport,
    ForecastMrrImport,
    TrialExtensionImport,
    TrialImport,
)
from .terms import refresh_account_terms


def _org(data: Mapping[str, Any]) -> str:
    account = data.get("account")
    return account.organization_id if account else ""


class _TermAdminForm(RowValidatedModelForm):
    """Row values: the model's fields of the same name, the account as its organization id."""

    def row_values(self, data: Mapping[str, Any]) -> dict[str, object]:
        values: dict[str, object] = {"organization_id": _org(data)}
        for name in self.row_form.base_fields:
            if name in data and name != "organization_id":
                value = data[name]
                values[name] = "" if value is None else value
        return values


class OneTimeCreditAdminForm(_TermAdminForm):
    row_form = OneTimeCreditRowForm

    class Meta:
        model = OneTimeCredit
        fields = ("account", "month", "reason", "amount", "notes", "reference_url")


class CreditGrantAdminForm(_TermAdminForm):
    row_form = CreditGrantRowForm

    class Meta:
        model = CreditGrant
        fields = (
            "account", "kind", "granted_on", "expires_on", "amount", "balance", "paid_amount",
            "depleted_on", "notes",
        )  # fmt: skip


class AnnualContractAdminForm(_TermAdminForm):
    row_form = AnnualContractRowForm

    class Meta:
        model = AnnualContract
        fields = (
            "account", "starts_on", "ends_on", "annual_amount", "discount_percent",
            "converted_from_monthly",
        )  # fmt: skip


class TrialAdminForm(_TermAdminForm):
    row_form = TrialRowForm

    class Meta:
        model = Trial
        fields = (
            "account", "kind", "product", "starts_on", "ends_on", "deal_arr", "four_week_reason",
            "sdk_live_on", "success_criteria", "outcome",
        )  # fmt: skip

    def row_values(self, data: Mapping[str, Any]) -> dict[str, object]:
        values = super().row_values(data)
        product = data.get("product")
        values["product"] = product.key if product else ""
        return values


class TrialExtensionAdminForm(RowValidatedModelForm):
    row_form = TrialExtensionRowForm

    class Meta:
        model = TrialExtension
        fields = ("trial", "granted_on", "days", "reason", "get")

    def row_values(self, data: Mapping[str, Any]) -> dict[str, object]:
        trial = data.get("trial")
        return {
            "organization_id": trial.account.organization_id if trial else "",
            "trial_kind": trial.kind if trial else "",
            "trial_starts_on": trial.starts_on if trial else "",
            "granted_on": data.get("granted_on") or "",
            "days": data.get("days") if data.get("days") is not None else "",
            "reason": data.get("reason", ""),
            "get": data.get("get", ""),
        }


class ForecastMrrAdminForm(_TermAdminForm):
    row_form = ForecastMrrRowForm

    class Meta:
        model = ForecastMrr
        fields = ("account", "period_ends_on", "amount")


class TermAdmin(admin.ModelAdmin[Any]):
    """Saves and deletes rewrite the accounts' projected columns."""

    def _account_ids(self, objs: Any) -> set[int]:
        return {o.account_id for o in objs}

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        refresh_account_terms(account_ids=self._account_ids([obj]))

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        ids = self._account_ids([obj])
        super().delete_model(request, obj)
        refresh_account_terms(account_ids=ids)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        ids = self._account_ids(queryset)
        super().delete_queryset(request, queryset)
        refresh_account_terms(account_ids=ids)


@admin.register(CreditGrant)
class CreditGrantAdmin(TermAdmin):
    fact = CreditGrantImport
    list_select_related = ("account",)
    autocomplete_fields = ("account",)
    search_fields = ("account__name", "account__organization_id")
    form = CreditGrantAdminForm
    list_display = (
        "account",
        "kind",
        "granted_on",
        "expires_on",
        "amount",
        "balance",
        "paid_amount",
    )
    list_filter = ("kind",)
    date_hierarchy = "granted_on"


@admin.register(AnnualContract)
class AnnualContractAdmin(TermAdmin):
    fact = AnnualContractImport
    list_select_related = ("account",)
    autocomplete_fields = ("account",)
    search_fields = ("account__name", "account__organization_id")
    form = AnnualContractAdminForm
    list_display = ("account", "starts_on", "ends_on", "annual_amount", "discount_percent")
    list_filter = ("converted_from_monthly",)
    date_hierarchy = "starts_on"


class TrialExtensionInline(admin.TabularInline[TrialExtension, Trial]):
    model = TrialExtension
    extra = 0
    fields = ("granted_on", "days", "reason", "get")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Trial)
class TrialAdmin(TermAdmin):
    fact = TrialImport
    autocomplete_fields = ("account",)
    search_fields = ("account__name", "account__organization_id")
    form = TrialAdminForm
    list_display = ("account", "kind", "product", "starts_on", "ends_on", "sdk_live_on", "outcome")
    list_filter = ("kind", "outcome")
    list_select_related = ("account", "product")
    date_hierarchy = "starts_on"
    inlines = (TrialExtensionInline,)


@admin.register(TrialExtension)
class TrialExtensionAdmin(TermAdmin):
    fact = TrialExtensionImport
    form = TrialExtensionAdminForm
    list_display = ("trial", "granted_on", "days", "get")
    list_select_related = ("trial__account",)
    autocomplete_fields = ("trial",)
    search_fields = ("trial__account__name", "trial__account__organization_id")

    def _account_ids(self, objs: Any) -> set[int]:
        return {o.trial.account_id for o in objs}


@admin.register(ForecastMrr)
class ForecastMrrAdmin(TermAdmin):
    fact = ForecastMrrImport
    list_select_related = ("account",)
    autocomplete_fields = ("account",)
    search_fields = ("account__name", "account__organization_id")
    form = ForecastMrrAdminForm
    list_display = ("account", "period_ends_on", "amount")
    date_hierarchy = "period_ends_on"


@admin.register(OptimisationExclusion)
class OptimisationExclusionAdmin(admin.ModelAdmin[OptimisationExclusion]):
    """Read-only: requests and approvals go through the quota page, which records who and when."""

    list_display = ("account", "quarter", "amount", "status", "requested_by", "requested_at")
    list_filter = ("status", "quarter")
    list_select_related = ("account", "requested_by")
    search_fields = ("account__name", "account__organization_id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
