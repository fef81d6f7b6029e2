"""Moving an account between owners: the only code that writes ``Account.owner``.

Every move writes the owner (with its role and since-date) and appends its
OwnershipChange (who, when, what, why, source, and the round-robin task when
one caused it) in the same function: ``change_account_owner`` for one account,
``change_owners_of_locked_accounts`` for a batch job or import that holds the
accounts' row locks (two statements whatever the batch size), ``OwnerMoveSql``
for a caller that sends the move inside one statement of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from revopsweb.dates import company_today
from revopsweb.sql import insert_row_sql, refresh_row_json, row_json

from .models import Account, OwnershipChange, User


def change_account_owner(
    *,
    account: Account,
    new_owner: User | None,
    new_owner_role: str,
    changed_by: User | None,
    reason: str,
    source: str,
    effective_on: dt.date | None = None,
    task_id: int | None = None,
    already_locked: bool = False,
) -> OwnershipChange:
    """Set the account's owner and append the move to its ownership history.

    ``changed_by`` is None when a job or the round robin moved the account.
    ``task_id`` is the round-robin task the account came with (the stale job
    moves the account along with that task); None for every other move.
    ``effective_on`` defaults to today in the company's time zone.
    Passing the current owner again records nothing new and returns the last
    change, so callers may retry safely.

    ``already_locked=True`` is for callers that hold the account's row lock
    in their own open transaction (read with SELECT … FOR UPDATE, or inserted
    by it) and whose ``account`` instance is that locked row: the account is
    not read and locked again, and no savepoint is taken, so the move costs
    two statements (history insert, owner update). Without an open
    transaction it raises rather than write unlocked.
    """
    if not reason.strip():
        raise ValueError("An ownership change needs a reason.")
    if already_locked:
        connection = transaction.get_connection()
        if not connection.in_atomic_block:
            raise RuntimeError("already_locked=True needs the caller's open transaction.")
        return _change_locked(
            locked=account,
            new_owner=new_owner,
            new_owner_role=new_owner_role,
            changed_by=changed_by,
            reason=reason,
            source=source,
            effective_on=effective_on,
            task_id=task_id,
        )
    with transaction.atomic():
        locked = Account.objects.select_for_update().get(pk=account.pk)
        change = _change_locked(
            locked=locked,
            new_owner=new_owner,
            new_owner_role=new_owner_role,
            changed_by=changed_by,
            reason=reason,
            source=source,
            effective_on=effective_on,
            task_id=task_id,
        )
    account.owner = locked.owner
    account.owner_role = locked.owner_role
    account.owner_since = locked.owner_since
    return change


def _change_locked(
    *,
    locked: Account,
    new_owner: User | None,
    new_owner_role: str,
    changed_by: User | None,
    reason: str,
    source: str,
    effective_on: dt.date | None,
    task_id: int | None,
) -> OwnershipChange:
    """The history insert and owner update for an account row this transaction has locked."""
    now = timezone.now()
    effective_on = effective_on or company_today(now=now)
    # An unowned account has no owner role.
    role = new_owner_role if new_owner else ""
    if locked.owner_id == (new_owner.pk if new_owner else None) and locked.owner_role == role:
        last = locked.ownership_changes.first()
        if last is not None:
            return last
    change = OwnershipChange.objects.create(
        account=locked,
        previous_owner_id=locked.owner_id,
        new_owner=new_owner,
        new_owner_role=role,
        actor=changed_by,
        at=now,
        effective_on=effective_on,
        reason=reason,
        source=source,
        task_id=task_id,
    )
    locked.owner = new_owner
    locked.owner_role = role
    locked.owner_since = effective_on if new_owner else None
    Account.objects.filter(pk=locked.pk).update(
        owner=new_owner,
        owner_role=locked.owner_role,
        owner_since=locked.owner_since,
        updated_at=now,
    )
    locked.updated_at = now
    return change


class OwnerMoveSql:
    """One move (history insert, owner update) as two statements (sql, params), for a
    caller that sends them inside a statement of its own (data-modifying CTEs).

    In two steps, for a caller that decides while it holds row locks: the
    constructor builds the history row from what does not depend on the
    locked account or the new owner (before any lock), ``statements`` sets the
    rest. ``reason`` and ``task_id`` may be expressions (``RawSQL``) over that
    statement's other CTEs. The caller sets the instance's owner fields once
    the statement has run. Same columns and rules as ``change_account_owner``.
    """

    # The history row's fields ``statements`` sets.
    _MOVE_FIELDS = ("account", "previous_owner", "new_owner", "new_owner_role", "reason")

    def __init__(
        self,
        *,
        changed_by: User | None,
        source: str,
        at: dt.datetime,
        effective_on: dt.date,
        task_id: Any,
    ) -> None:
        self.at = at
        self.effective_on = effective_on
        self.change = OwnershipChange(
            actor=changed_by,
            at=at,
            effective_on=effective_on,
            reason="",
            source=source,
            task_id=task_id,
        )
        self.row = row_json(self.change)

    def statements(
        self, *, locked: Account, new_owner_id: int, new_owner_role: str, reason: Any
    ) -> list[tuple[str, list[Any]]]:
        """The history insert and the owner update of ``locked`` (the account row the
        caller's open transaction holds locked, as read) moving to ``new_owner_id``."""
        change = self.change
        change.account_id = locked.pk
        change.previous_owner_id = locked.owner_id
        change.new_owner_id = new_owner_id
        change.new_owner_role = new_owner_role
        change.reason = reason
        history = insert_row_sql(
            change, rows=[refresh_row_json(change, self.row, self._MOVE_FIELDS)]
        )
        owner = (
            "UPDATE accounts_account SET owner_id = %s, owner_role = %s, owner_since = %s, "
            "updated_at = %s WHERE id = %s",
            [new_owner_id, new_owner_role, self.effective_on, self.at, locked.pk],
        )
        return [history, owner]


@dataclass(frozen=True)
class OwnerMove:
    """One account's move in a batch: from ``previous_owner_id`` (as the caller
    read it under the row lock) to ``new_owner_id`` (None: unowned)."""

    account_id: int
    previous_owner_id: int | None
    new_owner_id: int | None
    new_owner_role: str
    reason: str
    effective_on: dt.date
    task_id: int | None = None
    # When the move happened, if not ``now`` (the demo seed replays history).
    changed_at: dt.datetime | None = None


def change_owners_of_locked_accounts(
    *,
    moves: Sequence[OwnerMove],
    changed_by: User | None,
    source: str,
    now: dt.datetime,
) -> list[OwnershipChange]:
    """``change_account_owner`` for many accounts at once, set-based.

    For batch jobs and imports whose open transaction already holds the row
    locks of every account in ``moves`` (read FOR UPDATE, or inserted by it)
    and has decided each move under those locks: callers pass real moves only
    (a move to the current owner would be recorded). Two statements whatever
    the number of moves: one UPDATE of the accounts' owner, role, since-date
    and ``updated_at``, one INSERT of the history rows. Raises RuntimeError
    outside a transaction and ValueError for a move without a reason.
    """
    if not moves:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Moving locked accounts needs the caller's open transaction.")
    if any(not move.reason.strip() for move in moves):
        raise ValueError("An ownership change needs a reason.")
    accounts = [
        Account(
            pk=move.account_id,
            owner_id=move.new_owner_id,
            # An unowned account has no owner role and no since-date.
            owner_role=move.new_owner_role if move.new_owner_id else "",
            owner_since=move.effective_on if move.new_owner_id else None,
            updated_at=now,
        )
        for move in moves
    ]
    Account.objects.bulk_update(accounts, ["owner", "owner_role", "owner_since", "updated_at"])
    return OwnershipChange.objects.bulk_create(
        OwnershipChange(
            account_id=move.account_id,
            previous_owner_id=move.previous_owner_id,
            new_owner_id=move.new_owner_id,
            new_owner_role=move.new_owner_role if move.new_owner_id else "",
            actor=changed_by,
            at=move.changed_at or now,
            effective_on=move.effective_on,
            reason=move.reason,
            source=source,
            task_id=move.task_id,
        )
        for move in moves
    )
