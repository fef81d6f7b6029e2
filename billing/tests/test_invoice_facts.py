"""Invoices and payment attempts in by CSV, command, API and admin (billing.facts), recorded."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from accounts.api import issue_integration_token
from accounts.tests.factories import AccountFactory, manager, revops
from billing.invoices import InvoiceImport, PaymentAttemptImport
from billing.models import Invoice, PaymentAttempt

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _june_15():
    with time_machine.travel("2026-06-15 12:00:00-04:00", tick=False):
        yield


INVOICES = "number,organization_id,period,issued_on,due_on,amount,status,paid_on\n"
ATTEMPTS = "invoice_number,attempted_on,outcome,failure_reason\n"


def _invoices(text: str, *, dry_run: bool = False):
    return InvoiceImport().run_csv(INVOICES + text, dry_run=dry_run)


def _api(raw: str, kind: str, body: object):
    return Client().post(
        f"/api/billing/{kind}/",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )


def test_an_invoice_file_is_upserted_by_number_and_a_second_import_changes_nothing():
    account = AccountFactory.create(organization_id="org_1")
    text = "inv-1,org_1,2026-05,2026-05-01,2026-05-31,1500.00,open,\n"
    assert _invoices(text).created == 1
    again = _invoices(text)
    assert again.applied and (again.created, again.updated) == (0, 1)
    invoice = Invoice.objects.get()
    assert (invoice.number, invoice.account, invoice.period) == (
        "INV-1",
        account,
        dt.date(2026, 5, 1),
    )
    assert invoice.amount == Decimal("1500.00") and invoice.status == "open"


def test_a_reimport_moves_an_invoice_from_open_to_paid():
    AccountFactory.create(organization_id="org_1")
    _invoices("INV-1,org_1,2026-05,2026-05-01,2026-05-31,1500,open,\n")
    _invoices("INV-1,org_1,2026-05,2026-05-01,2026-05-31,1500,Paid,2026-06-02\n")
    invoice = Invoice.objects.get()
    assert (invoice.status, invoice.paid_on) == ("paid", dt.date(2026, 6, 2))


def test_every_bad_invoice_row_is_reported_and_nothing_is_applied():
    AccountFactory.create(organization_id="org_1")
    result = _invoices(
        "INV-1,org_1,2026-05,2026-05-01,2026-05-31,100,open,\n"
        "INV-2,org_1,2026-05,2026-05-10,2026-05-09,100,open,\n"
        "INV-3,org_1,2026-05,2026-05-01,2026-05-31,100,paid,\n"
        "INV-4,org_1,2026-05,2026-05-01,2026-05-31,100,late,\n"
        "INV-5,org_x,2026-05,2026-05-01,2026-05-31,100,void,2026-05-03\n"
        "inv-1,org_1,2026-05,2026-05-01,2026-05-31,100,open,\n"
    )
    assert [(e.line, e.column, e.reason) for e in result.errors] == [
        (3, "due_on", "Is before issued_on."),
        (4, "paid_on", "A paid invoice needs the day it was paid."),
        (5, "status", "Use one of: open, paid, failed, void."),
        (6, "organization_id", "No account 'org_x'."),
        (6, "paid_on", "Only a paid invoice has one (status is void)."),
        (7, "number", "Repeats line 2."),
    ]
    assert not result.applied and not Invoice.objects.exists()


def test_an_attempt_names_an_invoice_already_in_and_is_not_before_it():
    AccountFactory.create(organization_id="org_1")
    _invoices("INV-1,org_1,2026-05,2026-05-01,2026-05-31,100,open,\n")
    result = PaymentAttemptImport().run_csv(
        ATTEMPTS
        + "inv-1,2026-06-01,failed,card_declined\n"
        + "INV-9,2026-06-01,failed,\n"
        + "INV-1,2026-04-30,failed,\n"
        + "INV-1,2026-06-16,failed,\n"
        + "INV-1,2026-06-02,succeeded,card_declined\n",
        dry_run=False,
    )
    assert [(e.line, e.column, e.reason) for e in result.errors] == [
        (3, "invoice_number", "No invoice 'INV-9'; import the invoice first."),
        (4, "attempted_on", "Is before the invoice was issued (2026-05-01)."),
        (5, "attempted_on", "Is in the future."),
        (6, "failure_reason", "Only a failed attempt has a reason."),
    ]
    assert not PaymentAttempt.objects.exists()


def test_attempts_are_upserted_by_invoice_and_day():
    AccountFactory.create(organization_id="org_1")
    _invoices("INV-1,org_1,2026-05,2026-05-01,2026-05-31,100,failed,\n")
    rows = ATTEMPTS + "INV-1,2026-06-01,failed,card_declined\nINV-1,2026-06-04,failed,\n"
    assert PaymentAttemptImport().run_csv(rows, dry_run=False).created == 2
    again = PaymentAttemptImport().run_csv(rows, dry_run=False)
    assert (again.created, again.updated) == (0, 2) and PaymentAttempt.objects.count() == 2


def test_the_command_imports_a_kind_by_name_and_refuses_a_bad_file(tmp_path, capsys):
    AccountFactory.create(organization_id="org_1")
    good = tmp_path / "good.csv"
    good.write_text(INVOICES + "INV-1,org_1,2026-05,2026-05-01,2026-05-31,100,open,\n")
    call_command("import_billing_facts", "invoices", str(good), "--dry-run")
    assert not Invoice.objects.exists()
    call_command("import_billing_facts", "invoices", str(good))
    assert Invoice.objects.count() == 1
    bad = tmp_path / "bad.csv"
    bad.write_text(INVOICES + "INV-2,org_1,2026-05,2026-05-01,2026-05-31,-5,open,\n")
    with pytest.raises(CommandError, match="1 error"):
        call_command("import_billing_facts", "invoices", str(bad))
    assert "line 2, amount" in capsys.readouterr().err
    assert Invoice.objects.count() == 1


def test_the_api_upserts_with_a_token_of_the_kinds_scope():
    AccountFactory.create(organization_id="org_1")
    _, raw = issue_integration_token(name="Billing system", scope="invoices", created_by=None)
    row = {
        "number": "INV-1",
        "organization_id": "org_1",
        "period": "2026-05",
        "issued_on": "2026-05-01",
        "due_on": "2026-05-31",
        "amount": "1,499.99",
        "status": "open",
        "paid_on": "",
    }
    response = _api(raw, "invoices", {"rows": [row]})
    assert response.status_code == 200
    assert response.json() == {
        "rows": 1,
        "created": 1,
        "updated": 0,
        "applied": True,
        "errors": [],
    }
    assert Invoice.objects.get().amount == Decimal("1499.99")


def test_the_api_answers_field_errors_with_400_and_applies_nothing():
    AccountFactory.create(organization_id="org_1")
    _, raw = issue_integration_token(name="Billing system", scope="invoices", created_by=None)
    good = {
        "number": "INV-1",
        "organization_id": "org_1",
        "period": "2026-05",
        "issued_on": "2026-05-01",
        "due_on": "2026-05-31",
        "amount": "10",
        "status": "open",
    }
    bad = {**good, "number": "INV-2", "amount": [1], "ammount": "10"}
    response = _api(raw, "invoices", {"rows": [good, bad]})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"line": 2, "column": "ammount", "message": "Unknown column."},
        {"line": 2, "column": "amount", "message": "Send one value, not a list or an object."},
    ]
    assert not Invoice.objects.exists()


def test_the_api_refuses_a_token_of_another_kind():
    _, raw = issue_integration_token(name="Revenue", scope="revenue", created_by=None)
    assert _api(raw, "invoices", {"rows": []}).status_code == 403
    _, attempts = issue_integration_token(
        name="Attempts", scope="payment_attempts", created_by=None
    )
    assert _api(attempts, "invoices", {"rows": []}).status_code == 403
    assert _api(attempts, "payment_attempts", {"rows": []}).status_code == 200


def test_the_import_page_is_for_revops_and_lists_every_column(client):
    client.force_login(manager())
    assert client.get(reverse("billing:fact_import", args=["invoices"])).status_code == 403
    client.force_login(revops())
    response = client.get(reverse("billing:fact_import", args=["invoices"]))
    assert [c for c, _ in response.context["kind"].columns()] == list(InvoiceImport.header)
    assert client.get(reverse("billing:fact_import", args=["nothing"])).status_code == 404


def test_the_import_page_dry_runs_then_applies(client):
    AccountFactory.create(organization_id="org_1")
    client.force_login(revops())
    url = reverse("billing:fact_import", args=["invoices"])
    body = (INVOICES + "INV-1,org_1,2026-05,2026-05-01,2026-05-31,100,open,\n").encode()
    response = client.post(url, {"file": SimpleUploadedFile("i.csv", body), "dry_run": "on"})
    assert response.context["result"].created == 1 and not Invoice.objects.exists()
    response = client.post(url, {"file": SimpleUploadedFile("i.csv", body)})
    assert response.status_code == 302 and Invoice.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_large_invoice_file_runs_in_the_background_with_its_progress_on_a_page(
    client, settings, monkeypatch
):
    from revopsweb import import_jobs, tasks
    from revopsweb.models import ImportJob

    sent: list[str] = []
    monkeypatch.setattr(tasks.run_import_job_task, "delay", lambda job_id: sent.append(job_id))
    settings.IMPORT_SYNC_MAX_BYTES = 100
    AccountFactory.create(organization_id="org_1")
    body = INVOICES + "".join(
        f"INV-{n},org_1,2026-0{m},2026-0{m}-01,2026-0{m}-28,{100 + n},paid,2026-0{m}-10\n"
        for n, m in enumerate(range(1, 6))
    )
    client.force_login(revops())
    response = client.post(
        reverse("billing:fact_import", args=["invoices"]),
        {"file": SimpleUploadedFile("big.csv", body.encode(), content_type="text/csv")},
    )
    assert response.status_code == 302 and not Invoice.objects.exists()
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("import_job", args=[job.pk]) and sent == [str(job.pk)]
    waiting = client.get(response["Location"]).content.decode()
    assert 'data-testid="import-progress"' in waiting

    assert import_jobs.run_import_job(job_id=str(job.pk)) == "applied"
    assert Invoice.objects.count() == 5
    done = client.get(response["Location"]).content.decode()
    assert "Applied · 5 rows: 5 new, 0 updated" in done
