from __future__ import annotations

from collections.abc import Callable

from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
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
