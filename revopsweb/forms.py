"""The bases of every form the pages render.

Django ends each label it writes with a colon ("Reason:"), its ``label_suffix``;
the pages' labels sit above or beside their fields like the hand-written ones,
without it. Django sets the suffix on each instance in ``BaseForm.__init__`` (a
class attribute would be overwritten), so these bases pass ``label_suffix=""``
unless the caller gives one. The admin keeps Django's own forms and colons.

A select's empty choice reads one way per meaning, whatever the page:

- ``EMPTY_FILTER`` ("Any"): a filter left empty, the list not narrowed by it;
- ``EMPTY_PICK`` ("Choose…"): a choice the person has to make, none made yet;
- ``EMPTY_NONE`` ("—"): an optional value left empty.

Forms write them in their choices (``[("", EMPTY_FILTER), *Health.choices]``);
the bases give Django's own empty choice ("- Select an option -", of a
ModelChoiceField or a model field's choices) the pick's words when the field is
required and the none's otherwise. Hand-written selects take them through the
``choices`` template tags (revopsweb/templatetags/choices.py).
"""

from __future__ import annotations

from typing import Any, TypeVar

from django import forms
from django.db import models
from django.db.models.utils import get_blank_choice_label
from django.utils.choices import BlankChoiceIterator

_M = TypeVar("_M", bound=models.Model)

EMPTY_FILTER = "Any"
EMPTY_PICK = "Choose…"
EMPTY_NONE = "—"


def empty_choice(*, required: bool) -> tuple[str, str]:
    """The empty ``("", label)`` choice of a form's select: the pick's for a
    required field, the none's for an optional one (filters use EMPTY_FILTER)."""
    return ("", EMPTY_PICK if required else EMPTY_NONE)


def _name_empty_choices(fields: dict[str, forms.Field]) -> None:
    """Django's empty choice of ``fields`` (a form's own copies) in the app's words.
    A ModelChoiceField's options are not read (its queryset runs when rendered)."""
    django_label = str(get_blank_choice_label())
    for field in fields.values():
        if isinstance(field, forms.ModelChoiceField):
            if field.empty_label is not None and str(field.empty_label) == django_label:
                field.empty_label = empty_choice(required=field.required)[1]
        elif isinstance(field, forms.ChoiceField):
            choices = field.choices
            if isinstance(choices, BlankChoiceIterator) and [
                (value, str(label)) for value, label in choices.blank_choice
            ] == [("", django_label)]:
                # A model field's choices, its blank one added when they are read.
                field.choices = BlankChoiceIterator(
                    choices.choices, [empty_choice(required=field.required)]
                )
            elif (
                isinstance(choices, list)
                and choices
                and choices[0][0] == ""
                and str(choices[0][1]) == django_label
            ):
                field.choices = [empty_choice(required=field.required), *choices[1:]]


class Form(forms.Form):
    """Django's ``Form`` whose labels have no trailing colon and whose empty choices
    read as the module says."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        _name_empty_choices(self.fields)


class ModelForm(forms.ModelForm[_M]):
    """Django's ``ModelForm`` whose labels have no trailing colon and whose empty
    choices read as the module says."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        _name_empty_choices(self.fields)
