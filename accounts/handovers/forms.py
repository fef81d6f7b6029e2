"""Forms of the handover pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.forms.models import ModelChoiceIterator

from accounts.handovers.checks import handover_roles, reason_check, reasons_for
from accounts.handovers.models import HandoverReason
from accounts.models import OwnerRole, User
from accounts.roles import Role
from revopsweb.forms import EMPTY_PICK, Form


class ProposeForm(Form):
    """Proposing a handover of an account its owner holds as ``from_role``.

    The reason list offered is the chosen transition's (``reasons_for``); a posted
    reason that does not fit the transition is refused on the reason field, the
    handbook's invalid reasons with its explanation. The incoming owners offered
    are the ``people`` who work in the incoming role; a posted person who does not
    is refused on the owner field, saying so. ``refresh_url`` makes the incoming
    role re-render the form through htmx when it changes, so both lists follow it;
    without JavaScript the page is opened with ``?to_role=``.
    """

    # The role comes first: the people offered follow it.
    to_role = forms.ChoiceField(choices=OwnerRole.choices, label="Incoming role")
    # Everyone in ``people`` validates as a choice so that clean() can say the
    # person does not work in the role rather than "Select a valid choice".
    to_owner = forms.ModelChoiceField(queryset=User.objects.none(), label="Incoming owner")
    # Every reason validates as a choice so that clean() can refuse the handbook's
    # invalid ones with its explanation rather than "Select a valid choice".
    reason = forms.ChoiceField(choices=[("", EMPTY_PICK), *HandoverReason.choices])
    reason_detail = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Details"
    )

    def __init__(
        self,
        *args: Any,
        people: QuerySet[User],
        from_role: str,
        refresh_url: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.from_role = from_role
        roles = handover_roles(from_role)
        role_field = self.fields["to_role"]
        role_field.choices = [(r, OwnerRole(r).label) for r in roles]  # type: ignore[attr-defined]
        owner_field = self.fields["to_owner"]
        assert isinstance(owner_field, forms.ModelChoiceField)
        owner_field.queryset = people
        offered = ModelChoiceIterator(owner_field)
        offered.queryset = people.filter(groups__name=self.incoming_role)
        owner_field.widget.choices = offered
        if refresh_url:
            role_field.widget.attrs.update(
                {
                    "hx-get": refresh_url,
                    "hx-trigger": "change",
                    "hx-include": "closest form",
                    "hx-target": "#propose-form",
                    "hx-swap": "outerHTML",
                }
            )
        self.fields["reason"].widget.choices = [
            ("", EMPTY_PICK),
            *(
                (r.value, r.label)
                for r in reasons_for(from_role=from_role, to_role=self.incoming_role)
            ),
        ]

    @property
    def incoming_role(self) -> str:
        """The incoming role the form is for: posted, else initial, else the first offered."""
        roles = handover_roles(self.from_role)
        value = self["to_role"].value()
        return str(value) if value in roles else (roles[0] if roles else "")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        reason, to_role = cleaned.get("reason"), cleaned.get("to_role")
        to_owner = cleaned.get("to_owner")
        if to_owner and to_role and not to_owner.has_role(to_role):
            self.add_error("to_owner", f"{to_owner} does not work as a {to_role}.")
        if reason and to_role:
            check = reason_check(reason, transition=(self.from_role, to_role))
            if not check.ok:
                self.add_error("reason", check.why)
        return cleaned


def incoming_people() -> QuerySet[User]:
    """Who can receive an account: active TAEs, TAMs and CSMs."""
    return User.objects.filter(
        is_active=True, groups__name__in=[Role.TAE, Role.TAM, Role.CSM]
    ).distinct()


class StepForm(Form):
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


class ChecklistItemForm(Form):
    key = forms.CharField(max_length=60)
    done = forms.BooleanField(required=False)
    note = forms.CharField(max_length=1000, required=False)


class NotesForm(Form):
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False)


class OnboardingItemForm(Form):
    section = forms.CharField(max_length=40)
    item = forms.CharField(max_length=40)
    done = forms.BooleanField(required=False)


class OverlayForm(Form):
    tam = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True, groups__name=Role.TAM), label="TAM"
    )
    expansion_note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Expansion potential"
    )
