"""Recommendations a TAM/CSM gives a customer: a task kind with a due date.

The risk-mitigation page's first early-warning signal is "recommendation not
actioned for 2+ weeks" (sales/risk-mitigation-and-churn-prevention). So a
recommendation is recorded on the account page as a ``Task`` of kind
"recommendation": assigned to whoever gave it, waiting on the customer
(status "recommended") until someone with the account in their book marks it
actioned. The nightly churn signals read the open ones
(``accounts.churn.signals``, kind ``recommendation_stale``). Recommendations
never enter the lead queues, the stale job or the round robin: their statuses
are not lead statuses (a database constraint keeps the two apart).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Account, User
from accounts.permissions import can_edit_account
from revopsweb.dates import company_today

from .models import LeadType, Task, TaskEvent, TaskEventKind, TaskKind, TaskSource, TaskStatus

# "Not actioned for 2+ weeks": the default due date, and the earliest the
# churn signal fires whatever the due date.
DEFAULT_DUE_DAYS = 14
TEXT_MAX_LENGTH = 1000


class RecommendationError(ValueError):
    """A recommendation that cannot be given or actioned, with the reason."""


def open_recommendations(account: Account) -> QuerySet[Task]:
    """The account's recommendations still waiting on the customer, oldest due first."""
    return (
        Task.objects.filter(
            account=account, kind=TaskKind.RECOMMENDATION, status=TaskStatus.RECOMMENDED
        )
        .select_related("assignee")
        .order_by("due_on", "id")
    )


def default_due_on(*, today: dt.date) -> dt.date:
    """Two weeks from ``today`` (company time zone)."""
    return today + dt.timedelta(days=DEFAULT_DUE_DAYS)


@transaction.atomic
def give_recommendation(
    *,
    account: Account,
    by: User,
    text: str,
    due_on: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """Record a recommendation given to the customer of ``account``.

    ``due_on`` (company date) defaults to 14 days after today and may not be in
    the past. Only people who may change the account (its owner or TAM overlay,
    their team lead, managers, RevOps) give one: PermissionDenied otherwise;
    RecommendationError for an empty text or a past due date. Writes the task
    and its "created" history row.
    """
    now = now or timezone.now()
    today = company_today(now=now)
    if not can_edit_account(by, account):
        raise PermissionDenied("Only people with this account in their book give recommendations.")
    text = text.strip()
    if not text:
        raise RecommendationError("Say what you recommended.")
    if len(text) > TEXT_MAX_LENGTH:
        raise RecommendationError(f"At most {TEXT_MAX_LENGTH} characters.")
    due_on = due_on or default_due_on(today=today)
    if due_on < today:
        raise RecommendationError("The due date is in the past.")
    task = Task.objects.create(
        account=account,
        kind=TaskKind.RECOMMENDATION,
        source=TaskSource.MANUAL,
        # Not routed by the round robin; the lead type records that it is an
        # existing customer's (product-led / expansion) work.
        lead_type=LeadType.PRODUCT_LED,
        status=TaskStatus.RECOMMENDED,
        message=text,
        due_on=due_on,
        assignee=by,
        assigned_at=now,
        last_touched_at=now,
        created_by=by,
        created_at=now,
    )
    TaskEvent.objects.create(
        task=task,
        kind=TaskEventKind.CREATED,
        actor=by,
        assignee=by,
        new_value=TaskStatus.RECOMMENDED.label,
        summary=f"Recommendation given, due {due_on:%Y-%m-%d}",
        reason=text,
        at=now,
    )
    return task


@transaction.atomic
def action_recommendation(
    *, task: Task, by: User, note: str = "", now: dt.datetime | None = None
) -> Task:
    """Mark a recommendation actioned by the customer: it closes (and its churn
    signal clears on the next nightly run).

    PermissionDenied unless ``by`` may change the account; RecommendationError
    when the task is not an open recommendation (already actioned: a second
    click changes nothing and says so). Records who, when and the note.
    """
    now = now or timezone.now()
    locked = (
        Task.objects.select_for_update(of=("self",))
        .select_related("account__owner")
        .get(pk=task.pk)
    )
    if not can_edit_account(by, locked.account):
        raise PermissionDenied(
            "Only people with this account in their book action recommendations."
        )
    if locked.kind != TaskKind.RECOMMENDATION:
        raise RecommendationError("This task is not a recommendation.")
    if locked.status != TaskStatus.RECOMMENDED:
        raise RecommendationError("This recommendation is already actioned.")
    locked.status = TaskStatus.ACTIONED
    locked.closed_at = now
    locked.last_touched_at = now
    locked.save(update_fields=["status", "closed_at", "last_touched_at"])
    TaskEvent.objects.create(
        task=locked,
        kind=TaskEventKind.STATUS,
        actor=by,
        assignee_id=locked.assignee_id,
        old_value=TaskStatus.RECOMMENDED.label,
        new_value=TaskStatus.ACTIONED.label,
        summary="Recommendation actioned",
        reason=note.strip(),
        at=now,
    )
    task.status, task.closed_at = locked.status, locked.closed_at
    return locked
