"""The one validator of each billing-terms input kind (CSV row, API body, admin form).

Issue 17, part B: one-time credits, credit grants, annual contracts, trials,
trial extensions and forecast MRR. Values parse through ``revopsweb.parsing``
(dates ``YYYY-MM-DD``, months ``YYYY-MM``, dollars, true/false); choices are
given by their key (``startup``, ``sales_assisted`` …). Each form checks the
rules between its fields (an expiry after the grant, a balance within the
grant, the trial length of sales/trials, extensions of 7–30 days).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import TextChoices

from accounts.forms import ORGANIZATION_ID_LENGTH, accounts_by_organization_id
from revopsweb import parsing
from revopsweb.imports import RowForm

from .models import (
    CreditGrantKind,
    CreditReason,
    FourWeekReason,
    Product,
    Trial,
    TrialKind,
    TrialOutcome,
)
from .trials import extension_days_error, trial_length_errors

MAX_AMOUNT = Decimal("9999999999.99")


def _choice(value: str, choices: type[TextChoices], *, blank: bool = False) -> str:
    if blank and not value:
        return ""
    if value not in choices.values:
        keys = ", ".join(str(v) for v in choices.values)
        raise forms.ValidationError(f"{value!r} is not one of: {keys}.")
    return value


class _AccountRowForm(RowForm):
    organization_id = parsing.KeyField(
        max_length=ORGANIZATION_ID_LENGTH, help_text="The account's organization id."
    )

    @classmethod
    def prefetch(cls, records: Sequence[Mapping[str, object]]) -> dict[str, Any]:
        return {"accounts": accounts_by_organization_id(r.get("organization_id") for r in records)}

    def clean_organization_id(self) -> str:
        org: str = self.cleaned_data["organization_id"]
        if org not in self.context["accounts"]:
            raise forms.ValidationError(f"No account {org!r}.")
        return org

    def account_id(self) -> int:
        return int(self.context["accounts"][self.cleaned_data["organization_id"]]["pk"])


class OneTimeCreditRowForm(_AccountRowForm):
    """``organization_id, month, reason, amount, notes, reference_url``: one credit per
    account, invoice month and reason (revops/credits: the seven reasons)."""

    month = parsing.MonthField(help_text="YYYY-MM: the month whose invoice the credit covers.")
    reason = parsing.KeyField(
        max_length=20,
        case="lower",
        help_text="first_big_bill, unwanted_spike, trial_accommodation, promo, incident, bug "
        "or other (revops/credits).",
    )
    amount = parsing.AmountField(max_abs=MAX_AMOUNT, help_text="Dollars, more than 0.")
    notes = parsing.TextField(required=False, max_length=2000, help_text="Optional.")
    reference_url = forms.URLField(
        required=False, max_length=200, assume_scheme="https", help_text="Optional link."
    )

    def clean_reason(self) -> str:
        return _choice(self.cleaned_data["reason"], CreditReason)

    def clean_amount(self) -> Decimal:
        amount: Decimal = self.cleaned_data["amount"]
        if amount <= 0:
            raise forms.ValidationError("A credit is more than $0.")
        return amount


class CreditGrantRowForm(_AccountRowForm):
    """``organization_id, kind, granted_on, expires_on, amount, balance, paid_amount,
    depleted_on``: startup plan credits (nothing paid) or an enterprise credit purchase."""

    kind = parsing.KeyField(
        max_length=10,
        case="lower",
        help_text="startup (startup plan credits) or enterprise (a credit purchase).",
    )
    granted_on = parsing.DateField(help_text="YYYY-MM-DD.")
    expires_on = parsing.DateField(help_text="YYYY-MM-DD, after granted_on.")
    amount = parsing.AmountField(max_abs=MAX_AMOUNT, help_text="Credits granted, dollars.")
    balance = parsing.AmountField(
        max_abs=MAX_AMOUNT, help_text="Credits left, dollars; at most the amount."
    )
    paid_amount = parsing.AmountField(
        max_abs=MAX_AMOUNT,
        required=False,
        help_text="What the customer paid: required for enterprise, empty or 0 for startup.",
    )
    depleted_on = parsing.DateField(
        required=False, help_text="The day the credits ran out, if they did."
    )

    def clean_kind(self) -> str:
        return _choice(self.cleaned_data["kind"], CreditGrantKind)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        granted, expires = data.get("granted_on"), data.get("expires_on")
        amount, balance = data.get("amount"), data.get("balance")
        data["paid_amount"] = paid = data.get("paid_amount") or Decimal(0)
        if granted and expires and expires <= granted:
            self.add_error("expires_on", "Credits expire after the day they are granted.")
        if amount is not None and amount <= 0:
            self.add_error("amount", "A grant is more than $0 of credits.")
        if amount is not None and balance is not None and balance > amount:
            self.add_error("balance", f"The balance is more than the ${amount:,.2f} granted.")
        kind = data.get("kind")
        if kind == CreditGrantKind.STARTUP and paid:
            self.add_error("paid_amount", "Startup plan credits are free: paid_amount is 0.")
        if kind == CreditGrantKind.ENTERPRISE and not paid:
            self.add_error("paid_amount", "An enterprise credit purchase says what was paid.")
        depleted = data.get("depleted_on")
        if depleted and granted and expires and not granted <= depleted <= expires:
            self.add_error("depleted_on", "Credits run out between the grant and the expiry.")
        return data


class AnnualContractRowForm(_AccountRowForm):
    """``organization_id, starts_on, ends_on, annual_amount, discount_percent,
    converted_from_monthly``: the run rate that follows is annual_amount ÷ 12."""

    starts_on = parsing.DateField(help_text="YYYY-MM-DD.")
    ends_on = parsing.DateField(help_text="Last day of the contract, after starts_on.")
    annual_amount = parsing.AmountField(
        max_abs=MAX_AMOUNT, help_text="Dollars a year; the run rate is this ÷ 12."
    )
    discount_percent = parsing.AmountField(
        max_abs=Decimal("99.99"), required=False, help_text="Percent, 0–99.99; empty is 0."
    )
    converted_from_monthly = parsing.BooleanField(
        help_text="true when converted from monthly under the old plan (no double dipping)."
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["discount_percent"] = data.get("discount_percent") or Decimal(0)
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends <= starts:
            self.add_error("ends_on", "A contract ends after it starts.")
        amount = data.get("annual_amount")
        if amount is not None and amount <= 0:
            self.add_error("annual_amount", "An annual contract is more than $0 a year.")
        return data


class TrialRowForm(_AccountRowForm):
    """``organization_id, kind, product, starts_on, ends_on, deal_arr, four_week_reason,
    sdk_live_on, success_criteria, outcome``; sales trials follow the length rules
    of sales/trials (``billing.trials``)."""

    kind = parsing.KeyField(
        max_length=14, case="lower", help_text="sales_assisted, cross_sell or free_usage."
    )
    product = parsing.KeyField(
        max_length=40,
        case="lower",
        required=False,
        help_text="Catalog key; empty for the whole platform; required for cross_sell.",
    )
    starts_on = parsing.DateField(help_text="YYYY-MM-DD.")
    ends_on = parsing.DateField(
        help_text="The expiry day; a sales trial runs at most 14 days, 28 over $60K ARR or "
        "with a four_week_reason."
    )
    deal_arr = parsing.AmountField(
        max_abs=MAX_AMOUNT,
        required=False,
        help_text="Deal value in dollars of ARR; required for sales trials (at least $20K "
        "for sales_assisted).",
    )
    four_week_reason = parsing.KeyField(
        max_length=22,
        case="lower",
        required=False,
        help_text="complex_environment, multiple_stakeholders, competitive_evaluation or empty.",
    )
    sdk_live_on = parsing.DateField(
        required=False, help_text="Day 0: SDK installed and events firing."
    )
    success_criteria = parsing.TextField(
        required=False, max_length=4000, help_text="What winning looks like for them."
    )
    outcome = parsing.KeyField(
        max_length=4, case="lower", required=False, help_text="won (needs Day 0), lost or empty."
    )

    @classmethod
    def prefetch(cls, records: Sequence[Mapping[str, object]]) -> dict[str, Any]:
        return {
            **super().prefetch(records),
            "products": dict(Product.objects.values_list("key", "id")),
        }

    def clean_kind(self) -> str:
        return _choice(self.cleaned_data["kind"], TrialKind)

    def clean_product(self) -> str:
        key: str = self.cleaned_data["product"]
        if key and key not in self.context["products"]:
            raise forms.ValidationError(f"No product with key {key!r}.")
        return key

    def clean_four_week_reason(self) -> str:
        return _choice(self.cleaned_data["four_week_reason"], FourWeekReason, blank=True)

    def clean_outcome(self) -> str:
        return _choice(self.cleaned_data["outcome"], TrialOutcome, blank=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", "A trial expires on or after its start.")
        elif starts and ends and "kind" in data and "deal_arr" not in self.errors:
            for name, message in trial_length_errors(
                kind=data["kind"],
                starts_on=starts,
                ends_on=ends,
                deal_arr=data.get("deal_arr"),
                four_week_reason=data.get("four_week_reason", ""),
            ).items():
                self.add_error(name, message)
        if data.get("kind") == TrialKind.CROSS_SELL and "product" in data and not data["product"]:
            self.add_error("product", "A cross-sell trial names the product on trial.")
        if data.get("outcome") == TrialOutcome.WON and not data.get("sdk_live_on"):
            self.add_error(
                "outcome", "No trial is won before Day 0 (SDK installed, events firing)."
            )
        return data


def trials_by_key(
    records: Sequence[Mapping[str, object]], accounts: Mapping[str, Mapping[str, Any]]
) -> dict[tuple[int, str, dt.date], tuple[int, dt.date]]:
    """``{(account pk, kind, starts_on): (trial pk, ends_on)}`` for the accounts named, one query."""
    pks = [a["pk"] for a in accounts.values()]
    return {
        (t.account_id, t.kind, t.starts_on): (t.pk, t.ends_on)
        for t in Trial.objects.filter(account_id__in=pks).only(
            "id", "account_id", "kind", "starts_on", "ends_on"
        )
    }


class TrialExtensionRowForm(_AccountRowForm):
    """``organization_id, trial_kind, trial_starts_on, granted_on, days, reason, get``:
    7–30 more days for the trial named by account, kind and start, with why and the "get"."""

    trial_kind = parsing.KeyField(max_length=14, case="lower", help_text="The trial's kind.")
    trial_starts_on = parsing.DateField(help_text="The trial's start, YYYY-MM-DD.")
    granted_on = parsing.DateField(help_text="YYYY-MM-DD, on or after the trial's start.")
    days = parsing.IntegerField(min_value=0, max_value=365, help_text="7 to 30.")
    reason = parsing.TextField(max_length=2000, help_text="Why they need more time.")
    get = parsing.TextField(max_length=2000, help_text="What we get in return.")

    @classmethod
    def prefetch(cls, records: Sequence[Mapping[str, object]]) -> dict[str, Any]:
        context = super().prefetch(records)
        context["trials"] = trials_by_key(records, context["accounts"])
        return context

    def clean_trial_kind(self) -> str:
        return _choice(self.cleaned_data["trial_kind"], TrialKind)

    def clean_days(self) -> int:
        days: int = self.cleaned_data["days"]
        error = extension_days_error(days)
        if error:
            raise forms.ValidationError(error)
        return days

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if {"organization_id", "trial_kind", "trial_starts_on"} <= data.keys():
            key = (self.account_id(), data["trial_kind"], data["trial_starts_on"])
            found = self.context["trials"].get(key)
            if found is None:
                self.add_error(
                    "trial_starts_on",
                    f"No {data['trial_kind']} trial of {data['organization_id']!r} "
                    f"starting {data['trial_starts_on']}.",
                )
            else:
                data["trial_id"] = found[0]
                granted = data.get("granted_on")
                if granted and granted < data["trial_starts_on"]:
                    self.add_error("granted_on", "An extension is granted after the trial starts.")
        return data


class ForecastMrrRowForm(_AccountRowForm):
    """``organization_id, period_ends_on, amount``: billing's forecast MRR for the period."""

    period_ends_on = parsing.DateField(help_text="End of the billing period, YYYY-MM-DD.")
    amount = parsing.AmountField(max_abs=MAX_AMOUNT, help_text="Forecast MRR, dollars.")
