"""Reading JSON API bodies safely and answering errors as JSON.

Every JSON endpoint reads its body with ``read_json_object`` and renders form
errors with ``form_errors``, so a huge, broken, deeply nested or oddly shaped
body is a JSON 400/413 naming the problem, never an HTML error page or a 500.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse


class BodyError(Exception):
    """The body cannot be used: ``status`` (400 or 413), ``field`` and ``message`` say why."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(message)
        self.status, self.field, self.message = status, field, message

    @property
    def response(self) -> JsonResponse:
        """``{"errors": {field: [message]}}`` with the status."""
        return error(self.status, self.field, self.message)


def error(status: int, field: str, message: str) -> JsonResponse:
    """The JSON error answer of the form-shaped APIs: ``{"errors": {field: [message]}}``."""
    return JsonResponse({"errors": {field: [message]}}, status=status)


def read_json_object(request: HttpRequest) -> dict[str, Any]:
    """The request body as a JSON object; BodyError (400 or 413, JSON) otherwise.

    Bodies over ``API_MAX_BODY_BYTES`` are refused before they are read.
    """
    limit: int = settings.API_MAX_BODY_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise BodyError(413, "__all__", f"The body is larger than {limit:,} bytes.")
    try:
        raw = request.body
    except RequestDataTooBig:
        raise BodyError(413, "__all__", f"The body is larger than {limit:,} bytes.") from None
    if len(raw) > limit:
        raise BodyError(413, "__all__", f"The body is larger than {limit:,} bytes.")
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise BodyError(400, "__all__", "The body is not valid JSON.") from None
    except RecursionError:
        raise BodyError(400, "__all__", "The body is nested too deeply.") from None
    if not isinstance(body, dict):
        raise BodyError(400, "__all__", "Send one JSON object.")
    return body


def form_errors(
    form: forms.BaseForm, *, unknown: Mapping[str, object] | None = None
) -> dict[str, list[str]]:
    """``{field: [message, …]}`` for ``form``, plus "Unknown field." for each key of
    ``unknown`` the form does not have."""
    errors = {
        name: [item["message"] for item in items]
        for name, items in form.errors.get_json_data().items()
    }
    for name in sorted(set(unknown or {}) - set(form.fields)):
        errors[name] = ["Unknown field."]
    return errors
