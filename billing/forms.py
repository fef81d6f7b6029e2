"""The one validator of each billing input kind (CSV row, API body, admin form).

``MonthlyRevenueRowForm``: one account's revenue from one product in one month
(monthly revenue CSV, ``POST /api/revenue/monthly/`` and the admin). Values
parse through ``revopsweb.parsing``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django import forms

from accounts.forms import ORGANIZATION_ID_LENGTH, accounts_by_organization_id
from revopsweb import parsing
from revopsweb.imports import RowForm

from .models import Product

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
