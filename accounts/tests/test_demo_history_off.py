from __future__ import annotations

from typing import Any

import pytest

from accounts.demo import history_off, insert_rows
from accounts.models import Account
from accounts.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def _updates(account: Account) -> int:
    events: Any = Account.pgh_event_model  # type: ignore[attr-defined]
    return int(events.objects.filter(pgh_obj_id=account.pk, pgh_label="update").count())


@pytest.mark.parametrize("table", [Account, "accounts_account"])
def test_history_off_records_no_update_inside_and_turns_the_trigger_back_on(table: Any) -> None:
    account = AccountFactory.create(name="Acme")
    with history_off(table):
        Account.objects.filter(pk=account.pk).update(name="Acme Inc")
    assert _updates(account) == 0
    Account.objects.filter(pk=account.pk).update(name="Acme Ltd")
    assert _updates(account) == 1


def test_history_off_leaves_the_trigger_on_when_the_load_fails() -> None:
    account = AccountFactory.create(name="Acme")
    with pytest.raises(RuntimeError), history_off(Account):
        raise RuntimeError
    Account.objects.filter(pk=account.pk).update(name="Acme Inc")
    assert _updates(account) == 1


def test_insert_rows_copies_without_history_and_leaves_the_trigger_on() -> None:
    owner_less = AccountFactory.build(organization_id="org_copied")
    fields = [
        f.attname
        for f in Account._meta.concrete_fields
        if not f.primary_key and f.attname not in {"created_at", "updated_at"}
    ]
    insert_rows(model=Account, fields=fields, rows=[[getattr(owner_less, f) for f in fields]])
    copied = Account.objects.get(organization_id="org_copied")
    events: Any = Account.pgh_event_model  # type: ignore[attr-defined]
    assert not events.objects.filter(pgh_obj_id=copied.pk).exists()
    Account.objects.filter(pk=copied.pk).update(name="Renamed")
    assert _updates(copied) == 1
