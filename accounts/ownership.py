"""Moving an account between owners. Every move is recorded in OwnershipChange."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from .models import Account, OwnershipChange, User


@transaction.atomic
def change_account_owner(
    *,
    account: Account,
    new_owner: User | None,
    new_owner_role: str,
    changed_by: User | None,
    reason: str,
    source: str,
    effective_on: dt.date | None = None,
) -> OwnershipChange:
    """Set the account's owner and append the move to its ownership history.

    ``changed_by`` is None when a job or the round robin moved the account.
    Passing the current owner again records nothing new and returns the last
    change, so callers may retry safely.
    """
    if not reason.strip():
        raise ValueError("An ownership change needs a reason.")
    now = timezone.now()
    effective_on = effective_on or timezone.localdate(now)
    locked = Account.objects.select_for_update().get(pk=account.pk)
    if locked.owner_id == (new_owner.pk if new_owner else None) and locked.owner_role == (
        new_owner_role if new_owner else ""
    ):
        last = locked.ownership_changes.first()
        if last is not None:
            return last
    change = OwnershipChange.objects.create(
        account=locked,
        previous_owner_id=locked.owner_id,
        new_owner=new_owner,
        new_owner_role=new_owner_role if new_owner else "",
        changed_by=changed_by,
        changed_at=now,
        effective_on=effective_on,
        reason=reason,
        source=source,
    )
    locked.owner = new_owner
    locked.owner_role = new_owner_role if new_owner else ""
    locked.owner_since = effective_on if new_owner else None
    locked.save(update_fields=["owner", "owner_role", "owner_since", "updated_at"])
    account.owner = locked.owner
    account.owner_role = locked.owner_role
    account.owner_since = locked.owner_since
    return change
