"""Working a task: touch it, disqualify it, convert it to an opportunity.

Each action writes a TaskEvent (who, when, what, why) in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Activity, ActivityKind, User
from revopsweb.dates import company_today

from .followups import (
    FOLLOW_UP_DAYS,
    ROUTED_TO,
    FollowUpDateError,
    check_follow_up,
    default_follow_up,
    route_out,
)
from .models import (
    OPEN_STATUSES,
    DisqualificationReason,
    Opportunity,
    Task,
    TaskEvent,
    TaskEventKind,
    TaskStatus,
)

TOUCH_KINDS: dict[str, str] = {
    TaskEventKind.NOTE: ActivityKind.NOTE,
    TaskEventKind.CALL: ActivityKind.CALL,
    TaskEventKind.EMAIL: ActivityKind.EMAIL,
}


class TaskClosedError(ValueError):
    """The task is converted or disqualified; it cannot be worked any more."""


def locked_open(task: Task) -> Task:
    """The task locked FOR UPDATE; TaskClosedError when it is converted or disqualified."""
    locked = Task.objects.select_for_update().get(pk=task.pk)
    if not locked.is_open:
        raise TaskClosedError(f"Task {task.pk} is {locked.get_status_display().lower()}.")
    return locked


@transaction.atomic
def touch_task(
    *,
    task: Task,
    actor: User,
    kind: str,
    note: str = "",
    status: str = "",
    now: dt.datetime | None = None,
) -> TaskEvent:
    """Record a status change, note, call or email and set ``last_touched_at``.

    ``kind`` is TaskEventKind.STATUS (with ``status`` one of the open statuses)
    or NOTE/CALL/EMAIL (also logged as account Activity). Not idempotent: each
    call is a touch.
    """
    now = now or timezone.now()
    locked = locked_open(task)
    old = ""
    if kind == TaskEventKind.STATUS:
        if status not in OPEN_STATUSES:
            raise ValueError("Use disqualify or convert to close a task.")
        old, locked.status = locked.get_status_display(), status
        summary = f"Status {old} → {locked.get_status_display()}"
    elif kind in TOUCH_KINDS:
        if not note.strip():
            raise ValueError("A note, call or email needs a summary.")
        summary = note.strip()
        Activity.objects.create(
            account_id=locked.account_id,
            contact_id=locked.contact_id,
            kind=TOUCH_KINDS[kind],
            author=actor,
            occurred_at=now,
            summary=summary[:300],
        )
    else:
        raise ValueError(f"Unknown touch {kind!r}.")
    locked.last_touched_at = now
    locked.save(update_fields=["status", "last_touched_at"])
    task.status, task.last_touched_at = locked.status, locked.last_touched_at
    return TaskEvent.objects.create(
        task=locked,
        kind=kind,
        actor=actor,
        assignee_id=locked.assignee_id,
        old_value=old,
        new_value=locked.get_status_display() if kind == TaskEventKind.STATUS else "",
        summary=summary,
        reason=note if kind == TaskEventKind.STATUS else "",
        at=now,
    )


@transaction.atomic
def disqualify_task(
    *,
    task: Task,
    reason: str,
    actor: User | None,
    comment: str = "",
    follow_up_on: dt.date | None = None,
    now: dt.datetime | None = None,
) -> TaskEvent:
    """Close the task as disqualified with a picklist reason ("Other" needs a comment).

    A Prospect reason (``followups.FOLLOW_UP_DAYS``) sets the follow-up date
    (its default, or ``follow_up_on`` within the reason's window, else
    FollowUpDateError); the daily follow-up job raises the follow-up task
    then. A Support or Billing Support request is routed to that team
    (``followups.route_out``).
    """
    now = now or timezone.now()
    if reason not in DisqualificationReason.values:
        raise ValueError(f"Unknown disqualification reason {reason!r}.")
    if reason == DisqualificationReason.OTHER and not comment.strip():
        raise ValueError("Disqualifying as Other needs a comment.")
    today = company_today(now=now)
    if reason in FOLLOW_UP_DAYS:
        follow_up_on = follow_up_on or default_follow_up(reason=reason, today=today)
        assert follow_up_on is not None
        check_follow_up(reason=reason, follow_up_on=follow_up_on, today=today)
    elif follow_up_on is not None:
        raise FollowUpDateError(
            f"{DisqualificationReason(reason).label} gets no follow-up; pick a Prospect reason."
        )
    locked = locked_open(task)
    locked.status = TaskStatus.DISQUALIFIED
    locked.disqualification_reason = reason
    locked.disqualification_comment = comment.strip()
    locked.follow_up_on = follow_up_on
    locked.last_touched_at = now
    locked.closed_at = now
    locked.save(
        update_fields=[
            "status",
            "disqualification_reason",
            "disqualification_comment",
            "follow_up_on",
            "last_touched_at",
            "closed_at",
        ]
    )
    task.status, task.disqualification_reason = locked.status, reason
    task.follow_up_on = follow_up_on
    label = DisqualificationReason(reason).label
    summary = f"Disqualified: {label} ({locked.disqualification_category})"
    if reason in ROUTED_TO:
        summary += f"; routed to {route_out(task=locked, reason=reason, actor=actor, now=now)}"
    if follow_up_on is not None:
        summary += f"; follow-up task on {follow_up_on:%Y-%m-%d}"
    return TaskEvent.objects.create(
        task=locked,
        kind=TaskEventKind.DISQUALIFIED,
        actor=actor,
        assignee_id=locked.assignee_id,
        new_value=label,
        summary=summary,
        reason=comment.strip(),
        at=now,
    )


@transaction.atomic
def convert_task(
    *,
    task: Task,
    actor: User,
    record_type: str,
    opportunity_type: str,
    amount: Decimal,
    close_date: dt.date,
    now: dt.datetime | None = None,
) -> Opportunity:
    """Convert an open task into an opportunity owned by its assignee."""
    now = now or timezone.now()
    locked = locked_open(task)
    opportunity = Opportunity.objects.create(
        task=locked,
        account_id=locked.account_id,
        owner_id=locked.assignee_id or actor.pk,
        record_type=record_type,
        type=opportunity_type,
        amount=amount,
        close_date=close_date,
        created_by=actor,
    )
    locked.status = TaskStatus.CONVERTED
    locked.last_touched_at = now
    locked.closed_at = now
    locked.save(update_fields=["status", "last_touched_at", "closed_at"])
    task.status = locked.status
    TaskEvent.objects.create(
        task=locked,
        kind=TaskEventKind.CONVERTED,
        actor=actor,
        assignee_id=locked.assignee_id,
        new_value=opportunity.get_record_type_display(),
        summary=(
            f"Converted: {opportunity.get_record_type_display()}, "
            f"{opportunity.get_type_display()}, ${amount:,.2f}, closes {close_date:%Y-%m-%d}"
        ),
        at=now,
    )
    return opportunity
