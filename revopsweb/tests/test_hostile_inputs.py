"""Each input issue 15 found answering 500, written out: a 4xx naming the field,
JSON on the APIs, nothing written. (test_no_500.py fuzzes the rest.)"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.api import issue_integration_token
from accounts.models import Account, AccountSnapshot
from accounts.tests.factories import AccountFactory, manager, revops
from billing.models import MonthlyRevenue
from billing.tests.factories import MonthlyRevenueFactory
from leads.models import RoundRobinEvent, Task
from leads.tests.factories import member, territory

pytestmark = pytest.mark.django_db

EMAIL_298 = "a" * 64 + "@" + ".".join(["b" * 63] * 3 + ["c" * 29]) + ".example.com"
TEN_MB = 10 * 1024 * 1024

CONTACT = {
    "name": "Ada Lovelace",
    "email": "ada@analytical.example.de",
    "company": "Analytical Engines",
    "role": "engineering",
    "country": "DE",
    "message": "We need product analytics.",
}
INTAKE = {**CONTACT, "source": "sales_email"}


def _token(scope: str) -> dict[str, str]:
    raw = issue_integration_token(name=f"Test {scope}", scope=scope, created_by=None)[1]
    return {"Authorization": f"Bearer {raw}"}


def _post_json(url: str, body: object | str, scope: str, **headers: str):
    raw = body if isinstance(body, str) else json.dumps(body)
    return Client().generic(
        "POST", url, raw, content_type="application/json", headers={**_token(scope), **headers}
    )


def _json_fields(response) -> set[str]:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    errors = response.json()["errors"]
    if isinstance(errors, dict):
        return set(errors)
    return {e["field"] for e in errors}


# --- the public contact form ---------------------------------------------------


@pytest.mark.parametrize(("field", "value"), [("employees", "2147483648"), ("email", EMAIL_298)])
def test_the_contact_form_answers_400_naming_the_field(client, field, value):
    member()
    response = client.post(reverse("leads:contact"), {**CONTACT, field: value})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {field}
    assert not Task.objects.exists()


# --- the intake API --------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**INTAKE, "employees": 2_147_483_648}, "employees"),
        ({**INTAKE, "email": EMAIL_298}, "email"),
        ({**INTAKE, "name": {"first": "Ada"}}, "name"),
    ],
    ids=["employees over the column", "298-character e-mail", "object for name"],
)
def test_the_intake_api_answers_a_json_field_error(body, field):
    response = _post_json("/api/intake/tasks", body, "intake")
    assert response.status_code == 400
    assert _json_fields(response) == {field}
    assert not Task.objects.exists()


def test_an_idempotency_key_over_200_characters_is_a_json_field_error():
    response = _post_json("/api/intake/tasks", INTAKE, "intake", **{"Idempotency-Key": "k" * 201})
    assert response.status_code == 400
    assert "idempotency_key" in _json_fields(response)
    assert not Task.objects.exists()


def test_deeply_nested_json_is_a_json_400():
    response = _post_json("/api/intake/tasks", "[" * 100_000 + "]" * 100_000, "intake")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert not Task.objects.exists()


@pytest.mark.parametrize(
    ("url", "scope"),
    [
        ("/api/intake/tasks", "intake"),
        ("/api/accounts/org_1/snapshots", "snapshots"),
        ("/api/revenue/monthly/", "revenue"),
    ],
)
def test_a_10_mb_body_is_answered_413_in_json(url, scope):
    AccountFactory.create(organization_id="org_1")
    response = _post_json(url, '{"name": "' + "x" * TEN_MB + '"}', scope)
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert "errors" in response.json()


# --- the snapshot API and the tracker's query string -----------------------------


def test_a_nul_in_the_organization_id_is_a_json_400():
    AccountFactory.create(organization_id="org_1")
    body = {"week": "2026-11-16", "health": "good"}
    response = _post_json("/api/accounts/org%001/snapshots", body, "snapshots")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert not AccountSnapshot.objects.exists()


def test_a_nul_territory_on_the_tracker_is_a_400(client):
    client.force_login(manager())
    assert client.get("/tracker/?territory=%00").status_code == 400


# --- tracker weights beyond their columns ------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("priority", "32768", "Must be at most 32,767."),
        ("manual_adjustment", "2147483648", "less than or equal to 500"),
    ],
)
def test_a_tracker_value_beyond_its_column_is_a_400(client, field, value, error):
    client.force_login(manager())
    target = member()
    prefix = f"m{target.pk}"
    data = {
        f"{prefix}-priority": "1",
        f"{prefix}-manual_adjustment": "0",
        f"{prefix}-is_active": "on",
        f"{prefix}-territories": [territory().pk],
        f"{prefix}-reason": "a typo",
        f"{prefix}-{field}": value,
    }
    url = reverse("leads:member_update", args=[target.pk]) + "?territory=europe-africa"
    response = client.post(url, data)
    assert response.status_code == 400
    assert error in response.content.decode()
    target.refresh_from_db()
    assert (target.priority, target.manual_adjustment) == (1, 0)
    assert not RoundRobinEvent.objects.filter(member=target).exists()


# --- months and quarters far outside the data --------------------------------------


@pytest.mark.parametrize(
    ("page", "query"),
    [
        ("billing:revenue", "month=9999-12"),
        ("billing:revenue", "month=0001-01"),
        ("billing:quota", "quarter=9999Q4"),
        ("billing:quota", "quarter=0001Q1"),
    ],
)
def test_the_revenue_and_quota_pages_answer_400_naming_a_far_month_or_quarter(client, page, query):
    MonthlyRevenueFactory.create(month=dt.date(2026, 10, 1), amount=Decimal(100))
    client.force_login(revops())
    response = client.get(f"{reverse(page)}?{query}")
    assert response.status_code == 400
    name = query.split("=")[0]
    assert f"{name}: " in response.content.decode()  # the notice names the parameter


@pytest.mark.parametrize("page", ["billing:revenue", "billing:quota"])
def test_the_revenue_and_quota_pages_answer_200_without_a_parameter(client, page):
    MonthlyRevenueFactory.create(month=dt.date(2026, 10, 1), amount=Decimal(100))
    client.force_login(revops())
    assert client.get(reverse(page)).status_code == 200


@pytest.mark.parametrize("month", ["9999-12", "0001-01"])
def test_the_revenue_api_refuses_a_far_month_in_json(month):
    response = Client().get(f"/api/revenue/monthly/?month={month}", headers=_token("revenue"))
    assert response.status_code == 400
    assert _json_fields(response) == {"month"}


@pytest.mark.parametrize(("dry_run", "written"), [("false", 1), ("true", 0), (False, 1)])
def test_the_revenue_api_reads_dry_run_as_written(dry_run, written):
    AccountFactory.create(organization_id="org_1")
    row = {"organization_id": "org_1", "product": "logs", "month": "2026-02", "amount": "5"}
    response = _post_json("/api/revenue/monthly/", {"rows": [row], "dry_run": dry_run}, "revenue")
    assert response.status_code == 200
    assert MonthlyRevenue.objects.count() == written
    assert Account.objects.count() == 1


# --- future snapshot weeks (the CSV and admin paths: accounts/tests/test_imports.py,
# revopsweb/tests/test_admin_forms.py) ------------------------------------------------


def test_the_snapshot_api_refuses_a_week_after_the_current_one():
    AccountFactory.create(organization_id="org_1")
    body = {"week": "2099-01-05", "health": "poor", "active_users_30d": 1}
    response = _post_json("/api/accounts/org_1/snapshots", body, "snapshots")
    assert response.status_code == 400
    assert _json_fields(response) == {"week"}
    assert not AccountSnapshot.objects.exists()
    assert Account.objects.get().health != "poor"


# --- page numbers in hand-edited URLs (issue 20's newcomer walk) ------------------


@pytest.mark.parametrize("page", ["99999999999999999999", "9" * 5000, "-5", "abc", "0"])
@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/tasks/team/", ["page"]),
        ("/churn/", ["suggested", "retros"]),
        ("/book/allocation/", ["page"]),
    ],
)
def test_a_page_number_edited_by_hand_shows_a_page(client, url, params, page):
    client.force_login(manager())

    response = client.get(url, dict.fromkeys(params, page))

    assert response.status_code == 200


@pytest.mark.parametrize("page", ["99999999999999999999", "-5", "abc"])
def test_a_churn_owner_groups_page_edited_by_hand_shows_a_page(client, page):
    boss = manager()
    client.force_login(boss)

    response = client.get("/churn/", {"owner": str(boss.pk), "page": page})

    assert response.status_code == 200


@pytest.mark.parametrize("value", ["abc", "99999999999999999999", "1.5"])
def test_the_tracker_prefill_refuses_a_territory_that_is_no_id_without_a_500(client, value):
    client.force_login(manager())

    response = client.get(
        "/tracker/members/prefill/", {"role": "tae", "territories": value, "priority": "1"}
    )

    assert response.status_code in (200, 400)
