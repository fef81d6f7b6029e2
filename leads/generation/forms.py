"""The one validator of a lead rule's thresholds: the edit form RevOps submits."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django import forms

from accounts.models import Plan
from revopsweb.forms import Form

from .catalog import RuleDefinition
from .evaluate import RuleInForce

_COUNTRY = re.compile(r"^[A-Z]{2}$")
MONEY_MAX = Decimal("100000000")


def _field(kind: str, label: str, help_text: str) -> forms.Field:
    if kind == "money":
        return forms.DecimalField(
            label=f"{label} ($)",
            min_value=Decimal(0),
            max_value=MONEY_MAX,
            decimal_places=2,
            help_text=help_text,
        )
    if kind == "percent":
        return forms.DecimalField(
            label=label, min_value=Decimal(0), max_value=Decimal(1000), decimal_places=1
        )
    if kind == "int":
        return forms.IntegerField(label=label, min_value=0, max_value=100_000, help_text=help_text)
    if kind == "plans":
        return forms.MultipleChoiceField(
            label=label, choices=Plan.choices, widget=forms.CheckboxSelectMultiple
        )
    return forms.CharField(
        label=label,
        max_length=1000,
        help_text="ISO 3166 alpha-2 codes separated by commas or spaces, e.g. US, GB, DE.",
    )


class RuleVersionForm(Form):
    """A new version of one rule: its thresholds, cool-down, on/off, effective date, reason.

    ``today`` is the company date: a version cannot take effect in the past,
    so the record of what was in force on a past day never changes.
    """

    is_active = forms.BooleanField(label="Active", required=False)
    cooldown_days = forms.IntegerField(
        label="Cool-down after disqualification (days)", min_value=1, max_value=3650
    )
    effective_on = forms.DateField(label="Effective from", widget=forms.DateInput({"type": "date"}))
    reason = forms.CharField(label="Why the change", widget=forms.Textarea({"rows": 2}))

    def __init__(
        self,
        *args: Any,
        definition: RuleDefinition,
        today: dt.date,
        for_preview: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.definition = definition
        self.today = today
        # A preview saves nothing, so it needs no reason yet.
        self.fields["reason"].required = not for_preview
        for threshold in definition.thresholds:
            self.fields[threshold.name] = _field(threshold.kind, threshold.label, threshold.help)

    @classmethod
    def initial_for(cls, rule: RuleInForce, *, today: dt.date) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "is_active": rule.is_active,
            "cooldown_days": rule.cooldown_days,
            "effective_on": today,
        }
        for name, value in rule.thresholds.items():
            initial[name] = (
                ", ".join(value) if isinstance(value, list) and name == "countries" else value
            )
        return initial

    def clean_effective_on(self) -> dt.date:
        day: dt.date = self.cleaned_data["effective_on"]
        if day < self.today:
            raise forms.ValidationError(
                f"A change takes effect today ({self.today:%Y-%m-%d}) or later; the past stays as it was."
            )
        return day

    def clean_countries(self) -> list[str]:
        codes = [c.upper() for c in re.split(r"[\s,;]+", self.cleaned_data["countries"]) if c]
        bad = [c for c in codes if not _COUNTRY.match(c)]
        if bad:
            raise forms.ValidationError(f"Not a two-letter country code: {', '.join(bad)}.")
        if not codes:
            raise forms.ValidationError("Give at least one country.")
        return sorted(set(codes))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for low, high in self.definition.ranges:
            if low in data and high in data and data[low] > data[high]:
                self.add_error(high, "Must be at least the lower bound.")
        return data

    def thresholds(self) -> dict[str, object]:
        """The cleaned thresholds as stored (money and percentages as decimal strings)."""
        stored: dict[str, object] = {}
        for threshold in self.definition.thresholds:
            value = self.cleaned_data[threshold.name]
            stored[threshold.name] = str(value) if isinstance(value, Decimal) else value
        return stored

    def draft(self, *, version: int) -> RuleInForce:
        """The rule as it would be with this form's values (for the preview)."""
        return RuleInForce(
            key=self.definition.key,
            lead_type=self.definition.lead_type,
            version=version,
            thresholds=self.thresholds(),
            cooldown_days=self.cleaned_data["cooldown_days"],
            is_active=self.cleaned_data["is_active"],
        )
