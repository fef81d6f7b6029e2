"""Qualification outcomes and follow-ups of tasks (issue 18).

sales/product-led-lead-qualification: a lead is qualified (work it: in
progress), nurtured ("not yet": come back in 30–60 days) or disqualified.
sales/overview, "Splits and follow-ups": the Prospect reasons come back as a
follow-up task on a date (No Response – Prospect in roughly 3–6 months, Below
Sales Assist Threshold – Prospect about 90 days, Using Competitor about 9
months); Support and Billing Support requests are routed to those teams, not
worked as sales tasks.

The daily job (``raise_due_follow_ups``) turns due dates into work: a
disqualified Prospect task gets one follow-up task through intake (owner
first, else the round robin), and a nurtured task whose date has come is back
in progress. Both are idempotent (one follow-up per task, a database
constraint; only nurturing tasks are moved back).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import Activity, ActivityKind, User
from revopsweb.dates import company_today

from .intake import intake_account_task
from .models import (
    DisqualificationReason,
    Task,
    TaskEvent,
    TaskEventKind,
    TaskSource,
    TaskStatus,
)

_R = DisqualificationReason

# Days until the follow-up, (earliest, default, latest) per Prospect reason.
FOLLOW_UP_DAYS: dict[str, tuple[int, int, int]] = {
    _R.NO_RESPONSE_PROSPECT: (90, 120, 183),  # "roughly 3–6 months"
    _R.BELOW_ASSIST_PROSPECT: (60, 90, 120),  # "within ~90 days"
    _R.USING_COMPETITOR: (240, 270, 300),  # "about 9 months"
}
# Reasons that send the conversation to another team (the Re-route bucket's
# support split): the task is closed and the account gets the hand-off.
ROUTED_TO: dict[str, str] = {
    _R.SUPPORT_REQUEST: "Support",
    _R.BILLING_SUPPORT_REQUEST: "Billing",
}
NURTURE_DAYS = (30, 60)
NURTURE_DEFAULT_DAYS = 45


class FollowUpDateError(ValueError):
    """A follow-up or nurture date outside what the handbook allows."""


def default_follow_up(*, reason: str, today: dt.date) -> dt.date | None:
    """The follow-up date a Prospect reason gets by default; None for other reasons."""
    days = FOLLOW_UP_DAYS.get(reason)
    return today + dt.timedelta(days=days[1]) if days else None


def check_follow_up(*, reason: str, follow_up_on: dt.date, today: dt.date) -> None:
    """Raise FollowUpDateError unless ``follow_up_on`` fits the reason's window."""
    days = FOLLOW_UP_DAYS.get(reason)
    if days is None:
        raise FollowUpDateError(f"{_R(reason).label} gets no follow-up.")
    earliest, latest = today + dt.timedelta(days=days[0]), today + dt.timedelta(days=days[2])
    if not earliest <= follow_up_on <= latest:
        raise FollowUpDateError(
            f"For {_R(reason).label} the follow-up is between {earliest:%Y-%m-%d} and "
            f"{latest:%Y-%m-%d} ({days[0]}–{days[2]} days)."
        )


def check_nurture(*, follow_up_on: dt.date, today: dt.date) -> None:
    low, high = (today + dt.timedelta(days=d) for d in NURTURE_DAYS)
    if not low <= follow_up_on <= high:
        raise FollowUpDateError(
            f"Nurture for {NURTURE_DAYS[0]}–{NURTURE_DAYS[1]} days: "
            f"come back between {low:%Y-%m-%d} and {high:%Y-%m-%d}."
        )


def route_out(*, task: Task, reason: str, actor: User | None, now: dt.datetime) -> str:
    """Hand a support or billing request to its team: an account activity says so.

    Returns the team's name. Called by ``disqualify_task`` inside its transaction.
    """
    team = ROUTED_TO[reason]
    Activity.objects.create(
        account_id=task.account_id,
        contact_id=task.contact_id,
        kind=ActivityKind.NOTE,
        author=actor,
        occurred_at=now,
        summary=f"Routed to {team} from sales task {task.pk} ({_R(reason).label})",
        body=task.message[:2000],
    )
    return team


@transaction.atomic
def nurture_task(
    *,
    task: Task,
    actor: User | None,
    follow_up_on: dt.date,
    note: str = "",
    now: dt.datetime | None = None,
) -> TaskEvent:
    """Set the task to nurturing until ``follow_up_on`` (30–60 days ahead).

    Raises FollowUpDateError for a date outside the window and
    ``task_actions.TaskClosedError`` for a closed task.
    """
    from .task_actions import locked_open

    now = now or timezone.now()
    check_nurture(follow_up_on=follow_up_on, today=company_today(now=now))
    locked = locked_open(task)
    old = locked.get_status_display()
    locked.status = TaskStatus.NURTURING
    locked.follow_up_on = follow_up_on
    locked.last_touched_at = now
    locked.save(update_fields=["status", "follow_up_on", "last_touched_at"])
    task.status, task.follow_up_on = locked.status, follow_up_on
    return TaskEvent.objects.create(
        task=locked,
        kind=TaskEventKind.STATUS,
        actor=actor,
        assignee_id=locked.assignee_id,
        old_value=old,
        new_value=locked.get_status_display(),
        summary=f"Nurture until {follow_up_on:%Y-%m-%d}",
        reason=note.strip(),
        at=now,
    )


@dataclass
class FollowUpResult:
    follow_ups: list[int] = field(default_factory=list)
    back_in_progress: int = 0

    @property
    def rows(self) -> int:
        return len(self.follow_ups) + self.back_in_progress


_NURTURE_DUE = """
WITH due AS (
    UPDATE leads_task SET status = %(in_progress)s, last_touched_at = %(now)s
    WHERE status = %(nurturing)s AND follow_up_on <= %(today)s
    RETURNING id, assignee_id, follow_up_on
)
INSERT INTO leads_taskevent
    (task_id, kind, actor_id, assignee_id, old_value, new_value, summary, reason, occurred_at)
SELECT id, %(kind)s, NULL, assignee_id, %(old)s, %(new)s,
       'Nurture follow-up due: back in progress', 'nurture date ' || follow_up_on, %(now)s
FROM due
"""


def raise_due_follow_ups(*, now: dt.datetime | None = None) -> FollowUpResult:
    """Create the follow-up tasks that are due and end the nurture periods that are over.

    Idempotent: a disqualified task gets at most one follow-up (unique
    ``follow_up_of``) and only nurturing tasks are moved back. Each follow-up
    commits on its own, so a run that dies part way is finished by the next.
    """
    now = now or timezone.now()
    today = company_today(now=now)
    result = FollowUpResult()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _NURTURE_DUE,
            {
                "in_progress": TaskStatus.IN_PROGRESS,
                "nurturing": TaskStatus.NURTURING,
                "today": today,
                "now": now,
                "kind": TaskEventKind.STATUS,
                "old": TaskStatus.NURTURING.label,
                "new": TaskStatus.IN_PROGRESS.label,
            },
        )
        result.back_in_progress = cursor.rowcount
    due = list(
        Task.objects.filter(
            status=TaskStatus.DISQUALIFIED,
            disqualification_reason__in=list(FOLLOW_UP_DAYS),
            follow_up_on__lte=today,
            follow_up_task__isnull=True,
        ).order_by("follow_up_on", "pk")
    )
    for task in due:
        try:
            with transaction.atomic():
                created = intake_account_task(
                    account_id=task.account_id,
                    source=TaskSource.FOLLOW_UP,
                    lead_type=task.lead_type,
                    message=(
                        f"Follow-up of task {task.pk}, disqualified "
                        f"{company_today(now=task.closed_at or now):%Y-%m-%d} as "
                        f"{task.get_disqualification_reason_display()}: revisit now. "
                        f"{task.disqualification_comment}"
                    ).strip(),
                    created_summary=f"Follow-up of task {task.pk} due {task.follow_up_on}",
                    follow_up_of=task,
                    now=now,
                )
        except IntegrityError:
            continue  # another run created it first
        result.follow_ups.append(created.task.pk)
    return result
