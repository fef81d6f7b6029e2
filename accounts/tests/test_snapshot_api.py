from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from accounts.api import issue_integration_token
from accounts.models import AccountSnapshot
from accounts.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def token():
    return issue_integration_token(name="Usage feed", scope="snapshots", created_by=None)[1]


def _post(client, org, body, token):
    return client.post(
        reverse("churn:snapshot_api", args=[org]),
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def test_a_new_week_is_created_and_updates_the_accounts_current_figures(client, token):
    account = AccountFactory.create(organization_id="org_1")
    body = {"week": "2026-11-16", "health": "poor", "active_users_30d": 2, "events": 1000}
    response = _post(client, "org_1", body, token)
    assert response.status_code == 201
    snapshot = AccountSnapshot.objects.get(account=account)
    assert (snapshot.week, snapshot.health, snapshot.events) == (
        dt.date(2026, 11, 16),
        "poor",
        1000,
    )
    account.refresh_from_db()
    assert (account.health, account.active_users_30d) == ("poor", 2)


def test_posting_the_same_week_again_replaces_it(client, token):
    account = AccountFactory.create(organization_id="org_1")
    _post(client, "org_1", {"week": "2026-11-16", "events": 1000}, token)
    response = _post(client, "org_1", {"week": "2026-11-16", "events": 700}, token)
    assert response.status_code == 200 and response.json()["created"] is False
    assert list(
        AccountSnapshot.objects.filter(account=account).values_list("events", flat=True)
    ) == [700]


def test_an_older_week_does_not_overwrite_current_health(client, token):
    account = AccountFactory.create(organization_id="org_1")
    _post(client, "org_1", {"week": "2026-11-16", "health": "good"}, token)
    _post(client, "org_1", {"week": "2026-11-09", "health": "poor"}, token)
    account.refresh_from_db()
    assert account.health == "good"


def test_bad_fields_are_all_reported_and_nothing_is_saved(client, token):
    AccountFactory.create(organization_id="org_1")
    body = {"week": "2026-11-17", "health": "awful", "events": -3, "colour": "red"}
    response = _post(client, "org_1", body, token)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"week", "health", "events", "colour"}
    assert not AccountSnapshot.objects.exists()


def test_body_must_be_a_json_object(client, token):
    AccountFactory.create(organization_id="org_1")
    response = _post(client, "org_1", "not json", token)
    assert response.status_code == 400


def test_unknown_organization_is_404(client, token):
    assert _post(client, "org_missing", {"week": "2026-11-16"}, token).status_code == 404


def test_a_token_of_another_scope_is_refused(client):
    AccountFactory.create(organization_id="org_1")
    _, raw = issue_integration_token(name="Forms", scope="intake", created_by=None)
    assert _post(client, "org_1", {"week": "2026-11-16"}, raw).status_code == 403


def test_get_is_not_allowed(client, token):
    AccountFactory.create(organization_id="org_1")
    response = client.get(
        reverse("churn:snapshot_api", args=["org_1"]),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 405
