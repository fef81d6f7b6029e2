from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import CharField, F, Value
from django.db.models.functions import Coalesce, NullIf

from accounts.forms import ORGANIZATION_ID_LENGTH
from accounts.models import Account, User
from revopsweb import parsing
from revopsweb.forms import EMPTY_FILTER, EMPTY_NONE, EMPTY_PICK, Form, ModelForm
from revopsweb.widgets import PlainSelect, ValuesModelChoiceField

from .intake import Lead
from .models import (
    SYSTEM_ONLY_REASONS,
    SYSTEM_ONLY_SOURCES,
    DisqualificationReason,
    LeadType,
    Opportunity,
    Task,
    TaskEventKind,
    TaskSource,
    TaskStatus,
    Territory,
    TimeOff,
    TrackerMember,
    TrackerRole,
)
from .permissions import addable_users
from .tracker import MAX_MANUAL_ADJUSTMENT

MESSAGE_MAX_LENGTH = 10_000
IDEMPOTENCY_KEY_LENGTH = Task._meta.get_field("idempotency_key").max_length or 200

ROLE_CHOICES = [
    ("", EMPTY_NONE),
    ("engineering", "Engineering"),
    ("product", "Product"),
    ("leadership/founder", "Leadership / founder"),
    ("marketing", "Marketing"),
    ("other", "Other"),
]
SUB_ROLE_CHOICES = [
    ("", EMPTY_NONE),
    ("software_engineer", "Software engineer"),
    ("web_engineer", "Web engineer"),
    ("data_science_engineer", "Data science engineer"),
    ("project_engineer", "Project engineer"),
    ("founder/ceo", "Founder / CEO"),
    ("other", "Other"),
]


class IntakeForm(Form):
    """The fields every intake path shares (contact form, new task form, JSON API)."""

    name = parsing.TextField(max_length=150)
    email = parsing.EmailField(label="Work email")
    company = parsing.TextField(max_length=200)
    domain = parsing.TextField(max_length=200, required=False, help_text="Defaults to the email's.")
    role = forms.ChoiceField(choices=ROLE_CHOICES, required=False)
    sub_role = forms.ChoiceField(choices=SUB_ROLE_CHOICES, required=False)
    country = forms.RegexField(
        regex=r"^[A-Za-z]{2}$",
        required=False,
        max_length=2,
        help_text="Two-letter country code.",
        error_messages={"invalid": "Use a two-letter country code such as DE or US."},
    )
    state = parsing.TextField(max_length=2, required=False, label="U.S. state")
    # Bounded by the account column the count is stored in (2,147,483,647).
    employees = parsing.IntegerField.for_column(Account, "employee_count", required=False)
    estimated_revenue = parsing.AmountField(
        required=False, max_abs=Decimal("99999999999999.99"), label="Estimated revenue ($)"
    )
    monthly_active_users = parsing.IntegerField(
        min_value=0, max_value=10**12, required=False, label="Monthly active users / events"
    )
    message = parsing.TextField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=MESSAGE_MAX_LENGTH
    )

    def clean_domain(self) -> str:
        domain = str(self.cleaned_data.get("domain") or "").strip().lower()
        return domain.removeprefix("https://").removeprefix("http://").removeprefix("www.")

    def to_lead(self, *, organization_id: str = "") -> Lead:
        data = self.cleaned_data
        return Lead(
            name=data["name"],
            email=data["email"],
            company=data["company"],
            domain=data["domain"],
            role=data["role"],
            sub_role=data["sub_role"],
            country=(data["country"] or "").upper(),
            state=(data["state"] or "").upper(),
            employees=data["employees"],
            estimated_revenue=data["estimated_revenue"],
            monthly_active_users=data["monthly_active_users"],
            message=data["message"],
            organization_id=organization_id,
        )


class NewTaskForm(IntakeForm):
    """Manual entry by a logged-in person: the sources without the ones only the jobs
    set (``SYSTEM_ONLY_SOURCES``); one posted anyway is refused on the source field."""

    # Nothing preselected: sales/overview's manual entry says "Assign the correct
    # Lead Source from drop down", and a default would be taken without a look.
    # Every source validates as a choice so that clean() can say why a system one is
    # refused rather than "Select a valid choice"; __init__ narrows the options.
    source = forms.ChoiceField(
        choices=[("", EMPTY_PICK), *TaskSource.choices],
        error_messages={"required": "Choose the lead source."},
    )
    lead_type = forms.ChoiceField(choices=LeadType.choices, initial=LeadType.NEW_BUSINESS)

    # Refused here and by the JSON intake (ApiIntakeForm): one validator for a task's
    # input, whatever it comes through; a lead rule's or a follow-up's task comes from
    # the app's own jobs, never from outside.
    refused_sources: frozenset[str] = SYSTEM_ONLY_SOURCES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].widget.choices = [
            ("", EMPTY_PICK),
            *(c for c in TaskSource.choices if c[0] not in self.refused_sources),
        ]

    def clean_source(self) -> str:
        source = str(self.cleaned_data.get("source") or "")
        if source in self.refused_sources:
            raise forms.ValidationError(
                f"“{TaskSource(source).label}” is set only by the system; choose where "
                "the lead came from."
            )
        return source


class ApiIntakeForm(NewTaskForm):
    """The JSON intake payload; the idempotency key may also come as a header."""

    lead_type = forms.ChoiceField(choices=[("", ""), *LeadType.choices], required=False)
    organization_id = parsing.KeyField(max_length=ORGANIZATION_ID_LENGTH, required=False)
    idempotency_key = parsing.TextField(max_length=IDEMPOTENCY_KEY_LENGTH, required=False)


class TouchForm(Form):
    kind = forms.ChoiceField(
        choices=[
            (TaskEventKind.STATUS, "Status change"),
            (TaskEventKind.NOTE, "Note"),
            (TaskEventKind.CALL, "Call"),
            (TaskEventKind.EMAIL, "Email"),
        ]
    )
    status = forms.ChoiceField(
        choices=[
            ("", EMPTY_NONE),
            (TaskStatus.NEW, TaskStatus.NEW.label),
            (TaskStatus.IN_PROGRESS, TaskStatus.IN_PROGRESS.label),
            (TaskStatus.NURTURING, TaskStatus.NURTURING.label),
        ],
        required=False,
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == TaskEventKind.STATUS and not data.get("status"):
            self.add_error("status", "Pick the new status.")
        if (
            data.get("kind") in (TaskEventKind.NOTE, TaskEventKind.CALL, TaskEventKind.EMAIL)
            and not (data.get("note") or "").strip()
        ):
            self.add_error("note", "Say what happened.")
        return data


class UndoAssignmentForm(Form):
    reason = forms.CharField(
        max_length=300, strip=True, help_text="Why the assignment was wrong (kept in the ledger)."
    )


class DisqualifyForm(Form):
    """Disqualifying by hand: the picklist without the reasons only the system sets
    (``SYSTEM_ONLY_REASONS``); one posted anyway is refused on the reason field."""

    # Every reason validates as a choice so that clean() can say why a system one
    # is refused rather than "Select a valid choice"; __init__ narrows the options.
    reason = forms.ChoiceField(choices=[("", EMPTY_PICK), *DisqualificationReason.choices])
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    follow_up_on = forms.DateField(
        label="Follow-up on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=(
            "Prospect reasons only; empty takes the default (No Response – Prospect 120 days, "
            "Below Sales Assist – Prospect 90, Using Competitor 270)."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].widget.choices = [
            ("", EMPTY_PICK),
            *(c for c in DisqualificationReason.choices if c[0] not in SYSTEM_ONLY_REASONS),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("reason") == DisqualificationReason.OTHER
            and not (data.get("comment") or "").strip()
        ):
            self.add_error("comment", "“Other” needs a comment.")
        if data.get("reason") in SYSTEM_ONLY_REASONS:
            label = DisqualificationReason(data["reason"]).label
            self.add_error(
                "reason",
                f"“{label}” is set only by the system; choose the reason that best "
                "matches the situation.",
            )
        return data


class NurtureForm(Form):
    """Not yet: come back in 30–60 days (sales/product-led-lead-qualification)."""

    follow_up_on = forms.DateField(
        label="Come back on", widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(
        label="Why nurture", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class ConvertForm(ModelForm[Opportunity]):
    class Meta:
        model = Opportunity
        fields = ("record_type", "type", "amount", "close_date")
        widgets = {"close_date": forms.DateInput(attrs={"type": "date"})}  # noqa: RUF012


class TeamFilterForm(Form):
    # The same HTML without a template render per option (PlainSelect) or a model
    # instance per person (ValuesModelChoiceField): the people's select alone (415
    # at the 100,000-account seed) was about half of the team tasks page's Python
    # time (issue 20). The labels are Territory.__str__ and User.__str__ in SQL.
    territory = ValuesModelChoiceField(
        queryset=Territory.objects.all(),
        label_expression=F("name"),
        required=False,
        empty_label=EMPTY_FILTER,
        widget=PlainSelect,
    )
    status = forms.ChoiceField(
        choices=[("", EMPTY_FILTER), *TaskStatus.choices], required=False, widget=PlainSelect
    )
    assignee = ValuesModelChoiceField(
        queryset=User.objects.filter(tracker_member__isnull=False),
        label_expression=Coalesce(NullIf("name", Value("")), "email", output_field=CharField()),
        required=False,
        empty_label=EMPTY_FILTER,
        widget=PlainSelect,
    )
    source = forms.ChoiceField(
        choices=[("", EMPTY_FILTER), *TaskSource.choices], required=False, widget=PlainSelect
    )


def _adjustment_field(**kwargs: Any) -> forms.IntegerField:
    return forms.IntegerField(
        min_value=-MAX_MANUAL_ADJUSTMENT,
        max_value=MAX_MANUAL_ADJUSTMENT,
        help_text=f"Leads counted as already received this month, ±{MAX_MANUAL_ADJUSTMENT}.",
        **kwargs,
    )


# The tracker row's fields whose change moves a number of the round robin (its load
# or who is counted at all), each with the words of the reason field's error.
_WEIGHED_FIELDS = {
    "priority": "the priority",
    "manual_adjustment": "the adjustment",
    "is_active": "“Active”",
}
# Which territories' round robins the member is in: moves leads as much as a weight.
_TERRITORIES_WORDS = "the territories"


def _ids(territories: Any) -> set[int]:
    """Territory ids of a list of territories or of their ids (a form's initial)."""
    return {int(getattr(t, "pk", t)) for t in territories}


class MemberForm(Form):
    """Inline edit of one tracker row; changing the priority, the adjustment, active
    or the territories needs a reason (the ledger's "why"), refused on the reason
    field."""

    # Bounded by its smallint column too: 32,768 is a field error, not a 500.
    priority = parsing.IntegerField.for_column(TrackerMember, "priority", min_value=1)
    manual_adjustment = _adjustment_field()
    is_active = forms.BooleanField(required=False)
    territories = forms.ModelMultipleChoiceField(queryset=Territory.objects.all())
    reason = forms.CharField(max_length=200, required=False)

    @classmethod
    def for_member(
        cls, member: TrackerMember, data: Any = None, *, territory_ids: list[int] | None = None
    ) -> MemberForm:
        """The member's form; ``territory_ids`` (their territories' ids, as the tracker's
        rows carry them) spares reading the territories again."""
        return cls(
            data,
            prefix=f"m{member.pk}",
            initial={
                "priority": member.priority,
                "manual_adjustment": member.manual_adjustment,
                "is_active": member.is_active,
                "territories": list(member.territories.all())
                if territory_ids is None
                else territory_ids,
            },
        )

    # The preview (MemberPreviewForm) saves nothing and so asks no reason.
    needs_reason = True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.needs_reason:
            return data
        changed = [
            words
            for name, words in _WEIGHED_FIELDS.items()
            if data.get(name) is not None and data[name] != self.initial.get(name)
        ]
        if data.get("territories") is not None and _ids(data["territories"]) != _ids(
            self.initial.get("territories") or []
        ):
            changed.append(_TERRITORIES_WORDS)
        if changed and not (data.get("reason") or "").strip():
            if changed == [_TERRITORIES_WORDS]:
                self.add_error("reason", f"Say why {_TERRITORIES_WORDS} change.")
            elif len(changed) == 1:
                self.add_error("reason", f"Say why {changed[0]} changes.")
            else:
                what = f"{', '.join(changed[:-1])} and {changed[-1]}"
                self.add_error("reason", f"Say why {what} change.")
        return data


class MemberPreviewForm(MemberForm):
    """A tracker row's unsaved values, for the preview of the next tasks: no reason."""

    needs_reason = False


class AddMemberForm(Form):
    user = forms.ModelChoiceField(queryset=User.objects.filter(tracker_member__isnull=True))
    role = forms.ChoiceField(choices=TrackerRole.choices)
    territories = forms.ModelMultipleChoiceField(queryset=Territory.objects.all())
    priority = parsing.IntegerField.for_column(TrackerMember, "priority", min_value=1, initial=1)
    manual_adjustment = _adjustment_field(required=False)
    reason = forms.CharField(max_length=200, required=False)

    @classmethod
    def for_user(cls, user: User, data: Any = None, **kwargs: Any) -> AddMemberForm:
        """The form offering only the people ``user`` may add (their team for a team lead)."""
        form = cls(data, **kwargs)
        field = form.fields["user"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = addable_users(user)
        return form


class TimeOffForm(ModelForm[TimeOff]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["member"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = TrackerMember.objects.select_related("user")

    class Meta:
        model = TimeOff
        fields = ("member", "starts_on", "ends_on", "note")
        widgets = {  # noqa: RUF012
            "starts_on": forms.DateInput(attrs={"type": "date"}),
            "ends_on": forms.DateInput(attrs={"type": "date"}),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", "The last day off is on or after the first.")
        return data
