"""Billing terms in: one fact kind (``billing.facts.FactImport``) per kind of issue 17 part B.

Each kind validates every row with its form of ``billing.term_forms`` (the
same one the API and the admin use), writes all or nothing, and upserts by its
natural key (importing a file twice changes nothing). Declaring it gives its
import page ``/billing/import/<name>/``, ``import_billing_facts <name>``,
``POST /api/billing/<name>/`` behind the token scope of the same name, and the
admin (``billing.term_admin``); pghistory records every row written. After an
apply the accounts' projected columns are rewritten from the facts
(``billing.terms.refresh_account_terms``) in the same transaction; kinds the
revenue reads then refresh the revenue cache and the Top 40.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from django.db import models

from .facts import FactImport
from .models import (
    AnnualContract,
    CreditGrant,
    ForecastMrr,
    OneTimeCredit,
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
from .terms import refresh_account_terms


def _account(data: Mapping[str, Any], context: Mapping[str, Any]) -> int:
    return int(context["accounts"][data["organization_id"]]["pk"])


class _TermsImport[M: models.Model](FactImport[M]):
    """A kind whose rows belong to an account: an apply rewrites those accounts' columns."""

    affects_revenue = True

    def after_apply(self, objs: list[M]) -> None:
        super().after_apply(objs)
        refresh_account_terms(account_ids={cast(Any, o).account_id for o in objs})


class OneTimeCreditImport(_TermsImport[OneTimeCredit]):
    """One-time credits (revops/credits), by account, invoice month and reason."""

    name = "one_time_credits"
    scope = "one_time_credits"
    label = "One-time credits"
    header = ("organization_id", "month", "reason", "amount", "notes", "reference_url")
    form = OneTimeCreditRowForm
    model = OneTimeCredit
    key_columns = ("organization_id", "month", "reason")
    unique_fields = ("account", "month", "reason")
    update_fields = ("amount", "notes", "reference_url")

    def build(self, data: Mapping[str, Any], context: Mapping[str, Any]) -> OneTimeCredit:
        return OneTimeCredit(
            account_id=_account(data, context),
            month=data["month"],
            reason=data["reason"],
            amount=data["amount"],
            notes=data["notes"],
            reference_url=data["reference_url"],
            created_by=self.actor,
        )


class CreditGrantImport(_TermsImport[CreditGrant]):
    """Startup and enterprise credit grants, by account, kind and grant date."""

    name = "credit_grants"
    scope = "credit_grants"
    label = "Credit grants"
    header = (
        "organization_id", "kind", "granted_on", "expires_on", "amount", "balance",
        "paid_amount", "depleted_on",
    )  # fmt: skip
    form = CreditGrantRowForm
    notes = (
        "A startup-plan account's MRR is $0 while on credits; an enterprise purchase is spread "
        "over its paid period (billing/customer-billing-configurations). The account shows the "
        "latest grant's balance and expiry."
    )
    model = CreditGrant
    key_columns = ("organization_id", "kind", "granted_on")
    unique_fields = ("account", "kind", "granted_on")
    update_fields = ("expires_on", "amount", "balance", "paid_amount", "depleted_on")

    def build(self, data: Mapping[str, Any], context: Mapping[str, Any]) -> CreditGrant:
        return CreditGrant(
            account_id=_account(data, context),
            **{k: data[k] for k in ("kind", "granted_on", *self.update_fields)},
        )


class AnnualContractImport(_TermsImport[AnnualContract]):
    """Annual contracts and their discount, by account and start."""

    name = "annual_contracts"
    scope = "annual_contracts"
    label = "Annual contracts"
    header = (
        "organization_id", "starts_on", "ends_on", "annual_amount", "discount_percent",
        "converted_from_monthly",
    )  # fmt: skip
    form = AnnualContractRowForm
    notes = (
        "The run rate (annual_amount ÷ 12) sets what usage counts for quota; the discount "
        "applies to the adjusted revenue in the contract's months."
    )
    model = AnnualContract
    key_columns = ("organization_id", "starts_on")
    unique_fields = ("account", "starts_on")
    update_fields = ("ends_on", "annual_amount", "discount_percent", "converted_from_monthly")

    def build(self, data: Mapping[str, Any], context: Mapping[str, Any]) -> AnnualContract:
        return AnnualContract(
            account_id=_account(data, context),
            **{k: data[k] for k in ("starts_on", *self.update_fields)},
        )


class TrialImport(_TermsImport[Trial]):
    """Trials (sales-assisted, cross-sell, billing-admin free usage), by account, kind and start."""

    name = "trials"
    scope = "trials"
    label = "Trials"
    header = (
        "organization_id", "kind", "product", "starts_on", "ends_on", "deal_arr",
        "four_week_reason", "sdk_live_on", "success_criteria", "outcome",
    )  # fmt: skip
    form = TrialRowForm
    notes = (
        "Sales trials follow sales/trials: 2 weeks for $20–60K ARR, 4 weeks over $60K or with a "
        "four_week_reason; a sales-assisted trial under $20K is refused. Trial months count $0 in "
        "the adjusted revenue."
    )
    model = Trial
    key_columns = ("organization_id", "kind", "starts_on")
    unique_fields = ("account", "kind", "starts_on")
    update_fields = (
        "product", "ends_on", "deal_arr", "four_week_reason", "sdk_live_on",
        "success_criteria", "outcome",
    )  # fmt: skip

    def build(self, data: Mapping[str, Any], context: Mapping[str, Any]) -> Trial:
        product = data["product"]
        return Trial(
            account_id=_account(data, context),
            product_id=context["products"][product] if product else None,
            **{k: data[k] for k in ("kind", "starts_on", *self.update_fields) if k != "product"},
        )


class TrialExtensionImport(FactImport[TrialExtension]):
    """Trial extensions (7–30 days, why, the "get"), by trial and grant date."""

    name = "trial_extensions"
    scope = "trial_extensions"
    affects_revenue = True  # the trial revenue adjustment reads the extended end
    label = "Trial extensions"
    header = (
        "organization_id", "trial_kind", "trial_starts_on", "granted_on", "days", "reason", "get",
    )  # fmt: skip
    form = TrialExtensionRowForm
    notes = "The trial (account, kind, start) must be imported first; days 7–30."
    model = TrialExtension
    key_columns = ("organization_id", "trial_kind", "trial_starts_on", "granted_on")
    unique_fields = ("trial", "granted_on")
    update_fields = ("days", "reason", "get")

    def build(self, data: Mapping[str, Any], context: Mapping[str, Any]) -> TrialExtension:
        return TrialExtension(
            trial_id=data["trial_id"],
            granted_on=data["granted_on"],
            days=data["days"],
            reason=data["reason"],
            get=data["get"],
        )

    def after_apply(self, objs: list[TrialExtension]) -> None:
        super().after_apply(objs)
        trial_ids = {o.trial_id for o in objs}
        refresh_account_terms(
            account_ids=Trial.objects.filter(pk__in=trial_ids).values_list("account_id", flat=True)
        )


class ForecastMrrImport(_TermsImport[ForecastMrr]):
    """Forecast MRR by account and billing period end."""

    name = "forecast_mrr"
    scope = "forecast_mrr"
    affects_revenue = False  # read by the first-payment segment only, live
    label = "Forecast MRR"
    header = ("organization_id", "period_ends_on", "amount")
    form = ForecastMrrRowForm
    model = ForecastMrr
    key_columns = ("organization_id", "period_ends_on")
    unique_fields = ("account", "period_ends_on")
    update_fields = ("amount",)

    def build(self, data: Mapping[str, Any], context: Mapping[str, Any]) -> ForecastMrr:
        return ForecastMrr(
            account_id=_account(data, context),
            period_ends_on=data["period_ends_on"],
            amount=data["amount"],
        )


TERM_IMPORTS: tuple[type[FactImport[Any]], ...] = (
    OneTimeCreditImport,
    CreditGrantImport,
    AnnualContractImport,
    TrialImport,
    TrialExtensionImport,
    ForecastMrrImport,
)
