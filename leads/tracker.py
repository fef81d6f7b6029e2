"""The Lead Assignment Tracker: members, weights, ledger periods, time off, preview.

Every change here writes RoundRobinEvent rows (who, when, old → new, why) in
the same transaction as the counter it changes, so the cached counters on
TrackerMember always equal what the current period's events add up to
(``reconcile_counters`` checks it).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User

from .assignment import pick_next, time_off_annotations, time_off_due, to_candidate
from .models import (
    LEAD_KINDS,
    LedgerKind,
    RoundRobinEvent,
    Task,
    TaskEvent,
    TaskEventKind,
    Territory,
    TrackerMember,
    month_start,
)

PREVIEW_SIZE = 20

_EVENT_COLUMNS = (
    "member_id, kind, task_id, delta, period, old_value, new_value, author_id, reason, "
    "compensates_id, created_at"
)


# --- Ledger periods -------------------------------------------------------


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
    if connection.vendor != "postgresql":
        return _open_period_portable(
            period=period, member_ids=member_ids, author=author, reason=reason, now=now
        )
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
            INSERT INTO leads_roundrobinevent ({_EVENT_COLUMNS})
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


@transaction.atomic
def _open_period_portable(
    *,
    period: dt.date,
    member_ids: Sequence[int] | None,
    author: User | None,
    reason: str,
    now: dt.datetime,
) -> int:
    """``open_period`` for the SQLite quick start: three statements in one
    transaction, which SQLite's IMMEDIATE mode runs alone, instead of one
    data-modifying WITH (PostgreSQL only)."""
    behind = TrackerMember.objects.filter(period__lt=period)
    if member_ids is not None:
        behind = behind.filter(pk__in=member_ids)
    rows = list(behind.values_list("pk", "leads_this_month", "manual_adjustment", "period"))
    RoundRobinEvent.objects.bulk_create(
        RoundRobinEvent(
            member_id=pk,
            kind=LedgerKind.RESET,
            delta=0,
            period=period,
            old_value=f"leads {leads}, adjustment {adjustment} ({old:%Y-%m})",
            new_value="leads 0, adjustment 0",
            author=author,
            reason=reason,
            created_at=now,
        )
        for pk, leads, adjustment, old in rows
    )
    TrackerMember.objects.filter(pk__in=[row[0] for row in rows]).update(
        leads_this_month=0, manual_adjustment=0, period=period
    )
    return len(rows)


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
    """Members whose cached counters differ from the ledger (empty when all agree)."""
    totals = ledger_totals()
    problems = []
    for member in TrackerMember.objects.select_related("user"):
        leads, adjustment = totals.get(member.pk, (0, 0))
        if (leads, adjustment) != (member.leads_this_month, member.manual_adjustment):
            problems.append(
                f"{member.user}: cached {member.leads_this_month}/{member.manual_adjustment}, "
                f"ledger {leads}/{adjustment}"
            )
    return problems


# --- Members ----------------------------------------------------------------


def _event(
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
    return RoundRobinEvent(
        member=member,
        kind=kind,
        task=task,
        delta=delta,
        period=member.period,
        old_value=str(old),
        new_value=str(new),
        author=author,
        reason=reason,
        created_at=now,
    )


def prefill_adjustment(*, role: str, territories: Iterable[Territory]) -> int:
    """The mid-month level for a new member: where their colleagues stand.

    The rounded average of (leads this month + manual adjustment) of the active
    members of ``role`` in those territories, so the joiner starts level
    instead of being flooded (revops/lead-assignment-tracker: others have 50 →
    add 50). Zero when there is nobody to be level with.
    """
    in_territories = TrackerMember.objects.filter(territories__in=list(territories)).values("pk")
    counts = list(
        TrackerMember.objects.filter(
            role=role, is_active=True, pk__in=in_territories, period=_period()
        )
        .annotate(level=F("leads_this_month") + F("manual_adjustment"))
        .values_list("level", flat=True)
    )
    return round(sum(counts) / len(counts)) if counts else 0


def _period(now: dt.datetime | None = None) -> dt.date:
    return month_start(timezone.localdate(now or timezone.now()))


@transaction.atomic
def add_member(
    *,
    user: User,
    role: str,
    territories: Sequence[Territory],
    author: User | None,
    priority: int = 1,
    manual_adjustment: int = 0,
    reason: str = "",
    now: dt.datetime | None = None,
) -> TrackerMember:
    """Add a person to the round robin with a JOINED (and ADJUSTMENT) ledger event."""
    now = now or timezone.now()
    member = TrackerMember.objects.create(
        user=user,
        role=role,
        priority=priority,
        manual_adjustment=manual_adjustment,
        period=_period(now),
    )
    member.territories.set(territories)
    names = ", ".join(t.name for t in territories)
    why = reason or "added on the tracker page"
    events = [
        _event(
            member=member,
            kind=LedgerKind.JOINED,
            author=author,
            reason=why,
            now=now,
            new=f"{member.get_role_display()}, priority {priority}, {names}",
        )
    ]
    if manual_adjustment:
        events.append(
            _event(
                member=member,
                kind=LedgerKind.ADJUSTMENT,
                author=author,
                reason=f"{why} (mid-month level)",
                now=now,
                old=0,
                new=manual_adjustment,
                delta=manual_adjustment,
            )
        )
    RoundRobinEvent.objects.bulk_create(events)
    return member


@transaction.atomic
def update_member(
    *,
    member: TrackerMember,
    author: User | None,
    reason: str,
    priority: int | None = None,
    manual_adjustment: int | None = None,
    is_active: bool | None = None,
    territories: Sequence[Territory] | None = None,
    now: dt.datetime | None = None,
) -> list[RoundRobinEvent]:
    """Change a member's weights; one ledger event per changed field (old → new, why).

    Locks the member row so a concurrent assignment cannot interleave with the
    adjustment. Passing the current values records nothing.
    """
    now = now or timezone.now()
    locked = TrackerMember.objects.select_for_update().get(pk=member.pk)
    if locked.period < _period(now):
        open_period(period=_period(now), member_ids=[locked.pk], now=now)
        locked.refresh_from_db()
    events: list[RoundRobinEvent] = []
    fields: list[str] = []
    if priority is not None and priority != locked.priority:
        if priority < 1:
            raise ValueError("Priority is at least 1.")
        events.append(
            _event(
                member=locked,
                kind=LedgerKind.WEIGHT,
                author=author,
                reason=reason,
                now=now,
                old=locked.priority,
                new=priority,
            )
        )
        locked.priority = priority
        fields.append("priority")
    if manual_adjustment is not None and manual_adjustment != locked.manual_adjustment:
        events.append(
            _event(
                member=locked,
                kind=LedgerKind.ADJUSTMENT,
                author=author,
                reason=reason,
                now=now,
                old=locked.manual_adjustment,
                new=manual_adjustment,
                delta=manual_adjustment - locked.manual_adjustment,
            )
        )
        locked.manual_adjustment = manual_adjustment
        fields.append("manual_adjustment")
    if is_active is not None and is_active != locked.is_active:
        events.append(
            _event(
                member=locked,
                kind=LedgerKind.ACTIVATION,
                author=author,
                reason=reason,
                now=now,
                old="active" if locked.is_active else "inactive",
                new="active" if is_active else "inactive",
            )
        )
        locked.is_active = is_active
        fields.append("is_active")
    if territories is not None:
        old = sorted(locked.territories.values_list("name", flat=True))
        new = sorted(t.name for t in territories)
        if old != new:
            locked.territories.set(territories)
            events.append(
                _event(
                    member=locked,
                    kind=LedgerKind.TERRITORIES,
                    author=author,
                    reason=reason,
                    now=now,
                    old=", ".join(old),
                    new=", ".join(new),
                )
            )
    if fields:
        locked.save(update_fields=fields)
    RoundRobinEvent.objects.bulk_create(events)
    for name in ("priority", "manual_adjustment", "is_active"):
        setattr(member, name, getattr(locked, name))
    return events


@transaction.atomic
def undo_assignment(
    *, event: RoundRobinEvent, author: User | None, reason: str, now: dt.datetime | None = None
) -> RoundRobinEvent:
    """Undo a wrong assignment with a COMPENSATION event (-1) and unassign the task.

    The original event stays; ``compensates`` is unique, so undoing twice
    fails rather than taking two leads off. The task returns to the
    unassigned queue with the reason.
    """
    now = now or timezone.now()
    if event.kind not in (LedgerKind.ASSIGNMENT, LedgerKind.REASSIGNMENT):
        raise ValueError("Only assignments can be undone.")
    member = TrackerMember.objects.select_for_update().get(pk=event.member_id)
    compensation = RoundRobinEvent.objects.create(
        member=member,
        kind=LedgerKind.COMPENSATION,
        task_id=event.task_id,
        delta=-event.delta,
        period=member.period,
        author=author,
        reason=reason,
        compensates=event,
        created_at=now,
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
                occurred_at=now,
            )
    return compensation


# --- Time off ----------------------------------------------------------------


@dataclass(frozen=True)
class TimeOffResult:
    deactivated: int
    reactivated: int


_DEACTIVATE_SQL = f"""
WITH due AS (
    SELECT t.id AS time_off_id, t.member_id, m.is_active, m.period, t.starts_on, t.ends_on
    FROM leads_timeoff t JOIN leads_trackermember m ON m.id = t.member_id
    WHERE t.deactivated_at IS NULL
      AND t.ends_on >= %(today)s
      AND t.leave_on <= %(today)s
    ORDER BY t.member_id, t.id
    FOR UPDATE OF t, m
), marked AS (
    UPDATE leads_timeoff t
    SET deactivated_at = %(now)s, deactivated_member = due.is_active
    FROM due WHERE t.id = due.time_off_id
    RETURNING t.id, t.member_id, t.deactivated_member
), switched AS (
    UPDATE leads_trackermember m SET is_active = false
    FROM (SELECT DISTINCT member_id FROM marked WHERE deactivated_member) d
    WHERE m.id = d.member_id
    RETURNING m.id
), ins AS (
    INSERT INTO leads_roundrobinevent ({_EVENT_COLUMNS})
    SELECT due.member_id, %(activation)s, NULL, 0, due.period, 'active', 'inactive', NULL,
           'time off ' || due.starts_on || ' – ' || due.ends_on || ': off from today', NULL,
           %(now)s
    FROM due JOIN marked ON marked.id = due.time_off_id
    WHERE marked.deactivated_member
    RETURNING member_id
)
SELECT count(DISTINCT member_id) FROM ins
"""

_REACTIVATE_SQL = f"""
WITH due AS (
    SELECT t.id AS time_off_id, t.member_id, t.deactivated_at, t.starts_on, t.ends_on,
           t.deactivated_member AND NOT m.is_active AS switch_back,
           m.period, m.role, m.manual_adjustment
    FROM leads_timeoff t JOIN leads_trackermember m ON m.id = t.member_id
    WHERE t.deactivated_at IS NOT NULL AND t.reactivated_at IS NULL AND t.ends_on < %(today)s
      AND NOT EXISTS (
          SELECT 1 FROM leads_timeoff o
          WHERE o.member_id = t.member_id AND o.id <> t.id AND o.deactivated_at IS NOT NULL
            AND o.reactivated_at IS NULL AND o.ends_on >= %(today)s)
    ORDER BY t.member_id, t.id
    FOR UPDATE OF t, m
), colleagues AS (
    SELECT DISTINCT due.time_off_id, c.id AS colleague_id
    FROM due
    JOIN leads_trackermember_territories mt ON mt.trackermember_id = due.member_id
    JOIN leads_trackermember_territories ct
      ON ct.territory_id = mt.territory_id AND ct.trackermember_id <> due.member_id
    JOIN leads_trackermember c ON c.id = ct.trackermember_id AND c.role = due.role
    WHERE due.switch_back
), received AS (
    SELECT col.time_off_id, col.colleague_id, COALESCE(SUM(e.delta), 0) AS leads
    FROM colleagues col
    JOIN due ON due.time_off_id = col.time_off_id
    LEFT JOIN leads_roundrobinevent e
      ON e.member_id = col.colleague_id AND e.kind = ANY(%(lead_kinds)s)
     AND e.created_at >= due.deactivated_at AND e.created_at < %(now)s
    GROUP BY col.time_off_id, col.colleague_id
), calibration AS (
    SELECT due.time_off_id,
           CASE WHEN due.switch_back
                THEN COALESCE((SELECT ROUND(AVG(r.leads))::int FROM received r
                               WHERE r.time_off_id = due.time_off_id), 0)
           END AS leads
    FROM due
), marked AS (
    UPDATE leads_timeoff t SET reactivated_at = %(now)s, calibration = cal.leads
    FROM calibration cal WHERE t.id = cal.time_off_id
    RETURNING t.id, t.member_id, t.calibration
), back AS (
    UPDATE leads_trackermember m
    SET is_active = true, manual_adjustment = m.manual_adjustment + marked.calibration
    FROM marked WHERE m.id = marked.member_id AND marked.calibration IS NOT NULL
    RETURNING m.id
), ins AS (
    INSERT INTO leads_roundrobinevent ({_EVENT_COLUMNS})
    SELECT due.member_id, k.kind, NULL,
           CASE WHEN k.kind = %(adjustment)s THEN marked.calibration ELSE 0 END,
           due.period,
           CASE WHEN k.kind = %(adjustment)s THEN due.manual_adjustment::text ELSE 'inactive' END,
           CASE WHEN k.kind = %(adjustment)s
                THEN (due.manual_adjustment + marked.calibration)::text ELSE 'active' END,
           NULL,
           'back from time off ' || due.starts_on || ' – ' || due.ends_on
             || CASE WHEN k.kind = %(adjustment)s
                     THEN ': +' || marked.calibration
                          || ', the average leads territory colleagues received meanwhile'
                     ELSE '' END,
           NULL, %(now)s
    FROM due
    JOIN marked ON marked.id = due.time_off_id
    CROSS JOIN (VALUES (%(activation)s), (%(adjustment)s)) AS k(kind)
    WHERE marked.calibration IS NOT NULL
      AND (k.kind = %(activation)s OR marked.calibration <> 0)
    RETURNING member_id
)
SELECT count(DISTINCT member_id) FROM ins
"""


@transaction.atomic
def apply_time_off(*, today: dt.date, now: dt.datetime | None = None) -> TimeOffResult:
    """Switch members off and on by their recorded time off. Set-based, idempotent.

    - A member is inactive from the day they leave (``TimeOff.leave_on``:
      ``starts_on``, or two days earlier when the absence is longer than five
      days). The round robin already skips them from that day
      (``assignment.time_off_due``); this makes it visible as inactive.
    - On the day they return (``ends_on + 1``) they are active again and their
      manual adjustment rises by the leads their territory colleagues (same
      role, sharing a territory) received meanwhile, on average, so they are
      not flooded.
    - Only members the job switched off are switched back on; a member who was
      already inactive stays as the team lead left them. Each step is marked
      on the TimeOff row, so running twice in a day changes nothing.

    Issue 5 schedules it daily. Two statements whatever the number of members.
    """
    now = now or timezone.now()
    params: dict[str, Any] = {
        "today": today,
        "now": now,
        "activation": LedgerKind.ACTIVATION.value,
        "adjustment": LedgerKind.ADJUSTMENT.value,
        "lead_kinds": [str(k) for k in LEAD_KINDS],
    }
    with connection.cursor() as cursor:
        cursor.execute(_DEACTIVATE_SQL, params)
        off = cursor.fetchone()
        cursor.execute(_REACTIVATE_SQL, params)
        back = cursor.fetchone()
    return TimeOffResult(
        deactivated=int(off[0]) if off else 0, reactivated=int(back[0]) if back else 0
    )


# --- Tracker page -------------------------------------------------------------


@dataclass
class TrackerRow:
    member: TrackerMember
    on_time_off: bool
    load: int
    # Leads this member received in this territory this period, and their
    # share of the role's leads here (a member covering several territories
    # counts only this one's).
    leads_here: int
    share: float
    target_share: float
    next_in_line: bool
    # Filled by the view for editable rows.
    form: Any = None
    options: list[tuple[Territory, bool]] = field(default_factory=list)


def tracker_rows(*, territory: Territory) -> list[TrackerRow]:
    """The territory's members with load, share of leads vs target share, next in line.

    The share counts the ledger's lead events of each member's current period
    whose task is in this territory. Target share is 1/priority over the sum
    of 1/priority of the active members of the same role. Three queries
    (members with territories prefetched, then the ledger sums).
    """
    members = list(
        TrackerMember.objects.filter(territories=territory)
        .select_related("user")
        .prefetch_related("territories")
        .annotate(**time_off_annotations(timezone.localdate()))
        .order_by("role", "user__name")
    )
    leads_here = territory_leads(territory=territory, member_ids=[m.pk for m in members])
    by_role: dict[str, list[Any]] = defaultdict(list)
    for m in members:
        by_role[m.role].append(m)
    rows = []
    for role_members in by_role.values():
        active = [m for m in role_members if m.is_active]
        total_leads = sum(leads_here.get(m.pk, 0) for m in role_members)
        weight = sum(1 / m.priority for m in active)
        chosen = pick_next([to_candidate(m) for m in role_members])
        for m in role_members:
            here = leads_here.get(m.pk, 0)
            rows.append(
                TrackerRow(
                    member=m,
                    on_time_off=bool(m.on_time_off or m.time_off_due),
                    load=m.load,
                    leads_here=here,
                    share=here / total_leads if total_leads else 0.0,
                    target_share=(1 / m.priority) / weight if m.is_active and weight else 0.0,
                    next_in_line=chosen is not None and chosen.member_id == m.pk,
                )
            )
    return rows


def territory_leads(*, territory: Territory, member_ids: Sequence[int]) -> dict[int, int]:
    """Leads each member received in ``territory`` in their current period, from the ledger."""
    if not member_ids:
        return {}
    return dict(
        RoundRobinEvent.objects.filter(
            member_id__in=member_ids,
            kind__in=LEAD_KINDS,
            period=F("member__period"),
            task__territory=territory,
        )
        .values("member_id")
        .annotate(leads=Sum("delta"))
        .values_list("member_id", "leads")
    )


def preview_next(
    *,
    territory: Territory,
    role: str,
    overrides: dict[int, dict[str, Any]] | None = None,
    count: int = PREVIEW_SIZE,
    now: dt.datetime | None = None,
) -> list[str]:
    """Who would receive the next ``count`` round-robin tasks in the territory.

    ``overrides`` maps member id to unsaved values (priority,
    manual_adjustment, is_active), so a team lead sees the effect of a weight
    change before saving it. Runs the same pick as ``assign_task`` on a copy;
    writes nothing. One query.
    """
    return preview_change(
        territory=territory, role=role, overrides=overrides or {}, count=count, now=now
    )[1]


def preview_change(
    *,
    territory: Territory,
    role: str,
    overrides: dict[int, dict[str, Any]],
    count: int = PREVIEW_SIZE,
    now: dt.datetime | None = None,
) -> tuple[list[str], list[str]]:
    """``preview_next`` as things stand and with ``overrides``: (current, proposed).

    The tracker's preview shows both, from one query.
    """
    now = now or timezone.now()
    members = list(
        TrackerMember.objects.filter(territories=territory, role=role)
        .select_related("user")
        .annotate(time_off_due=time_off_due(timezone.localdate(now)))
    )
    return (
        _next_names(members, overrides={}, count=count, now=now),
        _next_names(members, overrides=overrides, count=count, now=now),
    )


def _next_names(
    members: Sequence[TrackerMember],
    *,
    overrides: dict[int, dict[str, Any]],
    count: int,
    now: dt.datetime,
) -> list[str]:
    """Replay ``count`` picks on candidates of ``members`` (with their unsaved values)."""
    candidates = [to_candidate(_with_values(m, overrides.get(m.pk))) for m in members]
    names: list[str] = []
    for step in range(count):
        chosen = pick_next(candidates)
        if chosen is None:
            break
        names.append(chosen.name)
        chosen.leads += 1
        chosen.last_assigned_at = now + dt.timedelta(microseconds=step + 1)
    return names


def _with_values(member: TrackerMember, values: dict[str, Any] | None) -> TrackerMember:
    """An unsaved copy of ``member`` with ``values`` set (the member itself when none)."""
    if not values:
        return member
    changed = copy.copy(member)
    for name, value in values.items():
        setattr(changed, name, value)
    return changed


def history(*, territory: Territory | None = None, limit: int = 50) -> list[RoundRobinEvent]:
    """Recent tracker changes (not assignments), newest first. One query."""
    events = RoundRobinEvent.objects.exclude(kind__in=LEAD_KINDS).select_related(
        "member__user", "author"
    )
    if territory is not None:
        events = events.filter(Q(member__territories=territory)).distinct()
    return list(events.order_by("-created_at", "-id")[:limit])
