from __future__ import annotations

import logging
import sys

import pytest
from django.urls import reverse

from accounts.tests.factories import tam
from revopsweb.logs import RefusalsWithoutTraceback


def _request_records(caplog: pytest.LogCaptureFixture, status: int) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "django.request" and getattr(r, "status_code", None) == status
    ]


def test_a_refused_page_is_logged_without_its_traceback(client, db, caplog):
    client.force_login(tam())
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get(reverse("accounts:allocation"))
    assert response.status_code == 403
    (record,) = _request_records(caplog, 403)
    assert record.exc_info is None
    assert reverse("accounts:allocation") in record.getMessage()


def test_an_error_keeps_its_traceback():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "django.request", logging.ERROR, __file__, 1, "Internal Server Error: /x", (), exc_info
    )
    record.status_code = 500
    assert RefusalsWithoutTraceback().filter(record)
    assert record.exc_info == exc_info
