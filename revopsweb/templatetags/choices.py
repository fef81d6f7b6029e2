"""The empty choice of a select a template writes by hand, in the words every form
uses (revopsweb/forms.py): ``{% load choices %}<option value="">{% empty_pick %}</option>``."""

from __future__ import annotations

from django import template

from revopsweb import forms

register = template.Library()


@register.simple_tag
def empty_pick() -> str:
    """A choice to make, none made yet: "Choose…"."""
    return forms.EMPTY_PICK
