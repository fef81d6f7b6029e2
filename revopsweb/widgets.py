"""Selects that write their options without a template per option or a model
instance per option.

Django renders a ``<select>`` as one template, which includes one template per
option and the attributes' template for each: for the team tasks page's filter
(415 people, 7 territories, the statuses and sources) that was about half of the
page's Python time at the 100,000-account seed (issue 20: pages that stay small).
A ModelChoiceField's options were model instances read through a server-side
cursor, about a sixth of what was left.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models.expressions import Combinable
from django.forms.models import ModelChoiceIterator
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString


def _attrs_html(attrs: dict[str, Any]) -> str:
    """``attrs`` as Django's ``django/forms/widgets/attrs.html`` writes them: each
    attribute with a space before it, ``True`` as a bare name, ``False`` left out."""
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{conditional_escape(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )


class PlainSelect(forms.Select):
    """``forms.Select`` that writes its HTML itself, byte for byte what Django's
    ``select.html`` and ``select_option.html`` templates write (text escaped as
    autoescape does), without a template render per option. Choices in groups
    (optgroups) and multiple selects are left to Django's templates."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        # Through iter(): list() of the choices themselves asks their length first,
        # which a ModelChoiceIterator answers with a COUNT query.
        choices = list(iter(self.choices))
        if self.allow_multiple_selected or any(
            isinstance(label, list | tuple) for _, label in choices
        ):
            return super().render(name, value, attrs, renderer)
        values = self.format_value(value)
        html = [
            f'<select name="{conditional_escape(name)}"{_attrs_html(self.build_attrs(self.attrs, attrs))}>'
        ]
        # As ChoiceWidget.optgroups: only the first option whose value matches is selected.
        has_selected = False
        for option_value, label in choices:
            option = "" if option_value is None else str(option_value)
            selected = not has_selected and option in values
            has_selected |= selected
            html.append(
                f'\n  <option value="{conditional_escape(option)}"{" selected" if selected else ""}>'
                f"{conditional_escape(cast('str', label))}</option>\n"
            )
        # The renderer strips the template's output: no newline after </select>.
        html.append("\n</select>")
        return SafeString("".join(html))


class _ValuesChoiceIterator(ModelChoiceIterator[Any]):
    """A ``ValuesModelChoiceField``'s options: the empty one, then (pk, label) rows."""

    field: ValuesModelChoiceField

    def __iter__(self) -> Any:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        yield from self.queryset.values_list("pk", self.field.label_expression)


class ValuesModelChoiceField(forms.ModelChoiceField[Any]):
    """``forms.ModelChoiceField`` whose options are read as values: each option the
    row's pk and ``label``, an expression that must equal the field's
    ``label_from_instance`` (``str`` of the instance) in SQL. One plain query, no
    model instance per option. Validation is ModelChoiceField's (one ``get``)."""

    iterator = _ValuesChoiceIterator

    def __init__(self, queryset: Any, *, label_expression: Combinable, **kwargs: Any) -> None:
        self.label_expression = label_expression
        super().__init__(queryset, **kwargs)
