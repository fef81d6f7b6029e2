"""Who gets a task: the account owner, else the territory's weighted round robin.

The rule (issue 4, sales/overview "Task assignment logic", revops/lead-assignment-tracker);
this module writes each decision, ``leads.round_robin`` makes steps 2-4's pick:

1. If the task's account has an owner, the task goes to that owner.
2. Otherwise the account and the task go to the next member of the round robin
   among active members of the task's territory whose role matches the lead type.
3. "Next" is the member with the lowest load = (leads this month + manual
   adjustment) × priority; ties go to the member whose last assignment is oldest
   (never assigned counts as oldest), then the lowest member id.
4. No eligible member: the task stays unassigned, with the reason, in the team
   leads' queue.

Concurrency: one transaction locks the account row, then the territory's
candidate member rows (``SELECT … FOR UPDATE`` ordered by id, so every writer
takes them in the same order), picks, writes the counter and inserts the ledger
event. Two tasks for one unowned account serialise on the account lock; the
second sees the owner the first set.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import F, TextField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.models import Account, OwnerRole, OwnershipChange, User
from accounts.ownership import OwnerMoveSql, change_account_owner
from revopsweb.dates import company_today
from revopsweb.sql import RowJson, insert_row_sql, mark_saved, refresh_row_json, row_json

from .models import (
    LedgerKind,
    RoundRobinEvent,
    Task,
    TaskEvent,
    TaskEventKind,
    Territory,
    TrackerMember,
    TrackerRole,
)
from .people import LOGIN_OFF
from .round_robin import Decision, LockedPool, decide_round_robin

ROUND_ROBIN_SOURCE = "round robin"
NO_TERRITORY_REASON = "no territory: the account's country and state are unknown"
# sales/product-led-lead-qualification: TAMs have a soft cap of 15 managed
# accounts; issue 6 adds the $1.5m ARR ceiling for the product-led round robin.

OWNER_ROLE_FOR: dict[str, str] = {
    TrackerRole.TAE: OwnerRole.TAE,
    TrackerRole.TAM: OwnerRole.TAM,
}


def _record_assignment(
    *,
    task: Task,
    decision: Decision,
    kind: str,
    author: User | None,
    reason: str,
    now: dt.datetime,
) -> None:
    """Counter, ledger event, task fields and task history for one decision."""
    member = decision.member
    if member is not None:
        TrackerMember.objects.filter(pk=member.pk).update(
            leads_this_month=F("leads_this_month") + 1, last_assigned_at=now
        )
        member.leads_this_month += 1
        member.last_assigned_at = now
        RoundRobinEvent.objects.create(
            member=member,
            kind=kind,
            task=task,
            delta=1,
            period=member.period,
            actor=author,
            reason=reason or decision.explanation,
            at=now,
        )


def _owner_role(user_role: str) -> str:
    return OWNER_ROLE_FOR.get(user_role, OwnerRole.TAE)


def decide_for_account(
    *,
    account: Account,
    territory: Territory | None,
    lead_type: str,
    today: dt.date,
    pool: LockedPool | None = None,
) -> Decision:
    """Steps 1-4 for a locked account: its owner (unless their login is switched
    off: then as if unowned, ``leads.people``), else the territory's round robin.

    Must run inside a transaction that holds the account row lock; it takes
    the territory's member locks for the round robin, unless the caller
    already holds them (``pool``, locked after the account).
    """
    owner = account.owner if account.owner_id is not None else None
    if owner is not None and owner.is_active:
        return Decision(
            assignee=owner, member=None, explanation=f"account owner ({owner.name})", pool=[]
        )
    # An owner whose login is switched off cannot work it: routed as unowned.
    why_not_owner = f"owner {owner.name}'s {LOGIN_OFF}; " if owner is not None else ""
    if territory is None:
        return Decision(
            assignee=None,
            member=None,
            explanation=f"unassigned: {why_not_owner}{NO_TERRITORY_REASON}",
            unassigned_reason=f"{why_not_owner}{NO_TERRITORY_REASON}",
        )
    _, decision = decide_round_robin(
        territory=territory, lead_type=lead_type, today=today, locked=pool
    )
    if why_not_owner:
        decision.explanation = why_not_owner + decision.explanation
        if decision.unassigned_reason:
            decision.unassigned_reason = why_not_owner + decision.unassigned_reason
    return decision


def _apply(
    *, task: Task, account: Account, decision: Decision, author: User | None, now: dt.datetime
) -> None:
    """The round robin's writes for a decision: counter, ledger event, account owner."""
    if decision.member is None:
        return
    _record_assignment(
        task=task, decision=decision, kind=LedgerKind.ASSIGNMENT, author=author, reason="", now=now
    )
    _give_account(
        account=account,
        member=decision.member,
        task=task,
        explanation=decision.explanation,
        author=author,
        now=now,
    )


# savepoint=False: inside intake's transaction a savepoint would only add two
# round trips; any error aborts the whole intake anyway.
@transaction.atomic(savepoint=False)
def assign_task(
    *, task: Task, author: User | None = None, now: dt.datetime | None = None
) -> Decision:
    """Assign an unassigned open task by the four-step rule and record why.

    Idempotent: a task that already has an assignee is returned as is (its
    stored explanation). Runs in one transaction holding the account lock and
    the territory's member locks; safe to call from many connections at once.
    """
    now = now or timezone.now()
    caller, task = task, Task.objects.select_for_update(of=("self",)).get(pk=task.pk)
    if task.assignee_id is not None or not task.is_open:
        return Decision(
            assignee=task.assignee, member=None, explanation=task.explanation, pool=task.pool
        )
    account = (
        Account.objects.select_for_update(of=("self",))
        .select_related("owner")
        .get(pk=task.account_id)
    )
    territory_id = task.territory_id or account.territory_id
    territory = Territory.objects.get(pk=territory_id) if territory_id else None
    task.territory = territory
    decision = decide_for_account(
        account=account,
        territory=territory,
        lead_type=task.lead_type,
        today=company_today(now=now),
    )
    _apply(task=task, account=account, decision=decision, author=author, now=now)
    _store_decision(task=task, decision=decision, author=author, now=now, reassigned=False)
    _copy_assignment(task, caller)
    return decision


@dataclass
class NewTaskRows:
    """The rows of a new task's write that neither the decision nor the locked rows
    change, built before intake takes its locks (``prepare_new_task``).

    A new lead's pool stays locked from intake's first statement to its commit,
    and every other intake of the territory waits for it. Building the write's
    five model instances and their rows took about 1.5 ms of Python there;
    built beforehand, the decision sets a dozen columns (``_insert_decided_task``).
    """

    task: Task
    task_row: RowJson
    created_row: RowJson
    decided: TaskEvent
    decided_row: RowJson
    ledger: RoundRobinEvent
    ledger_row: RowJson
    move: OwnerMoveSql


# The statement ``_insert_decided_task`` sends refers to the task it inserts by
# this subquery: the ledger event, the ownership change and the task history
# need its new id.
_NEW_TASK_ID = "(SELECT id FROM new_task)"
# Any field: RawSQL makes a new Field() per instance when given none.
_TEXT = TextField()
_NEW_TASK = RawSQL(_NEW_TASK_ID, (), output_field=_TEXT)

# The task's fields set after ``prepare_new_task``: the account, contact and score
# from intake's first statement, the territory and the decision's.
_DECIDED_TASK_FIELDS = (
    "account",
    "contact",
    "score",
    "score_breakdown",
    "territory",
    "assignee",
    "explanation",
    "pool",
    "unassigned_reason",
    "assigned_at",
    "last_touched_at",
)
_DECIDED_EVENT_FIELDS = ("kind", "assignee", "old_value", "new_value", "summary", "reason")
_LEDGER_FIELDS = ("member", "period", "reason")


def prepare_new_task(
    *, task: Task, author: User | None, now: dt.datetime, created_summary: str
) -> NewTaskRows:
    """The rows of ``task``'s write that do not depend on its decision (``NewTaskRows``).

    ``task`` is the unsaved task; only the fields in ``_DECIDED_TASK_FIELDS``
    may be set on it afterwards (the rest of its row is made here).
    """
    created = TaskEvent(
        task_id=_NEW_TASK,
        kind=TaskEventKind.CREATED,
        actor=author,
        summary=created_summary,
        at=now,
    )
    decided = TaskEvent(task_id=_NEW_TASK, actor=author, at=now)
    ledger = RoundRobinEvent(
        kind=LedgerKind.ASSIGNMENT, task_id=_NEW_TASK, delta=1, actor=author, at=now
    )
    return NewTaskRows(
        task=task,
        task_row=row_json(task),
        created_row=row_json(created),
        decided=decided,
        decided_row=row_json(decided),
        ledger=ledger,
        ledger_row=row_json(ledger),
        move=OwnerMoveSql(
            changed_by=author,
            source=ROUND_ROBIN_SOURCE,
            at=timezone.now(),
            effective_on=company_today(now=now),
            task_id=_NEW_TASK,
        ),
    )


def assign_new_task(
    *,
    task: Task,
    account: Account,
    territory: Territory | None,
    author: User | None,
    now: dt.datetime,
    created_summary: str,
    pool: LockedPool | None = None,
    rows: NewTaskRows | None = None,
) -> Decision:
    """Decide, then insert the unsaved ``task`` already assigned, with its history.

    For intake, inside its transaction, with ``account`` locked by that
    transaction (found with SELECT … FOR UPDATE, or inserted by it), and
    ``pool`` the territory's pool for the task's lead type if that
    transaction has locked it too. Fewer round trips than creating the task
    and then calling ``assign_task``: the member locks are held only for the
    decision, the one statement that writes it and the commit. ``rows``:
    ``prepare_new_task``'s for ``task``, made before the locks were taken.
    """
    if rows is None:
        rows = prepare_new_task(task=task, author=author, now=now, created_summary=created_summary)
    decision = decide_for_account(
        account=account,
        territory=territory,
        lead_type=task.lead_type,
        today=company_today(now=now),
        pool=pool,
    )
    task.territory = territory
    _take_decision(task, decision, now=now, pool=False)
    _insert_decided_task(task=task, account=account, decision=decision, rows=rows, now=now)
    return decision


def _insert_decided_task(
    *,
    task: Task,
    account: Account,
    decision: Decision,
    rows: NewTaskRows,
    now: dt.datetime,
) -> None:
    """Insert the decided task with every row its decision writes, in ONE statement.

    Data-modifying CTEs: the task, its two history rows (created; assigned or
    left unassigned) and, for a round-robin pick, the member's counter, the
    ledger event and the account's new owner with its ownership change (or
    its onboarding specialist, the move's two statements from
    ``accounts.ownership.OwnerMoveSql``). The caller's transaction already
    holds the account's and the pool's row locks, so one round trip after the
    decision writes what ``_apply`` and ``change_account_owner`` write one
    statement at a time elsewhere (``assign_task``, ``reassign_task``). Each
    row is ``rows``' with the columns the decision sets made again.
    """
    # The pool goes as the decision's JSON text, not decoded for the instance
    # and encoded again; the instance leaves it deferred (read if asked for).
    task.pool = RawSQL("%s::jsonb", (decision.pool_json,), output_field=_TEXT)
    task_sql, params = insert_row_sql(
        task, returning=True, rows=[refresh_row_json(task, rows.task_row, _DECIDED_TASK_FIELDS)]
    )
    del task.pool
    ctes = [f"new_task AS ({task_sql})"]

    def add(name: str, sql: str, values: Sequence[Any]) -> None:
        ctes.append(f"{name} AS ({sql})")
        params.extend(values)

    member = decision.member
    give_owner = (
        member is not None
        and member.role != TrackerRole.ONBOARDING
        and (account.owner_id, account.owner_role) != (member.user_id, _owner_role(member.role))
    )
    if member is not None:
        add(
            "counter",
            "UPDATE leads_trackermember SET leads_this_month = leads_this_month + 1, "
            "last_assigned_at = %s WHERE id = %s",
            [now, member.pk],
        )
        ledger = rows.ledger
        ledger.member_id = member.pk
        ledger.period = member.period
        ledger.reason = decision.explanation
        add(
            "ledger",
            *insert_row_sql(
                ledger, rows=[refresh_row_json(ledger, rows.ledger_row, _LEDGER_FIELDS)]
            ),
        )
        if member.role == TrackerRole.ONBOARDING:
            add(
                "owner",
                "UPDATE accounts_account SET onboarding_specialist_id = %s, updated_at = %s "
                "WHERE id = %s",
                [member.user_id, now, account.pk],
            )
        elif give_owner:
            history, owner = rows.move.statements(
                locked=account,
                new_owner_id=member.user_id,
                new_owner_role=_owner_role(member.role),
                reason=RawSQL(
                    f"%s || {_NEW_TASK_ID} || %s",
                    ("Round robin with task ", f": {decision.explanation}"),
                    output_field=_TEXT,
                ),
            )
            add("history", *history)
            add("owner", *owner)
    decided = rows.decided
    for name, value in _decision_event_values(decision=decision).items():
        setattr(decided, name, value)
    add(
        "history_rows",
        *insert_row_sql(
            rows.decided,
            rows.decided,
            rows=[
                rows.created_row,
                refresh_row_json(decided, rows.decided_row, _DECIDED_EVENT_FIELDS),
            ],
        ),
    )
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(ctes)} SELECT id FROM new_task", params)
        row = cursor.fetchone()
    mark_saved(task, row[0])
    if member is not None:
        member.leads_this_month += 1
        member.last_assigned_at = now
        if member.role == TrackerRole.ONBOARDING:
            account.onboarding_specialist_id = member.user_id
            account.updated_at = now
        elif give_owner:
            account.owner = member.user
            account.owner_role = _owner_role(member.role)
            account.owner_since = rows.move.effective_on
            account.updated_at = rows.move.at


def _give_account(
    *,
    account: Account,
    member: TrackerMember,
    task: Task,
    explanation: str,
    author: User | None,
    now: dt.datetime,
) -> None:
    """The round robin's pick also takes the unowned account.

    Every caller holds ``account``'s row lock in its transaction (intake read
    it FOR UPDATE or inserted it; assign/reassign read it FOR UPDATE), so the
    ownership change does not lock it again.
    """
    if member.role == TrackerRole.ONBOARDING:
        Account.objects.filter(pk=account.pk).update(
            onboarding_specialist=member.user, updated_at=now
        )
        return
    change_account_owner(
        account=account,
        new_owner=member.user,
        new_owner_role=_owner_role(member.role),
        changed_by=author,
        reason=f"Round robin with task {task.pk}: {explanation}",
        source=ROUND_ROBIN_SOURCE,
        effective_on=company_today(now=now),
        task_id=task.pk,
        already_locked=True,
    )


def _copy_assignment(src: Task, dst: Task) -> None:
    """Give the caller's instance the fields the locked copy wrote."""
    if src is dst:
        return
    for name in (
        "assignee",
        "explanation",
        "pool",
        "unassigned_reason",
        "assigned_at",
        "last_touched_at",
        "reassignment_count",
        "territory_id",
    ):
        setattr(dst, name, getattr(src, name))


def _take_decision(task: Task, decision: Decision, *, now: dt.datetime, pool: bool = True) -> None:
    """Put ``decision`` on the task's fields (not saved); its pool too unless ``pool`` is False."""
    task.assignee = decision.assignee
    task.explanation = decision.explanation
    if pool:
        task.pool = decision.pool
    task.unassigned_reason = decision.unassigned_reason
    if decision.assignee is not None:
        task.assigned_at = now
        task.last_touched_at = now


def _decision_event(
    *,
    task: Task,
    decision: Decision,
    author: User | None,
    now: dt.datetime,
    previous: User | None = None,
    reassigned: bool = False,
) -> TaskEvent:
    """The task history row of a decision (not saved): assigned, reassigned or left unassigned."""
    return TaskEvent(
        task=task,
        actor=author,
        at=now,
        **_decision_event_values(decision=decision, previous=previous, reassigned=reassigned),
    )


def _decision_event_values(
    *, decision: Decision, previous: User | None = None, reassigned: bool = False
) -> dict[str, Any]:
    """The fields of a decision's task history row that the decision sets
    (``_DECIDED_EVENT_FIELDS``)."""
    if decision.assignee is None:
        kind, summary = TaskEventKind.UNASSIGNED, "Left in the unassigned queue"
    elif reassigned:
        kind = TaskEventKind.REASSIGNED
        summary = f"Reassigned from {previous} to {decision.assignee}"
    else:
        kind, summary = TaskEventKind.ASSIGNED, f"Assigned to {decision.assignee}"
    return {
        "kind": kind,
        "assignee": decision.assignee,
        "old_value": str(previous or ""),
        "new_value": str(decision.assignee or ""),
        "summary": summary,
        "reason": decision.explanation,
    }


def _store_decision(
    *, task: Task, decision: Decision, author: User | None, now: dt.datetime, reassigned: bool
) -> None:
    previous = task.assignee
    _take_decision(task, decision, now=now)
    if reassigned and decision.assignee is not None:
        task.reassignment_count += 1
    task.save(
        update_fields=[
            "assignee",
            "explanation",
            "pool",
            "unassigned_reason",
            "assigned_at",
            "last_touched_at",
            "reassignment_count",
            "territory",
        ]
    )
    _decision_event(
        task=task,
        decision=decision,
        author=author,
        now=now,
        previous=previous,
        reassigned=reassigned,
    ).save(force_insert=True)


@transaction.atomic
def reassign_task(
    *, task: Task, reason: str, author: User | None = None, now: dt.datetime | None = None
) -> Decision:
    """Move an open task to the next round-robin member, never its current assignee.

    For the stale-task job (issue 5) and manual reassignment. The new member's
    count rises by a REASSIGNMENT ledger event; the previous assignee keeps the
    lead they received. If the account's owner is the previous assignee and the
    round robin gave it to them with this task, the account moves too. With no
    eligible member the task keeps its assignee and the returned decision has
    ``assignee=None`` and the reason (nothing is written).
    """
    now = now or timezone.now()
    today = company_today(now=now)
    caller = task
    task = Task.objects.select_for_update(of=("self",)).select_related("assignee").get(pk=task.pk)
    account = Account.objects.select_for_update().get(pk=task.account_id)
    territory = task.territory or (
        Territory.objects.get(pk=account.territory_id) if account.territory_id else None
    )
    if territory is None:
        reason_text = "no territory"
        return Decision(
            assignee=None, member=None, explanation=reason_text, unassigned_reason=reason_text
        )
    exclude = [task.assignee_id] if task.assignee_id else []
    member, decision = decide_round_robin(
        territory=territory, lead_type=task.lead_type, today=today, exclude_user_ids=exclude
    )
    if member is None:
        return decision
    decision.explanation = f"reassigned ({reason}): {decision.explanation}"
    _record_assignment(
        task=task,
        decision=decision,
        kind=LedgerKind.REASSIGNMENT,
        author=author,
        reason=reason,
        now=now,
    )
    moved_with_task = (
        account.owner_id is not None
        and account.owner_id == task.assignee_id
        and OwnershipChange.objects.filter(
            account=account, new_owner_id=task.assignee_id, task=task
        ).exists()
    )
    if moved_with_task:
        _give_account(
            account=account,
            member=member,
            task=task,
            explanation=decision.explanation,
            author=author,
            now=now,
        )
    _store_decision(task=task, decision=decision, author=author, now=now, reassigned=True)
    _copy_assignment(task, caller)
    return decision
