"""Helpers for the table-driven view cases in each app's ``tests/test_view_cases.py``.

Every page and action has four cases: the full page, the htmx partial, a
method it does not take (405) and a user it is not for (403, or 404 where the
object is outside what that user may see). Each table row is its own test; the
tables are written out by hand, never read from the URL conf, so a view that
loses its method guard or its permission check fails its row.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.test import Client

HTMX = {"HTTP_HX_REQUEST": "true"}


def call(
    client: Client, method: str, url: str, data: dict[str, Any] | None = None, **extra: Any
) -> HttpResponse:
    response: HttpResponse = getattr(client, method)(url, data or {}, **extra)
    return response


def is_full_page(response: HttpResponse) -> bool:
    return b"<html" in response.content


def is_partial(response: HttpResponse) -> bool:
    """An htmx answer: some HTML, but not a whole page."""
    return (
        response.status_code == 200
        and b"<html" not in response.content
        and bool(response.content.strip())
    )
