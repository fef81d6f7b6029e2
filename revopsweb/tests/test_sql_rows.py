"""Rows sent as JSON (``revopsweb.sql``) arrive as ``Model.save`` would write them, and read back exact."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models.expressions import RawSQL

from accounts.models import Account
from leads.models import LeadType, Task, TaskSource
from revopsweb.sql import from_row_json, insert_row_sql, refresh_row_json, row_json

pytestmark = pytest.mark.django_db

_FIELDS = ("name", "domain", "organization_id", "country", "credit_balance", "annual_discount",
           "renewal_date", "last_contact_at", "employee_count", "has_discount_agreement", "plan")  # fmt: skip


def _account(**fields: object) -> Account:
    return Account(
        name="Acme",
        domain="acme.example.com",
        organization_id="org-1",
        country="DE",
        credit_balance=Decimal("1234567890.12"),
        annual_discount=Decimal("0.125"),
        renewal_date=dt.date(2027, 2, 28),
        last_contact_at=dt.datetime(2026, 11, 30, 6, 1, 2, 345678, tzinfo=dt.UTC),
        employee_count=200,
        **fields,
    )


def test_a_row_inserted_as_json_reads_back_as_the_orm_would_have_saved_it():
    sent = _account()
    sql, params = insert_row_sql(sent, returning=True)

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        pk = cursor.fetchone()[0]

    saved = Account.objects.get(pk=pk)
    assert [getattr(saved, f) for f in _FIELDS] == [getattr(sent, f) for f in _FIELDS]
    # auto_now_add / auto_now were filled on the instance, as save() does.
    assert saved.created_at == sent.created_at is not None
    assert saved.updated_at == sent.updated_at


def test_fields_set_to_expressions_are_computed_by_the_statement():
    account = _account()
    account.save()
    task = Task(
        account_id=RawSQL(
            "(SELECT id FROM accounts_account WHERE organization_id = %s)", ["org-1"]
        ),
        source=TaskSource.CONTACT_FORM,
        lead_type=LeadType.NEW_BUSINESS,
        pool=[{"member_id": 1, "reason": "lowest load × 2"}],
        created_at=dt.datetime(2026, 11, 30, tzinfo=dt.UTC),
    )
    sql, params = insert_row_sql(task, returning=True)

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        pk = cursor.fetchone()[0]

    saved = Task.objects.get(pk=pk)
    assert saved.account_id == account.pk
    assert saved.pool == [{"member_id": 1, "reason": "lowest load × 2"}]
    assert (saved.score_breakdown, saved.rule_facts, saved.status) == ({}, {}, "new")


def test_a_row_read_as_json_equals_the_orm_instance():
    account = _account()
    account.save()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT to_jsonb(a)::text FROM accounts_account a WHERE id = %s", [account.pk]
        )
        row = json.loads(cursor.fetchone()[0], parse_float=Decimal)

    read = from_row_json(Account, row)

    orm = Account.objects.get(pk=account.pk)
    columns = [f.attname for f in Account._meta.concrete_fields]
    assert [getattr(read, c) for c in columns] == [getattr(orm, c) for c in columns]
    assert read.credit_balance == Decimal("1234567890.12")
    assert not read._state.adding


def test_a_row_made_early_and_refreshed_equals_the_row_of_the_instance_as_it_ends():
    task = Task(
        source=TaskSource.CONTACT_FORM,
        lead_type=LeadType.NEW_BUSINESS,
        account_id=RawSQL("(SELECT 1)", ()),
        created_at=dt.datetime(2026, 11, 30, tzinfo=dt.UTC),
    )
    early = row_json(task)
    # A value becomes an expression, an expression a value, others change.
    task.pool = RawSQL("%s::jsonb", ('[{"member_id": 1}]',))
    task.account_id = 7
    task.score = 40
    task.assigned_at = dt.datetime(2026, 11, 30, 9, 30, 1, 250, tzinfo=dt.UTC)
    task.explanation = "round robin"

    values, expressions = refresh_row_json(
        task, early, ("pool", "account", "score", "assigned_at", "explanation")
    )

    final_values, final_expressions = row_json(task)
    assert values == final_values
    assert expressions == final_expressions
    assert values["assigned_at"] == "2026-11-30T09:30:01.000250+00:00"


def test_a_field_the_model_does_not_insert_is_refused():
    with pytest.raises(ValueError, match="nonesuch"):
        row_json(Task(), ("score", "nonesuch"))
