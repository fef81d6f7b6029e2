from __future__ import annotations

import pytest
from django import forms
from django.db.models import CharField, F, Value
from django.db.models.functions import Coalesce, NullIf

from accounts.models import User
from accounts.tests.factories import UserFactory
from revopsweb.widgets import PlainSelect, ValuesModelChoiceField

CHOICES = [("", "Any"), ("a", "Apples"), ("b&c", "B & <C>"), ("a", "Apples again"), (3, 7)]


def _form(widget: type[forms.Select], data: dict[str, str] | None = None) -> forms.Form:
    class Form(forms.Form):
        fruit = forms.ChoiceField(choices=CHOICES, required=False, widget=widget)
        needed = forms.ChoiceField(
            choices=CHOICES[1:], widget=widget(attrs={"class": "small", "hidden": False})
        )
        grouped = forms.ChoiceField(
            choices=[("", "None"), ("Fruit", [("a", "Apples"), ("p", "Pears")])],
            required=False,
            widget=widget,
        )

    return Form(data)


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"fruit": "a", "needed": "b&c", "grouped": "p"},
        {"fruit": "3", "needed": "nothing like it"},
        {"fruit": "b&c"},
    ],
    ids=["unbound", "chosen", "invalid", "required-missing"],
)
def test_a_plain_select_writes_what_djangos_select_writes(data):
    django, plain = _form(forms.Select, data), _form(PlainSelect, data)
    for name in ("fruit", "needed", "grouped"):
        assert str(plain[name]) == str(django[name]), name


def test_a_plain_select_selects_only_the_first_option_of_the_value():
    html = str(_form(PlainSelect, {"fruit": "a"})["fruit"])
    assert html.count(" selected") == 1
    assert '<option value="a" selected>Apples</option>' in html


def _people_form(field_class, **extra):
    class Form(forms.Form):
        person = field_class(
            queryset=User.objects.order_by("pk"), required=False, widget=PlainSelect, **extra
        )

    return Form


@pytest.mark.django_db
def test_a_values_model_choice_field_lists_what_a_model_choice_field_lists():
    UserFactory.create(name="Ann <Lee>")
    chosen = UserFactory.create(name="", email="no-name@example.test")
    label = Coalesce(NullIf("name", Value("")), "email", output_field=CharField())
    by_values = _people_form(ValuesModelChoiceField, label_expression=label)
    by_instances = _people_form(forms.ModelChoiceField)
    for data in (None, {"person": str(chosen.pk)}):
        assert str(by_values(data)["person"]) == str(by_instances(data)["person"])
    assert "no-name@example.test" in str(by_values()["person"])


@pytest.mark.django_db
def test_a_values_model_choice_field_validates_as_a_model_choice_field():
    person = UserFactory.create()
    form = _people_form(ValuesModelChoiceField, label_expression=F("email"))(
        {"person": str(person.pk)}
    )
    assert form.is_valid() and form.cleaned_data["person"] == person
    refused = _people_form(ValuesModelChoiceField, label_expression=F("email"))({"person": "0"})
    assert not refused.is_valid()
