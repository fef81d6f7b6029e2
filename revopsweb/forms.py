"""The bases of every form the pages render.

Django ends each label it writes with a colon ("Reason:"), its ``label_suffix``;
the pages' labels sit above or beside their fields like the hand-written ones,
without it. Django sets the suffix on each instance in ``BaseForm.__init__`` (a
class attribute would be overwritten), so these bases pass ``label_suffix=""``
unless the caller gives one. The admin keeps Django's own forms and colons.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django import forms
from django.db import models

_M = TypeVar("_M", bound=models.Model)


class Form(forms.Form):
    """Django's ``Form`` whose labels have no trailing colon."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class ModelForm(forms.ModelForm[_M]):
    """Django's ``ModelForm`` whose labels have no trailing colon."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
