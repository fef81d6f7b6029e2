"""The form renderer every form uses (``settings.FORM_RENDERER``).

Django renders each ``{{ form.field.errors }}`` through its error-list
template, also when the list is empty, and those templates then render
nothing (each starts ``{% if errors %}``, or loops over no errors). On the
tracker that was about 25 template renders per request for empty strings
(issue 20: the pages near their SQL). This renderer answers ``""`` for an
empty error list or dict without loading a template; everything else is
Django's ``DjangoTemplates`` renderer unchanged.
"""

from __future__ import annotations

from typing import Any

from django.forms.renderers import DjangoTemplates
from django.http import HttpRequest

_ERROR_TEMPLATES = "django/forms/errors/"


class FormRenderer(DjangoTemplates):
    """``DjangoTemplates`` with no template render for an empty error list."""

    def render(
        self, template_name: str, context: dict[str, Any], request: HttpRequest | None = None
    ) -> str:
        if template_name.startswith(_ERROR_TEMPLATES) and not context.get("errors"):
            return ""
        return str(super().render(template_name, context, request=request))
