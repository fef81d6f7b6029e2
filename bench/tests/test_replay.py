"""The anchor of a page's server time: its SQL replayed as the page ran it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from accounts.tests.factories import AccountFactory, tam
from bench._common import page_sql, sql_replay

# A fresh connection for the replay: closing one inside a test's transaction would end it.
pytestmark = pytest.mark.django_db(transaction=True)


def _prepared_statements() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return {statement for (statement,) in cursor.fetchall()}


def test_a_statement_the_page_prepares_is_replayed_prepared():
    owner = tam(name="Ann")
    account = AccountFactory.create(owner=owner, owner_role="TAM")
    client = Client()
    client.force_login(owner)
    _, issued = page_sql(client, f"/accounts/{account.pk}/")
    prepared = [one.prepared for one in issued if one.prepared is not None]
    assert prepared, "the account page runs CompiledOnce statements prepared"
    connection.close()  # the replay starts on a connection that prepared nothing
    sql_replay(issued)()
    assert len(_prepared_statements()) == len({sql for sql, _ in prepared})
