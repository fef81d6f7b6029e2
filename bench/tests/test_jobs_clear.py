"""The jobs bench's clean-up of an earlier run's accounts (``bench.jobs._clear``): by
their id set, with no history written for them, and nobody else's account touched."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.churn.models import ChurnSignal
from accounts.models import Account, OwnershipChange
from accounts.ownership import change_account_owner
from accounts.tests.factories import AccountFactory, tam
from bench.jobs import ORG_PREFIX, _clear

pytestmark = pytest.mark.django_db


def _deleted_events() -> int:
    events = Account.pgh_event_model.objects  # type: ignore[attr-defined]
    return int(events.filter(pgh_label="delete").count())


def test_the_bench_accounts_go_by_their_id_set_without_history_and_others_stay():
    ours = [AccountFactory.create(organization_id=f"{ORG_PREFIX}{i}") for i in range(3)]
    change_account_owner(
        account=ours[0],
        new_owner=tam(),
        new_owner_role="TAM",
        changed_by=None,
        reason="bench",
        source="test",
    )
    # Not the bench's: "_" in the prefix is a literal underscore, not LIKE's any character.
    others = [AccountFactory.create(organization_id="benchXjobsY1"), AccountFactory.create()]
    connection.check_constraints()  # as committed by the earlier run (TRUNCATE needs it)
    with transaction.atomic():
        _clear()
    assert list(Account.objects.order_by("pk")) == others
    assert not OwnershipChange.objects.filter(account_id__in=[a.pk for a in ours]).exists()
    assert _deleted_events() == 0  # synthetic rows are nobody's change


def test_a_row_another_table_left_on_a_bench_account_still_fails_the_clean_up():
    account = AccountFactory.create(organization_id=f"{ORG_PREFIX}0")
    ChurnSignal.objects.create(account=account, kind="data_export", detected_on="2026-11-30")
    connection.check_constraints()
    with pytest.raises(IntegrityError), transaction.atomic():
        _clear()
    assert Account.objects.filter(pk=account.pk).exists()
