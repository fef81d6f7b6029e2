from __future__ import annotations

import pytest
from django.contrib import messages
from django.http import HttpResponse
from django.test import RequestFactory
from django_htmx.middleware import HtmxMiddleware

from accounts.tests.factories import tam
from revopsweb.middleware import HtmxMessagesMiddleware

pytestmark = pytest.mark.django_db


def _run(request, add_message=True):
    from django.contrib.messages.storage.cookie import CookieStorage

    request._messages = CookieStorage(request)

    def view(req):
        if add_message:
            messages.success(req, "Priority saved")
        return HttpResponse("<tr id='row'>updated</tr>", content_type="text/html; charset=utf-8")

    return HtmxMiddleware(HtmxMessagesMiddleware(view))(request)


def test_htmx_response_carries_messages_out_of_band():
    request = RequestFactory().post("/x", headers={"HX-Request": "true"})
    request.user = tam()
    body = _run(request).content.decode()
    assert body.startswith("<tr id='row'>updated</tr>")
    assert 'id="messages"' in body and "Priority saved" in body
    # Filled in place: replacing the live region itself would go unannounced.
    assert 'hx-swap-oob="innerHTML"' in body


def test_plain_request_is_left_alone():
    request = RequestFactory().post("/x")
    request.user = tam()
    assert _run(request).content.decode() == "<tr id='row'>updated</tr>"


def test_htmx_response_without_messages_is_left_alone():
    request = RequestFactory().post("/x", headers={"HX-Request": "true"})
    request.user = tam()
    assert "messages" not in _run(request, add_message=False).content.decode()
