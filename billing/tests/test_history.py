"""Every change of a billing fact (and of an account's fields) is recorded with who, when, source;
an admin edit refreshes what depends on it, as an import does."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.api import issue_integration_token
from accounts.models import Account
from accounts.ownership import change_account_owner
from accounts.tests.factories import AccountFactory, revops, tam
from billing import tasks
from billing.imports import MonthlyRevenueImport
from billing.invoices import InvoiceImport
from billing.models import (
    Invoice,
    MonthlyRevenue,
    Product,
    RevenueSummaryChange,
    RevenueSummaryDirty,
)
from billing.tests.factories import MonthlyRevenueFactory, product

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _june_15():
    with time_machine.travel("2026-06-15 12:00:00-04:00", tick=False):
        yield


@pytest.fixture
def queued(monkeypatch):
    """The background refreshes an applied change queues (revenue summaries, Top 40)."""
    from accounts import tasks as account_tasks

    calls: list[str] = []
    monkeypatch.setattr(tasks.refresh_revenue_cache, "delay", lambda: calls.append("revenue"))
    monkeypatch.setattr(
        account_tasks.refresh_top_accounts_task, "delay", lambda: calls.append("top_accounts")
    )
    return calls


def _events(model: type) -> Any:
    """The event model django-pghistory generated for ``model``."""
    return model.pgh_event_model  # type: ignore[attr-defined]


def _contexts(events) -> list[tuple[str, dict]]:
    return [(e.pgh_label, e.pgh_context.metadata if e.pgh_context else {}) for e in events]


def test_an_import_records_each_row_with_the_actor_and_source():
    AccountFactory.create(organization_id="org_1")
    user = revops()
    text = "organization_id,product,month,amount\norg_1,logs,2026-05,10\n"
    MonthlyRevenueImport(actor=user).run_csv(text, dry_run=False)
    MonthlyRevenueImport(actor=user).run_csv(text.replace(",10", ",12"), dry_run=False)
    events = _events(MonthlyRevenue).objects.order_by("pgh_id")
    assert [(e.pgh_label, e.amount) for e in events] == [
        ("insert", Decimal("10.00")),
        ("update", Decimal("12.00")),
    ]
    assert {(c["source"], c["user"], c["import"]) for _, c in _contexts(events)} == {
        ("import", user.pk, "monthly_revenue")
    }


def test_a_dry_run_records_nothing():
    AccountFactory.create(organization_id="org_1")
    MonthlyRevenueImport().run_csv(
        "organization_id,product,month,amount\norg_1,logs,2026-05,10\n", dry_run=True
    )
    assert not _events(MonthlyRevenue).objects.exists()


def test_an_api_call_is_recorded_as_the_api():
    AccountFactory.create(organization_id="org_1")
    _, raw = issue_integration_token(name="Billing system", scope="invoices", created_by=None)
    row = {
        "number": "INV-1",
        "organization_id": "org_1",
        "period": "2026-05",
        "issued_on": "2026-05-01",
        "due_on": "2026-05-31",
        "amount": "10",
        "status": "open",
    }
    Client().post(
        "/api/billing/invoices/",
        data=json.dumps({"rows": [row]}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    [(label, context)] = _contexts(_events(Invoice).objects.all())
    assert label == "insert" and context["source"] == "api"
    assert context["url"] == "/api/billing/invoices/"


def test_an_admin_edit_of_monthly_revenue_is_recorded_and_refreshes_the_revenue_summaries(
    client, django_capture_on_commit_callbacks, queued
):
    row = MonthlyRevenueFactory.create(month=dt.date(2026, 5, 1), amount=Decimal(100))
    user = revops(is_superuser=True)
    client.force_login(user)
    RevenueSummaryDirty.objects.all().delete()
    RevenueSummaryChange.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:billing_monthlyrevenue_change", args=[row.pk]),
            {
                "account": row.account_id,
                "product": row.product_id,
                "month": "2026-05-01",
                "amount": "250",
            },
        )
    assert response.status_code == 302
    # The edited row is recorded with its amount before (the summaries' refresh
    # recomputes its account alone), and the refresh is queued.
    assert not RevenueSummaryDirty.objects.exists()
    assert list(RevenueSummaryChange.objects.values_list("account_id", "month", "old_amount")) == [
        (row.account_id, dt.date(2026, 5, 1), Decimal("100.00"))
    ]
    assert queued == ["revenue", "top_accounts"]
    update = _events(MonthlyRevenue).objects.get(pgh_label="update")
    assert update.amount == Decimal("250.00")
    assert update.pgh_context.metadata["source"] == "admin"
    assert update.pgh_context.metadata["user"] == user.pk


def test_an_admin_edit_of_a_product_queues_the_revenue_refresh(
    client, django_capture_on_commit_callbacks, queued
):
    logs = product("logs")
    client.force_login(revops(is_superuser=True))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:billing_product_change", args=[logs.pk]),
            {
                "key": "logs",
                "name": "Logs",
                "is_core": "on",
                "is_active": "on",
                "sort_order": logs.sort_order,
            },
        )
    assert response.status_code == 302
    assert Product.objects.get(pk=logs.pk).is_core
    assert queued == ["revenue", "top_accounts"]


def test_the_invoice_admin_refuses_what_the_import_refuses(client):
    account = AccountFactory.create(organization_id="org_1")
    client.force_login(revops(is_superuser=True))
    response = client.post(
        reverse("admin:billing_invoice_add"),
        {
            "number": "inv-7",
            "account": account.pk,
            "period": "2026-05-01",
            "issued_on": "2026-05-01",
            "due_on": "2026-05-31",
            "amount": "10",
            "status": "paid",
            "paid_on": "",
            "payment_attempts-TOTAL_FORMS": "0",
            "payment_attempts-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "paid_on": ["A paid invoice needs the day it was paid."]
    }
    assert not Invoice.objects.exists()


def test_the_invoice_admin_stores_the_number_as_the_import_would(client):
    account = AccountFactory.create(organization_id="org_1")
    client.force_login(revops(is_superuser=True))
    client.post(
        reverse("admin:billing_invoice_add"),
        {
            "number": " inv-7 ",
            "account": account.pk,
            "period": "2026-05-01",
            "issued_on": "2026-05-01",
            "due_on": "2026-05-31",
            "amount": "10",
            "status": "open",
            "payment_attempts-TOTAL_FORMS": "0",
            "payment_attempts-INITIAL_FORMS": "0",
        },
    )
    assert Invoice.objects.get().number == "INV-7"
    assert InvoiceImport.name == "invoices"


def test_an_account_field_change_is_recorded_but_an_owner_change_is_left_to_ownership():
    account = AccountFactory.create(name="Acme")
    Account.objects.filter(pk=account.pk).update(name="Acme Inc")
    events = _events(Account).objects.filter(pgh_obj_id=account.pk).order_by("pgh_id")
    assert [(e.pgh_label, e.name) for e in events] == [("insert", "Acme"), ("update", "Acme Inc")]
    change_account_owner(
        account=Account.objects.get(pk=account.pk),
        new_owner=tam(),
        new_owner_role="TAM",
        source="manual",
        reason="test",
        changed_by=None,
    )
    assert _events(Account).objects.filter(pgh_obj_id=account.pk).count() == 2
