"""Forms of the churn review: flag, weekly status, escalation, outcome, retro.

The snapshot API validates with accounts.forms.SnapshotRowForm, shared with the CSV and admin."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms

from revopsweb.forms import Form, ModelForm

from .models import (
    ChurnRetro,
    ChurnRiskFlag,
    Escalation,
    FlagStatus,
    WeeklyStatusUpdate,
)

_TEXT = {"rows": 2}


class FlagForm(ModelForm[ChurnRiskFlag]):
    class Meta:
        model = ChurnRiskFlag
        fields = ("triggers", "known", "help_needed", "owner_actions", "severity", "next_key_date")
        widgets: ClassVar[dict[str, Any]] = {
            "triggers": forms.Textarea(attrs=_TEXT),
            "known": forms.Textarea(attrs=_TEXT),
            "help_needed": forms.Textarea(attrs=_TEXT),
            "owner_actions": forms.Textarea(attrs=_TEXT),
            "next_key_date": forms.DateInput(attrs={"type": "date"}),
        }


class StatusForm(ModelForm[WeeklyStatusUpdate]):
    class Meta:
        model = WeeklyStatusUpdate
        fields = ("tried", "working", "help_needed", "trend", "next_key_date")
        widgets: ClassVar[dict[str, Any]] = {
            "tried": forms.Textarea(attrs=_TEXT),
            "working": forms.Textarea(attrs=_TEXT),
            "help_needed": forms.Textarea(attrs=_TEXT),
            "next_key_date": forms.DateInput(attrs={"type": "date"}),
        }


class EscalationForm(ModelForm[Escalation]):
    class Meta:
        model = Escalation
        fields = ("team", "person", "note")
        widgets: ClassVar[dict[str, Any]] = {"note": forms.Textarea(attrs=_TEXT)}


class CloseForm(Form):
    status = forms.ChoiceField(
        label="Outcome",
        choices=[
            (FlagStatus.RESOLVED, "Resolved: risk gone, usage stable"),
            (FlagStatus.CHURNED, "Churned"),
            (FlagStatus.REMOVED, "Remove flag (raised by mistake)"),
        ],
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs=_TEXT))


class RetroForm(ModelForm[ChurnRetro]):
    class Meta:
        model = ChurnRetro
        fields = ("what_happened", "root_cause", "learnings")
