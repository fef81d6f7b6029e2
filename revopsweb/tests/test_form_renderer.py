"""The project's form renderer skips empty error lists and renders the rest as Django does."""

from __future__ import annotations

from django import forms
from django.forms.renderers import DjangoTemplates

from revopsweb.form_renderer import FormRenderer


class _Form(forms.Form):
    name = forms.CharField()
    count = forms.IntegerField()

    def clean(self):
        raise forms.ValidationError("Something is off.")


def _renders(form_data):
    """The same form's error output under Django's renderer and under ours."""
    outputs = []
    for renderer in (DjangoTemplates(), FormRenderer()):
        form = _Form(form_data, renderer=renderer)
        form.is_valid()
        outputs.append(
            [
                str(form["name"].errors),
                str(form["count"].errors),
                str(form.non_field_errors()),
                str(form.errors),
                form.errors.as_text(),
                form["count"].errors.as_text(),
            ]
        )
    return outputs


def test_errors_render_as_with_djangos_renderer():
    django_output, ours = _renders({"name": "", "count": "x"})

    assert ours == django_output
    assert "This field is required." in ours[0] and "Something is off." in ours[2]


def test_empty_error_lists_render_nothing_as_with_djangos_renderer():
    django_output, ours = _renders({"name": "a", "count": "1"})

    assert ours == django_output
    assert ours[0] == ours[1] == ""


def test_widgets_render_as_with_djangos_renderer():
    assert str(_Form(renderer=FormRenderer())["count"]) == str(
        _Form(renderer=DjangoTemplates())["count"]
    )
