from __future__ import annotations

import pytest

from accounts.api import issue_integration_token
from accounts.models import Account, Contact
from leads.models import Task
from leads.tests.factories import member

pytestmark = pytest.mark.django_db

URL = "/api/intake/tasks"
PAYLOAD = {
    "name": "Grace Hopper",
    "email": "grace@cobol.example.com",
    "company": "Cobol Inc",
    "country": "GB",
    "role": "engineering",
    "sub_role": "software_engineer",
    "employees": 250,
    "estimated_revenue": "25000000",
    "source": "sales_email",
    "message": "Interested in an annual plan",
}


@pytest.fixture
def token() -> str:
    return issue_integration_token(name="Webhook", scope="intake", created_by=None)[1]


def _post(client, token, payload, **headers):
    return client.post(
        URL,
        payload,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", **headers},
    )


def test_intake_creates_account_contact_and_task_and_returns_the_assignment(client, token):
    picked = member()

    response = _post(client, token, PAYLOAD)

    assert response.status_code == 201
    body = response.json()
    task = Task.objects.get()
    assert body["task_id"] == task.pk
    assert body["assignee"]["id"] == picked.user_id
    assert body["explanation"].startswith("round robin, Europe & Africa, TAE")
    assert body["score"] == 10 + 10 + 10 + 10 + 10
    assert Account.objects.get().domain == "cobol.example.com"
    assert Contact.objects.get().email == "grace@cobol.example.com"


def test_bad_payload_gets_every_field_error_and_creates_nothing(client, token):
    response = _post(
        client,
        token,
        {**PAYLOAD, "email": "not-an-email", "employees": -3, "source": "fax", "colour": "red"},
    )

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"email", "employees", "source", "colour"}
    assert not Task.objects.exists()
    assert not Account.objects.exists()


def test_body_that_is_not_json_is_a_400(client, token):
    response = client.post(
        URL, "{nope", content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 400


def test_repeating_an_idempotency_key_returns_the_first_result(client, token):
    member()
    first = _post(client, token, PAYLOAD, **{"Idempotency-Key": "evt-123"})

    # Issue 16 §3: a replay is the same request; a different one with the key is a 422 (below).
    again = _post(client, token, PAYLOAD, **{"Idempotency-Key": "evt-123"})

    assert again.status_code == 200
    assert again.json()["task_id"] == first.json()["task_id"]
    assert again.json()["assignee"] == first.json()["assignee"]
    assert Task.objects.count() == 1


def test_idempotency_key_in_the_body_works_too(client, token):
    _post(client, token, {**PAYLOAD, "idempotency_key": "k1"})
    _post(client, token, {**PAYLOAD, "idempotency_key": "k1"})

    assert Task.objects.count() == 1


def test_without_a_token_intake_is_refused(client):
    response = client.post(URL, PAYLOAD, content_type="application/json")

    assert response.status_code == 401
    assert not Task.objects.exists()


def test_a_token_of_another_scope_is_refused(client):
    raw = issue_integration_token(name="Snapshots", scope="snapshots", created_by=None)[1]

    assert _post(client, raw, PAYLOAD).status_code == 403


def test_get_is_not_allowed(client, token):
    response = client.get(URL, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 405


def test_a_second_lead_from_an_owned_account_goes_to_its_owner(client, token):
    first_pick = member()
    member(leads_this_month=0)
    _post(client, token, PAYLOAD)

    response = _post(client, token, {**PAYLOAD, "email": "alan@cobol.example.com", "name": "Alan"})

    assert response.json()["assignee"]["id"] == first_pick.user_id
    assert response.json()["explanation"] == f"account owner ({first_pick.user.name})"


# --- issue 16 §3 and issue 15: keys per token, and no input reaches a 500 -------------


def test_the_same_key_with_a_different_lead_answers_422_and_creates_nothing(client, token):
    member()
    _post(client, token, PAYLOAD, **{"Idempotency-Key": "evt-123"})

    again = _post(
        client, token, {**PAYLOAD, "message": "changed"}, **{"Idempotency-Key": "evt-123"}
    )

    assert again.status_code == 422
    assert list(again.json()["errors"]) == ["idempotency_key"]
    assert "assignee" not in again.json()
    assert Task.objects.count() == 1


def test_two_integrations_sending_the_same_key_each_get_their_own_task(client, token):
    member()
    other = issue_integration_token(name="Second webhook", scope="intake", created_by=None)[1]
    first = _post(client, token, PAYLOAD, **{"Idempotency-Key": "1001"})
    lead = {**PAYLOAD, "name": "Ada Lovelace", "email": "ada@engines.example.com"}

    second = _post(client, other, lead, **{"Idempotency-Key": "1001"})

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["task_id"] != first.json()["task_id"]
    assert Task.objects.count() == 2
    assert Contact.objects.filter(email="ada@engines.example.com").exists()


def test_an_idempotency_key_over_200_characters_is_a_field_error(client, token):
    response = _post(client, token, PAYLOAD, **{"Idempotency-Key": "k" * 201})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["idempotency_key"]
    assert not Task.objects.exists()


def test_employees_above_the_column_is_a_field_error(client, token):
    response = _post(client, token, {**PAYLOAD, "employees": 2_147_483_648})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["employees"]
    assert not Account.objects.exists()


def test_a_valid_298_character_email_is_a_field_error(client, token):
    email = "a" * 64 + "@" + ".".join(["b" * 63] * 3 + ["c" * 29]) + ".example.com"
    assert len(email) == 298

    response = _post(client, token, {**PAYLOAD, "email": email})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["email"]
    assert not Task.objects.exists()


def test_an_object_for_name_is_a_field_error(client, token):
    response = _post(client, token, {**PAYLOAD, "name": {"first": "Grace"}})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["name"]
    assert not Task.objects.exists()


def test_deeply_nested_json_is_a_400(client, token):
    body = '{"name": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = client.post(
        URL, body, content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 400
    assert response.json()["errors"]["__all__"] == ["The body is nested too deeply."]
    assert not Task.objects.exists()


def test_a_10_mb_body_is_a_json_413(client, token):
    body = '{"name": "' + "x" * (10 * 1024 * 1024) + '"}'
    response = client.post(
        URL, body, content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert not Task.objects.exists()


@pytest.mark.parametrize("source", ["lead_rule", "follow_up"])
def test_the_intake_refuses_a_source_only_the_apps_jobs_set(client, token, source):
    member()

    response = _post(client, token, {**PAYLOAD, "source": source})

    assert response.status_code == 400
    assert "set only by the system" in response.json()["errors"]["source"][0]
    assert not Task.objects.exists()
