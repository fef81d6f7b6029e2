from __future__ import annotations

import contextlib
from collections.abc import Callable

from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.template.loader import render_to_string


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
    """Answer 400 to a request whose path, query string or form fields contain a NUL.

    PostgreSQL text cannot hold NUL, so such a value reaching any query would
    be a 500 (``/tracker/?territory=%00``); no legitimate input has one. Forms
    refuse NUL as a field error too (Django's ``CharField``); this catches raw
    ``request.GET``/``request.POST`` reads and URL parts in one place. API paths
    (``/api/``) get JSON.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = self._nul_field(request)
        if field is not None:
            message = "A NUL character is not allowed here."
            if request.path.startswith("/api/"):
                return JsonResponse({"errors": {field: [message]}}, status=400)
            return HttpResponseBadRequest(f"{field}: {message}", content_type="text/plain")
        return self.get_response(request)

    @staticmethod
    def _nul_field(request: HttpRequest) -> str | None:
        if "\x00" in request.path:
            return "path"
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
