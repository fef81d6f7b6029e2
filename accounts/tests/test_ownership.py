from __future__ import annotations

import pytest

from accounts.models import OwnerRole
from accounts.ownership import change_account_owner
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
    assert (change.previous_owner, change.new_owner, change.changed_by) == (None, person, boss)
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
