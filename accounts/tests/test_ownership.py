from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps as django_apps
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, OwnerRole, OwnershipChange
from accounts.ownership import OwnerMove, change_account_owner, change_owners_of_locked_accounts
from accounts.tests.factories import AccountFactory, manager, tam

pytestmark = pytest.mark.django_db


def test_changing_owner_records_who_when_and_why():
    account = AccountFactory.create()
    person, boss = tam(), manager()
    change = change_account_owner(
        account=account,
        new_owner=person,
        new_owner_role=OwnerRole.TAM,
        changed_by=boss,
        reason="Allocation: $20k+ unowned",
        source="allocation",
    )
    account.refresh_from_db()
    assert account.owner == person
    assert account.owner_role == OwnerRole.TAM
    assert account.owner_since == change.effective_on
    assert (change.previous_owner, change.new_owner, change.actor) == (None, person, boss)
    assert change.reason == "Allocation: $20k+ unowned"


def test_repeating_the_same_change_records_it_once():
    account = AccountFactory.create()
    person = tam()
    for _ in range(2):
        change_account_owner(
            account=account,
            new_owner=person,
            new_owner_role="TAM",
            changed_by=None,
            reason="rr",
            source="rr",
        )
    assert account.ownership_changes.count() == 1


def test_unassigning_clears_role_and_date():
    account = AccountFactory.create()
    change_account_owner(
        account=account,
        new_owner=tam(),
        new_owner_role="TAM",
        changed_by=None,
        reason="a",
        source="t",
    )
    change_account_owner(
        account=account, new_owner=None, new_owner_role="", changed_by=None, reason="b", source="t"
    )
    account.refresh_from_db()
    assert (account.owner, account.owner_role, account.owner_since) == (None, "", None)
    assert account.ownership_changes.count() == 2


def test_a_change_without_reason_is_refused():
    with pytest.raises(ValueError, match="reason"):
        change_account_owner(
            account=AccountFactory.create(),
            new_owner=tam(),
            new_owner_role="TAM",
            changed_by=None,
            reason=" ",
            source="t",
        )


def test_moving_locked_accounts_in_bulk_writes_owners_and_history_together():
    first, second = AccountFactory.create(), AccountFactory.create(owner=tam(), owner_role="TAM")
    person = tam()
    day = dt.date(2026, 3, 2)
    with transaction.atomic():
        list(Account.objects.select_for_update().filter(pk__in=[first.pk, second.pk]))
        changes = change_owners_of_locked_accounts(
            moves=[
                OwnerMove(first.pk, None, person.pk, "TAM", "batch move", day),
                OwnerMove(second.pk, second.owner_id, None, "TAM", "batch unassign", day),
            ],
            changed_by=None,
            source="test",
            now=timezone.now(),
        )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.owner, first.owner_role, first.owner_since) == (person, "TAM", day)
    assert (second.owner, second.owner_role, second.owner_since) == (None, "", None)
    assert sorted((c.account_id, c.new_owner_id, c.new_owner_role) for c in changes) == sorted(
        [(first.pk, person.pk, "TAM"), (second.pk, None, "")]
    )
    assert OwnershipChange.objects.filter(source="test").count() == 2


@pytest.mark.django_db(transaction=True)
def test_moving_accounts_in_bulk_outside_a_transaction_is_refused():
    account = AccountFactory.create()
    move = OwnerMove(account.pk, None, tam().pk, "TAM", "no lock held", dt.date(2026, 3, 2))
    with pytest.raises(RuntimeError, match="transaction"):
        change_owners_of_locked_accounts(
            moves=[move], changed_by=None, source="test", now=timezone.now()
        )
    account.refresh_from_db()
    assert account.owner is None


def test_the_backfill_links_round_robin_changes_to_the_task_named_in_their_reason():
    from leads.tests.factories import TaskFactory

    backfill = importlib.import_module("accounts.migrations.0007_ownershipchange_task")
    task = TaskFactory.create()
    account = task.account

    def change(reason: str, source: str = "round robin") -> OwnershipChange:
        return OwnershipChange.objects.create(
            account=account,
            at=timezone.now(),
            effective_on=dt.date(2026, 3, 2),
            reason=reason,
            source=source,
        )

    named = change(f"Round robin with task {task.pk}: round robin (priority 1)")
    missing = change(f"Round robin with task {task.pk + 1000}: the task was deleted")
    other_source = change(f"Round robin with task {task.pk}: typed by hand", source="import")
    mention = change(f"Handed over; see Round robin with task {task.pk}: earlier")

    backfill.backfill_task(django_apps, None)

    linked = dict(OwnershipChange.objects.values_list("pk", "task_id"))
    assert linked == {named.pk: task.pk, missing.pk: None, other_source.pk: None, mention.pk: None}
