"""The migration that makes staff e-mails case-insensitive: existing rows are
lower-cased; two users sharing an address apart from case stop it with a message
that names them and says what to do, and nothing is changed."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import User

BEFORE = [("accounts", "0009_account_plan_scale")]
migration = importlib.import_module("accounts.migrations.0010_user_email_unique_any_case")


def _migrate(targets=None):
    """Migrate to ``targets`` (default: every leaf, i.e. back to the current state)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    return executor


def _old_user(executor, email: str, name: str):
    old = executor.loader.project_state(BEFORE[0]).apps.get_model("accounts", "User")
    return old.objects.create(email=email, name=name, password="")


@pytest.mark.timeout(600)
@pytest.mark.django_db(transaction=True)
def test_existing_addresses_are_lower_cased():
    executor = _migrate(BEFORE)
    first = _old_user(executor, " First.Last@Example.com", "First Last")
    other = _old_user(executor, "ana@example.test", "Ana")

    _migrate()

    assert User.objects.get(pk=first.pk).email == "first.last@example.com"
    assert User.objects.get(pk=other.pk).email == "ana@example.test"


@pytest.mark.timeout(600)
@pytest.mark.django_db(transaction=True)
def test_a_case_collision_stops_the_migration_naming_the_users_and_what_to_do():
    executor = _migrate(BEFORE)
    one = _old_user(executor, "First.Last@Example.com", "First Last")
    two = _old_user(executor, "first.last@example.com", "F. Last")
    try:
        with pytest.raises(migration.EmailCaseCollision) as refused:
            _migrate()
        message = str(refused.value)
        assert f"user {one.pk} 'First Last' <First.Last@Example.com>" in message
        assert f"user {two.pk} 'F. Last' <first.last@example.com>" in message
        assert "run `python manage.py migrate` again" in message
        # Nothing changed: the capitals are still there.
        with connection.cursor() as cursor:
            cursor.execute("SELECT email FROM accounts_user WHERE id = %s", [one.pk])
            assert cursor.fetchone() == ("First.Last@Example.com",)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM accounts_user WHERE id = %s", [two.pk])
        _migrate()
