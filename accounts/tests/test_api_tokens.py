from __future__ import annotations

import json

import pytest
from django.http import HttpRequest, JsonResponse
from django.test import RequestFactory

from accounts.api import digest_token, issue_integration_token, token_required
from accounts.models import IntegrationToken

pytestmark = pytest.mark.django_db


@token_required(IntegrationToken.Scope.INTAKE)
def _echo(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"token": request.integration_token.name})  # type: ignore[attr-defined]


def _call(raw: str | None):
    headers = {"Authorization": f"Bearer {raw}"} if raw is not None else {}
    return _echo(
        RequestFactory().post("/api", data="{}", content_type="application/json", headers=headers)
    )


def test_only_the_digest_is_stored():
    token, raw = issue_integration_token(name="Website form", scope="intake", created_by=None)
    assert token.digest == digest_token(raw) and raw not in token.digest
    assert token.prefix == raw[:8]


def test_a_valid_token_reaches_the_view_and_is_marked_used():
    token, raw = issue_integration_token(name="Website form", scope="intake", created_by=None)
    response = _call(raw)
    assert response.status_code == 200
    assert json.loads(response.content) == {"token": "Website form"}
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize("raw", [None, "", "not-a-token"])
def test_missing_or_unknown_token_is_401(raw):
    assert _call(raw).status_code == 401


def test_inactive_token_is_401():
    token, raw = issue_integration_token(name="Old form", scope="intake", created_by=None)
    IntegrationToken.objects.filter(pk=token.pk).update(is_active=False)
    assert _call(raw).status_code == 401


def test_token_of_another_scope_is_403():
    _, raw = issue_integration_token(name="Usage feed", scope="snapshots", created_by=None)
    assert _call(raw).status_code == 403
