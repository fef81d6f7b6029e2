from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

import pghistory.middleware
from django.contrib.auth.middleware import get_user
from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.loader import render_to_string

from . import jsonapi


class HtmxMessagesMiddleware:
    """Show Django messages after htmx actions.

    A partial swap never re-renders the page's message area, so messages added
    during an htmx request are appended as an out-of-band swap of #messages.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            not getattr(request, "htmx", False)
            or getattr(request.htmx, "boosted", False)  # type: ignore[attr-defined]
            or "HX-Redirect" in response
            or "HX-Location" in response
            or 300 <= response.status_code < 400
            or response.streaming
            or not response.get("Content-Type", "").startswith("text/html")
        ):
            return response
        # Listing the messages marks them as shown, so the next page won't repeat them.
        messages = list(get_messages(request))
        if messages:
            response.write(
                render_to_string("base.html#messages", {"messages": messages}, request=request)
            )
        return response


class RefuseNulMiddleware:
    """Answer 400 to a request whose path, headers, query string or form fields
    contain a NUL.

    PostgreSQL text cannot hold NUL, so such a value reaching any query would
    be a 500 (``/tracker/?territory=%00``); no legitimate input has one. Forms
    refuse NUL as a field error too (Django's ``CharField``); this catches raw
    ``request.GET``/``request.POST`` reads and URL parts in one place. Headers
    too: django-axes stores a login's User-Agent and Accept, and HTTP forbids NUL
    in a header value (RFC 9110 5.5), which gunicorn answers with 400 before the
    app while other servers pass it on. API paths (``/api/``) get JSON.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = self._nul_field(request)
        if field is not None:
            message = "A NUL character is not allowed here."
            if request.path.startswith("/api/"):
                return jsonapi.error(400, field, message)
            return HttpResponseBadRequest(f"{field}: {message}", content_type="text/plain")
        return self.get_response(request)

    @staticmethod
    def _nul_field(request: HttpRequest) -> str | None:
        if "\x00" in request.path:
            return "path"
        for key, value in request.META.items():
            if key.startswith("HTTP_") and isinstance(value, str) and "\x00" in value:
                # HTTP_USER_AGENT -> User-Agent, as the client sent it.
                return key.removeprefix("HTTP_").replace("_", "-").title()
        sources = [request.GET]
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            # Too big or malformed: the view's own 400 says so.
            with contextlib.suppress(Exception):
                sources.append(request.POST)
        for data in sources:
            for key, values in data.lists():
                if "\x00" in key or any("\x00" in v for v in values):
                    return key.replace("\x00", "") or "query"
        return None


# The session key holding when the session's expiry was last moved (epoch seconds).
SESSION_REFRESHED_AT = "_refreshed_at"
# Move the expiry at most this often: saving the session on every request
# would add a write (three statements) to every page, for a few minutes of
# precision on a working day's timeout.
SESSION_REFRESH_SECONDS = 300


def mark_session_refreshed(request: HttpRequest) -> None:
    """Record that the session's expiry starts now (at login, and by the middleware)."""
    session = getattr(request, "session", None)
    if session is not None:
        session[SESSION_REFRESHED_AT] = int(time.time())


class ResolvedUserMiddleware:
    """``request.user`` as the user itself rather than Django's lazy proxy.

    Every request that reaches a view reads the user (the history context, the
    login requirement, navigation, permissions), so nothing is saved by waiting;
    through the proxy each attribute read raised and caught an AttributeError, and
    My book reads it about 370 times (issue 20). Placed right after
    ``AuthenticationMiddleware``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.user = get_user(request)
        return self.get_response(request)


class SlidingSessionMiddleware:
    """Log staff out after SESSION_COOKIE_AGE seconds without a request.

    The database session expires SESSION_COOKIE_AGE after its last save;
    a logged-in request at least SESSION_REFRESH_SECONDS after the last
    refresh marks the session modified, so SessionMiddleware saves it with a
    new expiry (and cookie). Idle timeout is therefore SESSION_COOKIE_AGE,
    give or take five minutes. Requests without a session cookie are not
    touched (no session query for anonymous visitors).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or session.session_key is None:
            return response
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            last = int(session.get(SESSION_REFRESHED_AT, 0))
            if time.time() - last >= SESSION_REFRESH_SECONDS:
                mark_session_refreshed(request)
        return response


def history_source(path: str) -> str:
    """Where a web request's changes come from, as recorded in the history context:
    ``admin`` (the Django admin), ``api`` (an integration token's JSON API) or ``web``."""
    if path.startswith("/admin/"):
        return "admin"
    if path.startswith("/api/"):
        return "api"
    return "web"


class HistoryMiddleware(pghistory.middleware.HistoryMiddleware):
    """django-pghistory's request context (user, url) plus ``source``.

    Every row change a tracked table's trigger records during the request
    carries this context, so the history says who, when and through which path.
    """

    def get_context(self, request: HttpRequest) -> dict[str, Any]:
        return {**super().get_context(request), "source": history_source(request.path)}
