"""``revopsweb.sql.CompiledOnce``: one compile per shape, each call's own rows, read as Django reads them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.db.models import F, Value
from django.db.models.functions import Concat

from accounts.models import Account, AccountSnapshot, User
from accounts.tests.factories import AccountFactory, tam
from revopsweb.sql import CompiledOnce

pytestmark = pytest.mark.django_db


def _owned_by(owner_pk: int) -> Any:
    return (
        Account.objects.filter(owner=User(pk=owner_pk))
        .select_related("owner")
        .annotate(label=Concat(F("name"), Value(" of "), F("owner__name")))
        .order_by("name")
    )


def _two_books() -> tuple[User, User]:
    """Ann's book of A1 and A2, Bob's of B1."""
    ann, bob = tam(name="Ann"), tam(name="Bob")
    AccountFactory.create(owner=ann, owner_role="TAM", name="A1")
    AccountFactory.create(owner=ann, owner_role="TAM", name="A2")
    AccountFactory.create(owner=bob, owner_role="TAM", name="B1")
    return ann, bob


def test_each_call_reads_its_own_values_rows_from_one_compile():
    ann, bob = _two_books()
    builds = []

    def build(owner_pk: int) -> Any:
        builds.append(owner_pk)
        return _owned_by(owner_pk)

    once = CompiledOnce(Account)
    assert [a.name for a in once.rows("k", build, owner_pk=ann.pk)] == ["A1", "A2"]
    assert [a.name for a in once.rows("k", build, owner_pk=bob.pk)] == ["B1"]
    assert len(builds) == 1


def test_rows_come_as_the_orm_reads_them(django_assert_num_queries):
    owner = tam(name="Ann")
    AccountFactory.create(owner=owner, owner_role="TAM", name="A1")
    once = CompiledOnce(Account)
    once.rows("k", _owned_by, owner_pk=owner.pk)
    [expected] = _owned_by(owner.pk)
    with django_assert_num_queries(1):
        [row] = once.rows("k", _owned_by, owner_pk=owner.pk)
        assert row.owner is not None and row.owner.name == "Ann"  # select_related: no query
    assert (row.pk, row.name, row.owner_id) == (expected.pk, expected.name, expected.owner_id)
    assert getattr(row, "label") == getattr(expected, "label") == "A1 of Ann"  # noqa: B009


def test_a_value_that_is_not_a_parameter_as_given_is_refused():
    once = CompiledOnce(Account)
    with pytest.raises(ValueError, match="name_part"):
        once.rows(
            "k", lambda name_part: Account.objects.filter(name__contains=name_part), name_part=1
        )


def test_it_keeps_a_bounded_number_of_statements():
    owner = tam()
    builds = []

    def build(owner_pk: int) -> Any:
        builds.append(owner_pk)
        return _owned_by(owner_pk)

    once = CompiledOnce(Account, keep=2)
    for key in ("a", "b", "c", "a"):
        once.rows(key, build, owner_pk=owner.pk)
    assert len(builds) == 4  # "a" was dropped for "c", then compiled again


def _prepared_statements() -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


def test_its_statement_is_prepared_on_the_server_once_per_connection():
    owner = tam(name="Ann")
    AccountFactory.create(owner=owner, owner_role="TAM", name="A1")
    once = CompiledOnce(Account)
    once.rows("k", _owned_by, owner_pk=owner.pk)
    once.rows("k", _owned_by, owner_pk=owner.pk)
    # The server keeps the statement with its parameters as placeholders, once.
    kept = [s for s in _prepared_statements() if 'AS "label"' in s]
    assert len(kept) == 1
    assert "$1" in kept[0]


def test_its_statement_is_planned_once_not_on_each_run():
    # PostgreSQL's default plans a prepared statement's first five runs for their
    # values, and then every run while the generic plan's estimate comes out dearer
    # (settings: plan_cache_mode).
    owner = tam(name="Ann")
    AccountFactory.create(owner=owner, owner_role="TAM", name="A1")
    once = CompiledOnce(Account)
    for _ in range(7):
        once.rows("k", _owned_by, owner_pk=owner.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE %s",
            ['%AS "label"%'],
        )
        assert cursor.fetchall() == [(7, 0)]


def test_its_statement_is_logged_with_the_values_written_in():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    owner = tam(name="Ann")
    once = CompiledOnce(Account)
    with CaptureQueriesContext(connection) as captured:
        once.rows("k", _owned_by, owner_pk=owner.pk)
    [query] = captured.captured_queries
    # What a test counting queries or a benchmark replaying them reads: runnable SQL.
    assert f'"accounts_account"."owner_id" = {owner.pk}' in query["sql"]
    assert "$1" not in query["sql"]


def test_its_logged_statement_carries_what_the_server_was_sent():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    owner = tam(name="Ann")
    once = CompiledOnce(Account)
    with CaptureQueriesContext(connection) as captured:
        once.rows("k", _owned_by, owner_pk=owner.pk)
        Account.objects.filter(owner=owner).count()
    logged: list[dict[str, Any]] = captured.captured_queries
    compiled, plain = logged
    # A replay (bench._common.sql_replay) runs the first prepared, as the app did.
    sql, params = compiled["prepared"]
    assert '"accounts_account"."owner_id" = %s' in sql
    assert owner.pk in params
    assert "prepared" not in plain


def _names_of(owner_pk: int) -> Any:
    return (
        Account.objects.filter(owner=User(pk=owner_pk))
        .annotate(label=Concat(F("name"), Value(" of "), F("owner__name")))
        .order_by("name")
        .values_list("pk", "name", "owner__name", "label")
    )


def test_tuples_come_as_values_list_reads_them_from_one_compile(django_assert_num_queries):
    ann, bob = _two_books()
    builds = []

    def build(owner_pk: int) -> Any:
        builds.append(owner_pk)
        return _names_of(owner_pk)

    once = CompiledOnce(Account)
    assert once.tuples("k", build, owner_pk=ann.pk) == list(_names_of(ann.pk))
    expected = list(_names_of(bob.pk))
    with django_assert_num_queries(1):
        assert once.tuples("k", build, owner_pk=bob.pk) == expected
    assert len(builds) == 1


def test_tuples_refuse_a_queryset_of_model_instances():
    once = CompiledOnce(Account)
    with pytest.raises(ValueError, match="ModelIterable"):
        once.tuples("k", _owned_by, owner_pk=1)


def test_rows_refuse_a_values_list_queryset():
    once = CompiledOnce(Account)
    with pytest.raises(ValueError, match="ValuesListIterable"):
        once.rows("k", _names_of, owner_pk=1)


def test_a_key_compiled_for_rows_is_refused_for_tuples():
    owner = tam()
    once = CompiledOnce(Account)
    once.rows("k", _owned_by, owner_pk=owner.pk)
    with pytest.raises(ValueError, match="compiled for ModelIterable"):
        once.tuples("k", _names_of, owner_pk=owner.pk)


def _named_like(owner_pk: int) -> Any:
    # A constant with percent signs (a LIKE pattern) beside the call's value.
    return Account.objects.filter(owner=User(pk=owner_pk), name__contains="50% off").order_by(
        "name"
    )


def test_its_constants_are_written_in_leaving_only_the_values_as_parameters():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ann, bob = _two_books()
    AccountFactory.create(owner=ann, owner_role="TAM", name="Deal: 50% off")
    once = CompiledOnce(Account)
    with CaptureQueriesContext(connection) as captured:
        assert [a.name for a in once.rows("k", _named_like, owner_pk=ann.pk)] == ["Deal: 50% off"]
        assert once.rows("k", _named_like, owner_pk=bob.pk) == []
    logged: list[dict[str, Any]] = captured.captured_queries
    sql, params = logged[0]["prepared"]
    # The pattern is written in (its percent signs doubled for the placeholder parser),
    # so the server plans it as it would with the value; the owner stays a parameter.
    assert params == (ann.pk,)
    assert "'%%50" in sql
    kept = [s for s in _prepared_statements() if "% off%" in s and "$1" in s]
    assert len(kept) == 1 and "$2" not in kept[0]


@pytest.mark.parametrize("build", [_owned_by, _named_like])
def test_its_written_in_constants_read_the_rows_the_orm_reads_with_them_as_parameters(build):
    # A string constant (" of ") and a pattern with percent signs, written in.
    ann, _ = _two_books()
    AccountFactory.create(owner=ann, owner_role="TAM", name="Deal: 50% off")
    compiled = CompiledOnce(Account).rows("k", build, owner_pk=ann.pk)
    assert compiled
    assert [(a.pk, a.name, getattr(a, "label", None)) for a in compiled] == [
        (a.pk, a.name, getattr(a, "label", None)) for a in build(ann.pk)
    ]


def test_a_value_may_be_a_big_integer_columns_parameter():
    """Django hands a BigIntegerField's value to psycopg as Int8 (an int subclass), not
    as int: the stand-in is found all the same, and each call reads its own rows, a
    value beyond 32 bits included."""
    account = AccountFactory.create()
    monday = dt.date(2026, 11, 2)
    for i, events in enumerate((7, 9_000_000_000)):
        AccountSnapshot.objects.create(
            account=account, week=monday + dt.timedelta(weeks=i), events=events
        )
    once = CompiledOnce(AccountSnapshot)

    def build(events: int) -> Any:
        return AccountSnapshot.objects.filter(events=events).order_by("week")

    for events in (7, 9_000_000_000):
        [row] = once.rows("k", build, events=events)
        assert row.events == events
    assert once.rows("k", build, events=8) == []
