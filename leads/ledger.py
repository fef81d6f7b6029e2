"""The round-robin ledger: periods, totals, reconciliation, undo.

Every change to a tracker member's counters writes RoundRobinEvent rows (who,
when, old → new, why) in the same transaction as the counter it changes, so
the cached counters on TrackerMember always equal what the current period's
events add up to (``reconcile_counters`` checks it). A period is a calendar
month in the company's time zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Exists, F, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role

from .models import (
    LEAD_KINDS,
    LedgerKind,
    RoundRobinEvent,
    Task,
    TaskEvent,
    TaskEventKind,
    TerritoryLeads,
    TrackerMember,
)

# The ledger's columns in the order the set-based INSERT … SELECT statements
# (here and in ``time_off``) write them.
EVENT_COLUMNS = (
    "member_id, kind, task_id, delta, period, old_value, new_value, author_id, reason, "
    "compensates_id, created_at"
)


# --- Ledger periods -------------------------------------------------------


# How a RESET event's old value starts when the member had nothing to reset (no lead,
# no adjustment that month): the tracker's history leaves those out (``leads.tracker``).
NOTHING_TO_RESET = "leads 0, adjustment 0 ("


def open_period(
    *,
    period: dt.date,
    member_ids: Sequence[int] | None = None,
    author: User | None = None,
    reason: str = "monthly reset: new ledger period",
    now: dt.datetime | None = None,
) -> int:
    """Start ``period`` for every member (or ``member_ids``) still in an older one.

    One statement: an UPDATE that zeroes leads this month and the manual
    adjustment and moves ``period`` forward, plus an INSERT … SELECT of one
    RESET event per member recording the old values. Members already in
    ``period`` are untouched, so running it twice changes nothing. Returns the
    number of members reset.
    """
    if period.day != 1:
        raise ValueError("A ledger period starts on the first day of a month.")
    now = now or timezone.now()
    only = "AND id = ANY(%(ids)s)" if member_ids is not None else ""
    sql = f"""
        WITH old AS (
            SELECT id, leads_this_month, manual_adjustment, period
            FROM leads_trackermember
            WHERE period < %(period)s {only}
            ORDER BY id
            FOR UPDATE
        ), reset AS (
            UPDATE leads_trackermember m
            SET leads_this_month = 0, manual_adjustment = 0, period = %(period)s
            FROM old WHERE m.id = old.id
            RETURNING m.id, old.leads_this_month AS leads, old.manual_adjustment AS adj,
                      old.period AS old_period
        ), ins AS (
            INSERT INTO leads_roundrobinevent ({EVENT_COLUMNS})
            SELECT id, %(kind)s, NULL, 0, %(period)s,
                   'leads ' || leads || ', adjustment ' || adj || ' (' || to_char(old_period, 'YYYY-MM') || ')',
                   'leads 0, adjustment 0', %(author)s, %(reason)s, NULL, %(now)s
            FROM reset
            RETURNING member_id
        )
        SELECT count(*) FROM ins
    """
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "period": period,
                "ids": list(member_ids or []),
                "kind": LedgerKind.RESET.value,
                "author": author.pk if author else None,
                "reason": reason,
                "now": now,
            },
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def ledger_totals(member_ids: Iterable[int] | None = None) -> dict[int, tuple[int, int]]:
    """Per member, (leads, adjustment) as the member's open period's events add up."""
    events = RoundRobinEvent.objects.filter(member=OuterRef("pk"), period=OuterRef("period"))
    leads = (
        events.filter(kind__in=LEAD_KINDS)
        .values("member")
        .annotate(total=Sum("delta"))
        .values("total")
    )
    adjustment = (
        events.filter(kind=LedgerKind.ADJUSTMENT)
        .values("member")
        .annotate(total=Sum("delta"))
        .values("total")
    )
    members = TrackerMember.objects.all()
    if member_ids is not None:
        members = members.filter(pk__in=list(member_ids))
    rows = members.annotate(
        ledger_leads=Coalesce(Subquery(leads, output_field=IntegerField()), Value(0)),
        ledger_adjustment=Coalesce(Subquery(adjustment, output_field=IntegerField()), Value(0)),
    ).values_list("pk", "ledger_leads", "ledger_adjustment")
    return {pk: (leads_total, adj) for pk, leads_total, adj in rows}


def reconcile_counters() -> list[str]:
    """Members whose cached counters differ from the ledger, then territory counters
    (``TerritoryLeads``) that differ from its lead events (empty when all agree)."""
    totals = ledger_totals()
    problems = []
    for member in TrackerMember.objects.select_related("user"):
        leads, adjustment = totals.get(member.pk, (0, 0))
        if (leads, adjustment) != (member.leads_this_month, member.manual_adjustment):
            problems.append(
                f"{member.user}: cached {member.leads_this_month}/{member.manual_adjustment}, "
                f"ledger {leads}/{adjustment}"
            )
    ledger = dict(_ledger_territory_leads())
    counted = {
        (member_id, territory_id, period): leads
        for member_id, territory_id, period, leads in TerritoryLeads.objects.values_list(
            "member_id", "territory_id", "period", "leads"
        )
    }
    for key in sorted(ledger.keys() | counted.keys()):
        if ledger.get(key, 0) != counted.get(key, 0):
            member_id, territory_id, period = key
            problems.append(
                f"member {member_id} in territory {territory_id} ({period:%Y-%m}): "
                f"counted {counted.get(key)}, ledger {ledger.get(key)}"
            )
    return problems


def _ledger_territory_leads() -> Iterable[tuple[tuple[int, int, dt.date], int]]:
    """((member, territory of the task, period), sum of lead deltas) over the whole
    ledger: what ``TerritoryLeads`` must hold, summed from the events themselves."""
    rows = (
        RoundRobinEvent.objects.filter(kind__in=LEAD_KINDS, task__territory__isnull=False)
        .values("member_id", "task__territory_id", "period")
        .annotate(leads=Sum("delta"))
        .values_list("member_id", "task__territory_id", "period", "leads")
    )
    for member_id, territory_id, period, leads in rows:
        yield (member_id, territory_id, period), leads


def ledger_event(
    *,
    member: TrackerMember,
    kind: str,
    author: User | None,
    reason: str,
    now: dt.datetime,
    old: object = "",
    new: object = "",
    delta: int = 0,
    task: Task | None = None,
) -> RoundRobinEvent:
    """One unsaved ledger event of ``member``'s open period (the caller bulk-creates it)."""
    return RoundRobinEvent(
        member=member,
        kind=kind,
        task=task,
        delta=delta,
        period=member.period,
        old_value=str(old),
        new_value=str(new),
        actor=author,
        reason=reason,
        at=now,
    )


class AlreadyUndone(ValueError):
    """The assignment was undone before; ``compensation`` is that undo."""

    def __init__(self, compensation: RoundRobinEvent) -> None:
        self.compensation = compensation
        who = compensation.actor or "the system"
        super().__init__(
            f"Already undone by {who} on {timezone.localtime(compensation.at):%Y-%m-%d %H:%M}"
            f": {compensation.reason}"
        )


class NothingToUndo(ValueError):
    """The task has no round-robin assignment (an owner's task, or never assigned)."""


@transaction.atomic
def undo_assignment(
    *, event: RoundRobinEvent, author: User | None, reason: str, now: dt.datetime | None = None
) -> RoundRobinEvent:
    """Undo a wrong assignment with a COMPENSATION event (-1) and unassign the task.

    The original event stays; an event is undone at most once: a second undo
    raises ``AlreadyUndone`` naming the first (who, when, why), never a
    database error. Two undos at once serialise on the member's row lock, so
    the second sees the first. The task returns to the unassigned queue with
    the reason. Raises ValueError without a reason or for a non-assignment.
    """
    now = now or timezone.now()
    if event.kind not in (LedgerKind.ASSIGNMENT, LedgerKind.REASSIGNMENT):
        raise ValueError("Only assignments can be undone.")
    if not reason.strip():
        raise ValueError("Say why the assignment is undone.")
    member = TrackerMember.objects.select_for_update().get(pk=event.member_id)
    # After the lock: a concurrent undo has committed by now if there was one.
    earlier = RoundRobinEvent.objects.filter(compensates=event).select_related("actor").first()
    if earlier is not None:
        raise AlreadyUndone(earlier)
    compensation = RoundRobinEvent.objects.create(
        member=member,
        kind=LedgerKind.COMPENSATION,
        task_id=event.task_id,
        delta=-event.delta,
        period=member.period,
        actor=author,
        reason=reason,
        compensates=event,
        at=now,
    )
    # The compensation counts in the open period (even when the wrong lead
    # was in a closed one), and so does the counter.
    TrackerMember.objects.filter(pk=member.pk).update(
        leads_this_month=F("leads_this_month") - event.delta
    )
    if event.task_id is not None:
        task = Task.objects.select_for_update().get(pk=event.task_id)
        if task.assignee_id == member.user_id and task.is_open:
            previous = task.assignee
            task.assignee = None
            task.unassigned_reason = f"assignment undone by {author}: {reason}"
            task.explanation = task.unassigned_reason
            task.save(update_fields=["assignee", "unassigned_reason", "explanation"])
            TaskEvent.objects.create(
                task=task,
                kind=TaskEventKind.UNASSIGNED,
                actor=author,
                old_value=str(previous),
                summary=f"Assignment to {previous} undone",
                reason=reason,
                at=now,
            )
    return compensation


def latest_round_robin_assignment(task: Task) -> RoundRobinEvent | None:
    """The task's latest assignment or reassignment by the round robin, with
    ``member__user`` loaded and ``undone`` annotated (a compensation exists).
    None for an owner's task or one never assigned. One query."""
    event: RoundRobinEvent | None = (
        RoundRobinEvent.objects.filter(
            task=task, kind__in=(LedgerKind.ASSIGNMENT, LedgerKind.REASSIGNMENT)
        )
        .select_related("member__user")
        .annotate(undone=Exists(RoundRobinEvent.objects.filter(compensates=OuterRef("pk"))))
        .order_by("-at", "-pk")
        .first()
    )
    return event


def may_undo(user: User, event: RoundRobinEvent) -> bool:
    """Team leads undo their own team's assignments; managers anyone's."""
    return user.is_manager or (
        user.has_role(Role.TEAM_LEAD) and event.member.user.team_lead_id == user.pk
    )


@transaction.atomic
def undo_task_assignment(
    *, task: Task, author: User, reason: str, now: dt.datetime | None = None
) -> RoundRobinEvent:
    """The task page's undo: undo the task's latest round-robin assignment.

    Raises NothingToUndo (no such assignment), PermissionDenied (not the
    assignee's team lead or a manager), AlreadyUndone (undone before: the
    action is idempotent, and says so) or ValueError (no reason). Recorded in
    the ledger (COMPENSATION event with author and reason) and the task's
    history.
    """
    event = latest_round_robin_assignment(task)
    if event is None:
        raise NothingToUndo("The round robin did not assign this task: nothing to undo.")
    if not may_undo(author, event):
        raise PermissionDenied("Only the assignee's team lead or a manager undoes an assignment.")
    return undo_assignment(event=event, author=author, reason=reason, now=now)
