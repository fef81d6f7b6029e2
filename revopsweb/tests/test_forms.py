"""The pages' forms write their labels without Django's trailing colon."""

from __future__ import annotations

import datetime as dt
from importlib import import_module

import pytest
from django import forms
from django.urls import reverse

from accounts.handovers.tests.handover_factories import fill_top_40, ready_account
from accounts.tests.factories import tam
from revopsweb.auth_forms import LoginForm
from revopsweb.forms import Form, ModelForm
from revopsweb.imports import RowValidatedModelForm

APPS = ("accounts", "billing", "leads", "revopsweb")


def _subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    subs: list[type] = cls.__subclasses__()
    for sub in subs:
        found |= {sub, *_subclasses(sub)}
    return found


def test_every_form_of_the_apps_derives_from_the_bases_without_a_colon():
    import_module("revopsweb.urls")  # every page, so every form module, is imported
    theirs = {
        cls
        for cls in _subclasses(forms.BaseForm)
        if cls.__module__.split(".")[0] in APPS and ".tests" not in cls.__module__
    }
    # The admin's forms keep Django's look; the login page writes its own labels.
    kept = {cls for cls in theirs if issubclass(cls, RowValidatedModelForm) or cls is LoginForm}
    assert len(theirs - kept) > 30
    assert {
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in theirs - kept
        if not issubclass(cls, (Form, ModelForm))
    } == set()


def test_a_caller_may_still_ask_for_a_suffix():
    class Named(Form):
        name = forms.CharField()

    assert str(Named()["name"].label_tag()) == '<label for="id_name">Name</label>'
    assert str(Named(label_suffix=":")["name"].label_tag()) == '<label for="id_name">Name:</label>'


@pytest.mark.django_db
def test_the_propose_page_labels_read_without_a_colon(client, time_machine):
    time_machine.move_to(dt.datetime(2026, 5, 15, 12, 0, tzinfo=dt.UTC), tick=False)
    fill_top_40()
    account = ready_account(tam())
    client.force_login(account.owner)
    page = client.get(reverse("handovers:propose", args=[account.pk])).content.decode()
    assert '<label for="id_reason">Reason</label>' in page
    assert ":</label>" not in page


# --- empty choices: one wording per meaning ----------------------------------------


def test_djangos_empty_choice_reads_choose_when_required_and_a_dash_when_optional():
    from accounts.models import User
    from leads.models import Opportunity, Task

    class People(Form):
        required = forms.ModelChoiceField(queryset=User.objects.none())
        optional = forms.ModelChoiceField(queryset=User.objects.none(), required=False)

    class Pick(ModelForm[Opportunity]):
        class Meta:
            model = Opportunity
            fields = ("record_type",)

    class Optional(ModelForm[Task]):
        class Meta:
            model = Task
            fields = ("disqualification_reason",)

    people = People()
    assert people.fields["required"].empty_label == "Choose…"  # type: ignore[attr-defined]
    assert people.fields["optional"].empty_label == "—"  # type: ignore[attr-defined]
    assert Pick().fields["record_type"].choices[0] == ("", "Choose…")  # type: ignore[attr-defined]
    assert Optional().fields["disqualification_reason"].choices[0] == ("", "—")  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_the_team_tasks_filters_all_read_any_when_empty(client):
    from accounts.tests.factories import team_lead

    client.force_login(team_lead())
    page = client.get(reverse("leads:team_tasks")).content.decode()

    for name in ("territory", "status", "assignee", "source"):
        select = page.split(f'<select name="{name}"', 1)[1].split("</select>", 1)[0]
        assert '<option value="" selected>Any</option>' in select, name
