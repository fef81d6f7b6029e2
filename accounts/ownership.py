"""Moving an account between owners. Every move is recorded in OwnershipChange."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from revopsweb.dates import company_today

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
    already_locked: bool = False,
) -> OwnershipChange:
    """Set the account's owner and append the move to its ownership history.

    ``changed_by`` is None when a job or the round robin moved the account.
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
        changed_by=changed_by,
        changed_at=now,
        effective_on=effective_on,
        reason=reason,
        source=source,
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
