"""Optimisation exclusions from quota (sales/how-we-work, TAM book of business rules).

"If you actively work to reduce a customer's spend with us by optimizing their
usage, we may exclude that usage drop from quota calculation ... at the very
minimum you'll need documented evidence ... This should first be reviewed with
your team lead who will then ask for approval from Simon."

So: the account's owner (or a team lead or manager for them) requests it with
evidence for one quarter; the requester's team lead approves (step one), then a
manager (step two; not the same person as step one); either may decline with a
reason. Only an approved exclusion changes quota (``billing.quota``). Every
step records who and when on the row.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Account, User

from .models import ExclusionStatus, OptimisationExclusion


class ExclusionError(Exception):
    """A step that is not allowed; the message says why, for the page."""


def request_exclusion(
    *,
    account: Account,
    quarter: dt.date,
    amount: Decimal,
    evidence: str,
    evidence_url: str = "",
    by: User,
) -> OptimisationExclusion:
    """Ask to exclude ``amount`` dollars of ARR drop of ``account`` in ``quarter`` (first day).

    Raises ExclusionError when ``by`` neither owns the account nor leads or manages,
    when the evidence is empty, or when a live request for that quarter exists.
    """
    if account.owner_id != by.pk and not by.is_team_lead_or_manager:
        raise ExclusionError("Only the account's owner, a team lead or a manager may ask.")
    if not evidence.strip():
        raise ExclusionError("Documented evidence of the optimisation work is required.")
    if amount <= 0:
        raise ExclusionError("The drop to exclude is more than $0.")
    with transaction.atomic():
        live = (
            OptimisationExclusion.objects.select_for_update()
            .filter(account=account, quarter=quarter)
            .exclude(status=ExclusionStatus.DECLINED)
        )
        if live.exists():
            raise ExclusionError("This account already has a request for that quarter.")
        try:
            # A request made at the same moment by someone else loses on the unique index.
            with transaction.atomic():
                return OptimisationExclusion.objects.create(
                    account=account,
                    quarter=quarter,
                    amount=amount,
                    evidence=evidence.strip(),
                    evidence_url=evidence_url,
                    requested_by=by,
                )
        except IntegrityError:
            raise ExclusionError("This account already has a request for that quarter.") from None


def may_decide(exclusion: OptimisationExclusion, user: User) -> bool:
    """Whether ``user`` takes the next step: the requester's team lead (or a team lead for
    a lead's own request: any manager) first, then a manager who did not take step one."""
    if exclusion.status == ExclusionStatus.REQUESTED:
        lead_id = exclusion.requested_by.team_lead_id
        if lead_id is not None:
            return user.pk == lead_id and user.pk != exclusion.requested_by_id
        return user.is_manager and user.pk != exclusion.requested_by_id
    if exclusion.status == ExclusionStatus.LEAD_APPROVED:
        return user.is_manager and user.pk != exclusion.lead_decided_by_id
    return False


def decide_exclusion(
    *, exclusion_id: int, by: User, approve: bool, reason: str = ""
) -> OptimisationExclusion:
    """Take the next step on an exclusion: approve, or decline with ``reason``.

    Raises ExclusionError when ``by`` may not take this step (``may_decide``), the
    request is already decided, or a decline has no reason. The row is locked, so
    two people deciding at once take one step each, in turn.
    """
    with transaction.atomic():
        exclusion = (
            OptimisationExclusion.objects.select_for_update()
            .select_related("requested_by")
            .get(pk=exclusion_id)
        )
        if exclusion.status in (ExclusionStatus.APPROVED, ExclusionStatus.DECLINED):
            raise ExclusionError(f"Already {exclusion.get_status_display().lower()}.")
        if not may_decide(exclusion, by):
            raise ExclusionError(
                "The requester's team lead decides first, then a manager."
                if exclusion.status == ExclusionStatus.REQUESTED
                else "A manager other than the team lead who approved decides now."
            )
        if not approve and not reason.strip():
            raise ExclusionError("Say why it is declined.")
        now = timezone.now()
        if exclusion.status == ExclusionStatus.REQUESTED:
            exclusion.lead_decided_by, exclusion.lead_decided_at = by, now
            exclusion.status = (
                ExclusionStatus.LEAD_APPROVED if approve else ExclusionStatus.DECLINED
            )
        else:
            exclusion.manager_decided_by, exclusion.manager_decided_at = by, now
            exclusion.status = ExclusionStatus.APPROVED if approve else ExclusionStatus.DECLINED
        exclusion.decline_reason = "" if approve else reason.strip()
        exclusion.save()
        return exclusion
