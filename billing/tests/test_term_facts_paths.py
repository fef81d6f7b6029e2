"""Billing terms through every path of billing.facts: the import page, the command, the API
behind each kind's own token scope, and the admin (issue 17 part B), each recorded by pghistory."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from accounts.api import issue_integration_token
from accounts.models import Account
from accounts.tests.factories import AccountFactory, revops
from billing.models import AnnualContract, CreditGrant, Trial
from billing.term_imports import TERM_IMPORTS

pytestmark = pytest.mark.django_db

TRIAL = {
    "organization_id": "org_1",
    "kind": "sales_assisted",
    "product": "",
    "starts_on": "2026-03-01",
    "ends_on": "2026-03-15",
    "deal_arr": "45000",
    "four_week_reason": "",
    "sdk_live_on": "",
    "success_criteria": "Funnels",
    "outcome": "",
}


def _api(raw: str, kind: str, body: object):
    return Client().post(
        f"/api/billing/{kind}/",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )


def test_every_term_kind_has_its_page_and_endpoint(client):
    client.force_login(revops())
    for kind in TERM_IMPORTS:
        response = client.get(reverse("billing:fact_import", args=[kind.name]))
        assert response.status_code == 200, kind.name
        assert [c for c, _ in kind.columns()] == list(kind.header)
        assert all(help_text for _, help_text in kind.columns()), kind.name


def test_the_trials_api_upserts_and_projects_with_a_trials_token():
    account = AccountFactory.create(organization_id="org_1")
    _, raw = issue_integration_token(name="Billing", scope="trials", created_by=None)
    response = _api(raw, "trials", {"rows": [TRIAL]})
    assert response.status_code == 200 and response.json()["created"] == 1
    again = _api(raw, "trials", {"rows": [TRIAL]})
    assert again.json()["updated"] == 1 and Trial.objects.count() == 1
    account.refresh_from_db()
    assert account.trial_ends_on == dt.date(2026, 3, 15)


def test_the_trials_api_answers_400_with_the_length_rule_and_applies_nothing():
    AccountFactory.create(organization_id="org_1")
    _, raw = issue_integration_token(name="Billing", scope="trials", created_by=None)
    too_long = {**TRIAL, "starts_on": "2026-04-01", "ends_on": "2026-04-29"}  # 28 days, $45K
    response = _api(raw, "trials", {"rows": [TRIAL, too_long]})
    assert response.status_code == 400
    assert [(e["line"], e["column"]) for e in response.json()["errors"]] == [(2, "ends_on")]
    assert not Trial.objects.exists()


def test_a_token_of_another_kind_is_refused():
    _, raw = issue_integration_token(name="Invoices", scope="invoices", created_by=None)
    assert _api(raw, "trials", {"rows": []}).status_code == 403
    _, grants = issue_integration_token(name="Credits", scope="credit_grants", created_by=None)
    assert _api(grants, "trials", {"rows": []}).status_code == 403
    assert _api(grants, "credit_grants", {"rows": []}).status_code == 200


def test_the_command_imports_annual_contracts_and_refuses_a_bad_file(tmp_path, capsys):
    AccountFactory.create(organization_id="org_1")
    header = (
        "organization_id,starts_on,ends_on,annual_amount,discount_percent,converted_from_monthly\n"
    )
    good = tmp_path / "good.csv"
    good.write_text(header + "org_1,2026-01-01,2026-12-31,120000,20,false\n")
    call_command("import_billing_facts", "annual_contracts", str(good))
    assert AnnualContract.objects.get().run_rate == 10000
    bad = tmp_path / "bad.csv"
    bad.write_text(header + "org_1,2027-01-01,2026-12-31,120000,20,false\n")
    with pytest.raises(CommandError, match="1 error"):
        call_command("import_billing_facts", "annual_contracts", str(bad))
    assert "line 2, ends_on" in capsys.readouterr().err


def test_the_page_dry_runs_then_applies_credit_grants(client):
    account = AccountFactory.create(organization_id="org_1")
    client.force_login(revops())
    url = reverse("billing:fact_import", args=["credit_grants"])
    body = (
        b"organization_id,kind,granted_on,expires_on,amount,balance,paid_amount,depleted_on\n"
        b"org_1,startup,2026-01-01,2027-01-01,50000,42000,,\n"
    )
    response = client.post(url, {"file": SimpleUploadedFile("g.csv", body), "dry_run": "on"})
    assert response.context["result"].created == 1 and not CreditGrant.objects.exists()
    client.post(url, {"file": SimpleUploadedFile("g.csv", body)})
    assert Account.objects.get(pk=account.pk).credit_balance == 42000


def test_admin_refuses_what_the_import_refuses_and_a_save_projects(client):
    account = AccountFactory.create(organization_id="org_1")
    admin = revops(is_superuser=True)
    client.force_login(admin)
    url = reverse("admin:billing_creditgrant_add")
    data = {
        "account": account.pk, "kind": "startup", "granted_on": "2026-01-01",
        "expires_on": "2026-01-01", "amount": "5000", "balance": "100", "paid_amount": "0",
        "depleted_on": "", "notes": "",
    }  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 200 and not CreditGrant.objects.exists()
    assert "Credits expire after the day they are granted." in response.content.decode()
    client.post(url, {**data, "expires_on": "2027-01-01"})
    account.refresh_from_db()
    assert account.credit_balance == 100


def test_every_change_to_a_term_is_recorded_with_its_source():
    AccountFactory.create(organization_id="org_1")
    _, raw = issue_integration_token(name="Billing", scope="trials", created_by=None)
    _api(raw, "trials", {"rows": [TRIAL]})
    events = Trial.pgh_event_model.objects.all()  # type: ignore[attr-defined]
    [event] = events
    assert event.pgh_label == "insert"
    assert event.pgh_context.metadata["source"] == "api"
