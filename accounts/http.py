"""The request type of the staff pages, for the type checker."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from .models import User


class StaffRequest(HttpRequest):
    """A request to a page behind ``LoginRequiredMiddleware``, through django-htmx's
    middleware: ``user`` is a signed-in User, and ``htmx`` is truthy when the
    request came from htmx (its ``HX-Request`` header). Public pages and the
    token-authenticated APIs keep ``HttpRequest``."""

    user: User  # narrower than AnonymousUser | User
    htmx: HtmxDetails
