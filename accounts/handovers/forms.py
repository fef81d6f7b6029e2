"""Forms of the handover pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from accounts.handovers.models import HandoverReason
from accounts.models import OwnerRole, User
from accounts.roles import Role


class ProposeForm(forms.Form):
    to_owner = forms.ModelChoiceField(queryset=User.objects.none(), label="Incoming owner")
    to_role = forms.ChoiceField(choices=OwnerRole.choices, label="Incoming role")
    reason = forms.ChoiceField(choices=[("", "–"), *HandoverReason.choices])
    reason_detail = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Details"
    )

    def __init__(self, *args: Any, people: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_owner"].queryset = people  # type: ignore[attr-defined]


def incoming_people() -> QuerySet[User]:
    """Who can receive an account: active TAEs, TAMs and CSMs."""
    return User.objects.filter(
        is_active=True, groups__name__in=[Role.TAE, Role.TAM, Role.CSM]
    ).distinct()


class StepForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    override_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Manager override reason"
    )
    call_at = forms.DateTimeField(
        required=False,
        label="Call at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    intro_sent = forms.BooleanField(required=False, label="Intro sent to the customer")


class ChecklistItemForm(forms.Form):
    key = forms.CharField(max_length=60)
    done = forms.BooleanField(required=False)
    note = forms.CharField(max_length=1000, required=False)


class NotesForm(forms.Form):
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False)


class OnboardingItemForm(forms.Form):
    section = forms.CharField(max_length=40)
    item = forms.CharField(max_length=40)
    done = forms.BooleanField(required=False)


class OverlayForm(forms.Form):
    tam = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True, groups__name=Role.TAM), label="TAM"
    )
    expansion_note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Expansion potential"
    )
