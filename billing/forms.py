"""The one validator of each billing input kind (CSV row, API body, admin form).

``MonthlyRevenueRowForm``: one account's revenue from one product in one month
(monthly revenue CSV, ``POST /api/revenue/monthly/`` and the admin);
``InvoiceRowForm`` and ``PaymentAttemptRowForm``: the invoices and payment
attempts fact kinds (``billing.invoices``). Values parse through
``revopsweb.parsing``; each field's help text is the column's documentation on
the import page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django import forms

from accounts.forms import ORGANIZATION_ID_LENGTH, accounts_by_organization_id
from revopsweb import parsing
from revopsweb.imports import RowForm

from .models import Invoice, PaymentAttempt, Product

MAX_AMOUNT = Decimal("9999999999.99")  # max_digits=12, decimal_places=2


class MonthlyRevenueRowForm(RowForm):
    """``organization_id, product, month, amount``: month ``YYYY-MM`` (2000-01 to next
    month), amount in dollars (see ``revopsweb.parsing.parse_amount``), not negative."""

    organization_id = parsing.KeyField(max_length=ORGANIZATION_ID_LENGTH)
    product = parsing.KeyField(max_length=40, case="lower")
    month = parsing.MonthField()
    amount = parsing.AmountField(max_abs=MAX_AMOUNT)

    @classmethod
    def prefetch(cls, records: Sequence[Mapping[str, object]]) -> dict[str, Any]:
        return {
            "accounts": accounts_by_organization_id(r.get("organization_id") for r in records),
            "products": dict(Product.objects.values_list("key", "id")),
        }

    def clean_organization_id(self) -> str:
        org: str = self.cleaned_data["organization_id"]
        if org not in self.context["accounts"]:
            raise forms.ValidationError(f"No account {org!r}.")
        return org

    def clean_product(self) -> str:
        key: str = self.cleaned_data["product"]
        if key not in self.context["products"]:
            raise forms.ValidationError(f"No product with key {key!r}.")
        return key


class ChoiceKeyField(forms.ChoiceField):
    """One of ``choices``' values, trimmed and lower-cased (``Paid`` is ``paid``)."""

    def to_python(self, value: Any) -> str:
        if isinstance(value, list | dict | bool):
            raise forms.ValidationError("Send one value.", code="invalid")
        return str(super().to_python(value)).strip().lower()

    def __init__(self, *, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(choices=choices, **kwargs)
        accepted = ", ".join(value for value, _ in choices)
        self.error_messages["invalid_choice"] = f"Use one of: {accepted}."


class InvoiceRowForm(RowForm):
    """An invoice: its number (the natural key, upper-cased), account, billed month,
    issue and due dates, amount in dollars and status; ``paid_on`` when paid."""

    number = parsing.KeyField(
        max_length=40, case="upper", help_text="The billing system's invoice number (unique)."
    )
    organization_id = parsing.KeyField(
        max_length=ORGANIZATION_ID_LENGTH, help_text="The account invoiced."
    )
    period = parsing.MonthField(help_text="The month billed, YYYY-MM.")
    issued_on = parsing.DateField(help_text="YYYY-MM-DD.")
    due_on = parsing.DateField(help_text="YYYY-MM-DD, not before issued_on.")
    amount = parsing.AmountField(max_abs=MAX_AMOUNT, help_text="Dollars, not negative.")
    status = ChoiceKeyField(choices=Invoice.Status.choices, help_text="open, paid, failed or void.")
    paid_on = parsing.DateField(
        required=False, help_text="YYYY-MM-DD, for a paid invoice only (empty otherwise)."
    )

    @classmethod
    def prefetch(cls, records: Sequence[Mapping[str, object]]) -> dict[str, Any]:
        return {"accounts": accounts_by_organization_id(r.get("organization_id") for r in records)}

    def clean_organization_id(self) -> str:
        org: str = self.cleaned_data["organization_id"]
        if org not in self.context["accounts"]:
            raise forms.ValidationError(f"No account {org!r}.")
        return org

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        issued, due, paid = data.get("issued_on"), data.get("due_on"), data.get("paid_on")
        if issued and due and due < issued:
            self.add_error("due_on", "Is before issued_on.")
        status = data.get("status")
        if status == Invoice.Status.PAID and paid is None:
            self.add_error("paid_on", "A paid invoice needs the day it was paid.")
        if status and status != Invoice.Status.PAID and paid is not None:
            self.add_error("paid_on", f"Only a paid invoice has one (status is {status}).")
        if issued and paid and paid < issued:
            self.add_error("paid_on", "Is before issued_on.")
        return data


class PaymentAttemptRowForm(RowForm):
    """One attempt to collect an invoice: the invoice's number, the day, the outcome and,
    for a failure, the billing system's reason. One attempt per invoice and day."""

    invoice_number = parsing.KeyField(
        max_length=40, case="upper", help_text="An invoice already imported."
    )
    attempted_on = parsing.DateField(not_after_today=True, help_text="YYYY-MM-DD, not future.")
    outcome = ChoiceKeyField(
        choices=PaymentAttempt.Outcome.choices, help_text="succeeded or failed."
    )
    failure_reason = parsing.TextField(
        max_length=200, required=False, help_text="Why it failed, e.g. card_declined (optional)."
    )

    @classmethod
    def prefetch(cls, records: Sequence[Mapping[str, object]]) -> dict[str, Any]:
        numbers = {
            str(r.get("invoice_number")).strip().upper()
            for r in records
            if isinstance(r.get("invoice_number"), str | int)
        }
        numbers = {n for n in numbers if n and "\x00" not in n and len(n) <= 40}
        return {
            "invoices": {
                i["number"]: i
                for i in Invoice.objects.filter(number__in=numbers).values(
                    "pk", "number", "issued_on", "account_id"
                )
            }
        }

    def clean_invoice_number(self) -> str:
        number: str = self.cleaned_data["invoice_number"]
        if number not in self.context["invoices"]:
            raise forms.ValidationError(f"No invoice {number!r}; import the invoice first.")
        return number

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        invoice = self.context["invoices"].get(data.get("invoice_number"))
        day = data.get("attempted_on")
        if invoice and day and day < invoice["issued_on"]:
            self.add_error(
                "attempted_on", f"Is before the invoice was issued ({invoice['issued_on']})."
            )
        if data.get("outcome") == PaymentAttempt.Outcome.SUCCEEDED and data.get("failure_reason"):
            self.add_error("failure_reason", "Only a failed attempt has a reason.")
        return data
