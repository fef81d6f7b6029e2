"""``revopsweb.sql.CompiledOnce``: a compiled statement's column converters are worked
out once per connection, and still convert every call's rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import DecimalField, F, Value
from django.db.models.sql.compiler import SQLCompiler

from accounts.models import Account, User
from accounts.tests.factories import AccountFactory, tam
from revopsweb.sql import CompiledOnce

pytestmark = pytest.mark.django_db


def _owned_by(owner_pk: int) -> Any:
    return (
        Account.objects.filter(owner=User(pk=owner_pk))
        .annotate(doubled=F("credit_balance") * Value(2, output_field=DecimalField()))
        .order_by("name")
    )


def test_the_converters_are_worked_out_once_and_convert_each_calls_rows(monkeypatch):
    ann, bob = tam(), tam()
    AccountFactory.create(owner=ann, owner_role="TAM", renewal_date=dt.date(2027, 1, 2))
    AccountFactory.create(owner=bob, owner_role="TAM", credit_balance=Decimal("1.25"))
    worked_out = []
    django_get_converters = SQLCompiler.get_converters

    def counted(self: SQLCompiler, expressions: Any) -> Any:
        worked_out.append(len(expressions))
        return django_get_converters(self, expressions)

    monkeypatch.setattr(SQLCompiler, "get_converters", counted)
    once = CompiledOnce(Account)
    [a] = once.rows("k", _owned_by, owner_pk=ann.pk)
    [b] = once.rows("k", _owned_by, owner_pk=bob.pk)
    assert len(worked_out) == 1
    assert a.renewal_date == dt.date(2027, 1, 2)
    assert (b.credit_balance, getattr(b, "doubled")) == (Decimal("1.25"), Decimal("2.50"))  # noqa: B009
