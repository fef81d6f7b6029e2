"""The domain ledgers share one who/when/why shape (revopsweb.models.LedgerEntry)
on the columns their tables always had, so moving to it moved no data."""

from __future__ import annotations

import io

import pytest
from django.apps import apps
from django.core.management import call_command

from revopsweb.models import LedgerEntry

# model → the columns actor, at and reason live in (written out: the tables' own).
LEDGERS = {
    "accounts.OwnershipChange": ("changed_by_id", "changed_at", "reason"),
    "leads.RoundRobinEvent": ("author_id", "created_at", "reason"),
    "leads.TaskEvent": ("actor_id", "occurred_at", "reason"),
    "handovers.HandoverEvent": ("actor_id", "at", "note"),
}


@pytest.mark.parametrize(("label", "columns"), LEDGERS.items())
def test_each_ledger_is_a_ledger_entry_on_its_own_columns(label, columns):
    model = apps.get_model(label)
    assert issubclass(model, LedgerEntry)
    fields = [model._meta.get_field(name) for name in ("actor", "at", "reason")]
    got = tuple(getattr(field, "column", None) for field in fields)
    assert got == columns


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("app", "migration"),
    [
        ("accounts", "0012_ownershipchange_ledger_entry"),
        ("leads", "0007_ledger_entry"),
        ("handovers", "0002_handoverevent_ledger_entry"),
    ],
)
def test_the_move_to_ledger_entry_changes_no_table(app, migration):
    out = io.StringIO()
    call_command("sqlmigrate", app, migration, stdout=out)
    statements = [
        line for line in out.getvalue().splitlines() if line and not line.startswith("--")
    ]
    assert statements in ([], ["BEGIN;", "COMMIT;"])


@pytest.mark.django_db
def test_an_ownership_change_says_what_changed():
    from accounts.ownership import change_account_owner
    from accounts.tests.factories import AccountFactory, manager, tam

    account = AccountFactory.create(name="Acme")
    person, boss = tam(name="Tia Tam"), manager()
    change = change_account_owner(
        account=account,
        new_owner=person,
        new_owner_role="TAM",
        changed_by=boss,
        reason="new logo",
        source="allocation",
    )
    assert (change.actor, change.reason) == (boss, "new logo")
    assert change.what == "Acme: owner none → Tia Tam (allocation)"
