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
from billing.models import RevenueSummaryChange
from revopsweb.sql import CompiledOnce

pytestmark = pytest.mark.django_db


def _owned_by(owner_pk: int) -> Any:
    return (
        Account.objects.filter(owner=User(pk=owner_pk))
        .annotate(doubled=F("credit_balance") * Value(2, output_field=DecimalField()))
        .order_by("name")
    )


def _counted(monkeypatch: pytest.MonkeyPatch, method: str) -> list[int]:
    """The lengths of the expression lists Django's compiler ``method`` is asked about,
    one per call, from now on."""
    calls: list[int] = []
    django_method = getattr(SQLCompiler, method)

    def counted(self: SQLCompiler, expressions: Any) -> Any:
        calls.append(len(expressions))
        return django_method(self, expressions)

    monkeypatch.setattr(SQLCompiler, method, counted)
    return calls


def test_the_converters_are_worked_out_once_and_convert_each_calls_rows(monkeypatch):
    ann, bob = tam(), tam()
    AccountFactory.create(owner=ann, owner_role="TAM", renewal_date=dt.date(2027, 1, 2))
    AccountFactory.create(owner=bob, owner_role="TAM", credit_balance=Decimal("1.25"))
    worked_out = _counted(monkeypatch, "get_converters")
    once = CompiledOnce(Account)
    [a] = once.rows("k", _owned_by, owner_pk=ann.pk)
    [b] = once.rows("k", _owned_by, owner_pk=bob.pk)
    assert len(worked_out) == 1
    assert a.renewal_date == dt.date(2027, 1, 2)
    assert (b.credit_balance, getattr(b, "doubled")) == (Decimal("1.25"), Decimal("2.50"))  # noqa: B009


def _changes() -> Any:
    return RevenueSummaryChange.objects.order_by("month")


def test_a_composite_keys_rows_read_as_the_orm_reads_them_with_the_check_made_once(monkeypatch):
    # RevenueSummaryChange's key is (account, product, month): its rows' pk is a tuple
    # only if the composite column is found in the select list.
    for month in (dt.date(2026, 1, 1), dt.date(2026, 2, 1)):
        RevenueSummaryChange.objects.create(
            account_id=7, product_id=3, month=month, old_amount=Decimal("4.50")
        )
    checked = _counted(monkeypatch, "has_composite_fields")
    once = CompiledOnce(RevenueSummaryChange)
    first = once.rows("k", _changes)
    compiled_at = len(checked)
    again = once.rows("k", _changes)
    # Once when compiling; none for the next call.
    assert len(checked) == compiled_at

    orm = list(RevenueSummaryChange.objects.order_by("month"))
    assert [r.pk for r in first] == [r.pk for r in again] == [r.pk for r in orm]
    assert first[0].pk == (7, 3, dt.date(2026, 1, 1))
