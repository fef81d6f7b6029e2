"""Who gets a task: the account owner, else the territory's weighted round robin.

The rule (issue 4, sales/overview "Task assignment logic", revops/lead-assignment-tracker):

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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from accounts.books import full_book_reasons
from accounts.models import Account, OwnerRole, OwnershipChange, User
from accounts.ownership import change_account_owner
from revopsweb.dates import company_today, month_start

from .ledger import open_period
from .models import (
    LEAD_TYPE_ROLE,
    LeadType,
    LedgerKind,
    RoundRobinEvent,
    Task,
    TaskEvent,
    TaskEventKind,
    Territory,
    TimeOff,
    TrackerMember,
    TrackerRole,
)
from .people import LOGIN_OFF, switch_off_members_without_login

ROUND_ROBIN_SOURCE = "round robin"
NO_TERRITORY_REASON = "no territory: the account's country and state are unknown"
# sales/product-led-lead-qualification: TAMs have a soft cap of 15 managed
# accounts; issue 6 adds the $1.5m ARR ceiling for the product-led round robin.

OWNER_ROLE_FOR: dict[str, str] = {
    TrackerRole.TAE: OwnerRole.TAE,
    TrackerRole.TAM: OwnerRole.TAM,
}


@dataclass
class Candidate:
    """A member's round-robin state at decision time (also used by the preview)."""

    member_id: int
    name: str
    leads: int
    adjustment: int
    priority: int
    last_assigned_at: dt.datetime | None
    user_id: int = 0
    skip_reason: str = ""

    @property
    def count(self) -> int:
        return self.leads + self.adjustment

    @property
    def load(self) -> int:
        return self.count * self.priority

    def sort_key(self) -> tuple[int, int, float, int]:
        # Never assigned sorts first among equal loads: its last assignment is
        # "oldest".
        stamp = self.last_assigned_at.timestamp() if self.last_assigned_at else float("-inf")
        return (self.load, 0 if self.last_assigned_at is None else 1, stamp, self.member_id)


def pick_next(candidates: Sequence[Candidate]) -> Candidate | None:
    """The eligible candidate with the lowest load; ties by oldest last assignment."""
    eligible = [c for c in candidates if not c.skip_reason]
    return min(eligible, key=Candidate.sort_key) if eligible else None


@dataclass
class Decision:
    """The outcome of one assignment decision, stored on the task."""

    assignee: User | None
    member: TrackerMember | None
    explanation: str
    pool: list[dict[str, Any]] = field(default_factory=list)
    unassigned_reason: str = ""


def explain_pool(
    *, candidates: Sequence[Candidate], chosen: Candidate | None, others: Iterable[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each member considered and why they were chosen or passed over."""
    rows: list[dict[str, Any]] = []
    for c in sorted(candidates, key=Candidate.sort_key):
        if chosen is not None and c.member_id == chosen.member_id:
            outcome, why = "chosen", "lowest load"
            if any(
                o.member_id != c.member_id and not o.skip_reason and o.load == c.load
                for o in candidates
            ):
                why = "lowest load; tie broken by oldest last assignment"
        elif c.skip_reason:
            outcome, why = "passed over", c.skip_reason
        elif chosen is not None and c.load > chosen.load:
            outcome, why = "passed over", f"higher load ({c.load} vs {chosen.load})"
        else:
            outcome, why = "passed over", "same load, assigned more recently"
        rows.append(
            {
                "member_id": c.member_id,
                "name": c.name,
                "leads": c.leads,
                "adjustment": c.adjustment,
                "priority": c.priority,
                "load": c.load,
                "last_assigned_at": c.last_assigned_at.isoformat() if c.last_assigned_at else None,
                "outcome": outcome,
                "reason": why,
            }
        )
    rows.extend(others)
    return rows


def explain_no_pick(*, territory: Territory, role: str, candidates: Sequence[Candidate]) -> str:
    """Why the round robin picked nobody, as stored on the task left unassigned."""
    return f"no eligible {TrackerRole(role).label} in {territory.name}: " + (
        "; ".join(f"{c.name} {c.skip_reason}" for c in candidates)
        if candidates
        else "nobody with that role covers the territory"
    )


def explain_pick(
    *, territory: Territory, role: str, chosen: Candidate, candidates: Sequence[Candidate]
) -> str:
    """The one-line why of a round-robin pick, as stored on the task."""
    eligible = [c for c in candidates if not c.skip_reason]
    explanation = (
        f"round robin, {territory.name}, {TrackerRole(role).label}: load {chosen.count} × "
        f"{chosen.priority} lowest of {len(eligible)} active"
    )
    if any(c.member_id != chosen.member_id and c.load == chosen.load for c in eligible):
        explanation += " (tie: oldest last assignment)"
    return explanation


def on_time_off() -> Exists:
    """Annotation: the member (``pk``) is deactivated by a time off not yet ended."""
    return Exists(
        TimeOff.objects.filter(
            member=OuterRef("pk"),
            deactivated_at__isnull=False,
            reactivated_at__isnull=True,
        )
    )


def time_off_due(today: dt.date) -> Exists:
    """Annotation: a time off of the member covers ``today`` but the daily job
    has not switched them off yet (it runs at 05:00, or is late)."""
    return Exists(
        TimeOff.objects.filter(
            member=OuterRef("pk"),
            deactivated_at__isnull=True,
            leave_on__lte=today,
            ends_on__gte=today,
        )
    )


def time_off_annotations(today: dt.date) -> dict[str, Exists]:
    """Both time-off annotations, read by ``away``."""
    return {"on_time_off": on_time_off(), "time_off_due": time_off_due(today)}


def away(member: TrackerMember) -> bool:
    """Skipped for time off: within its dates before the daily job switched the
    member off, or switched off by it. A team lead who switches them back on
    by hand wins over the job's switch."""
    due = bool(getattr(member, "time_off_due", False))
    return due or (bool(getattr(member, "on_time_off", False)) and not member.is_active)


def lock_candidates(*, territory: Territory, role: str, today: dt.date) -> list[TrackerMember]:
    """Lock the territory's members of ``role`` in id order, with the time-off annotations."""
    return list(
        TrackerMember.objects.filter(territories=territory, role=role)
        .select_related("user")
        .annotate(**time_off_annotations(today))
        .select_for_update(of=("self",))
        .order_by("pk")
    )


def to_candidate(member: TrackerMember, *, book_reason: str = "") -> Candidate:
    """A member's candidate: those whose login is switched off (``member.user``
    loaded), away on time off (``away``) or inactive skip, active ones for
    ``book_reason``. The round robin, the stale job, the tracker page and
    the preview all build candidates here, so they skip the same members."""
    if not member.user.is_active:
        skip = LOGIN_OFF  # whatever the member row says: nobody can work the lead
    elif away(member):
        skip = "on time off"
    else:
        skip = book_reason if member.is_active else "inactive"
    return Candidate(
        member_id=member.pk,
        user_id=member.user_id,
        name=member.user.name,
        leads=member.leads_this_month,
        adjustment=member.manual_adjustment,
        priority=member.priority,
        last_assigned_at=member.last_assigned_at,
        skip_reason=skip,
    )


def build_candidates(
    *,
    members: Sequence[TrackerMember],
    role: str,
    lead_type: str,
    today: dt.date,
    exclude_user_ids: Sequence[int] = (),
) -> list[Candidate]:
    """Turn locked member rows into candidates with their skip reasons (books as of ``today``)."""
    book_reasons: dict[int, str] = {}
    if lead_type == LeadType.PRODUCT_LED and role == TrackerRole.TAM:
        book_reasons = full_book_reasons([m.user_id for m in members if m.is_active], today=today)
    candidates = []
    for member in members:
        candidate = to_candidate(member, book_reason=book_reasons.get(member.user_id, ""))
        if member.user_id in exclude_user_ids:
            candidate.skip_reason = "current assignee (reassigning away)"
        candidates.append(candidate)
    return candidates


def _others_in_view(*, territory: Territory, role: str) -> list[dict[str, Any]]:
    """Members outside the pool: right territory, wrong role, or right role elsewhere.

    Also returns the pool's own members; the caller drops them once it has
    locked the pool.
    """
    rows = (
        TrackerMember.objects.filter(Q(role=role) | Q(territories=territory))
        .values("pk", "user__name", "role")
        .distinct()
        .order_by("pk")
    )
    return [
        {
            "member_id": row["pk"],
            "name": row["user__name"],
            "outcome": "passed over",
            "reason": f"wrong role ({TrackerRole(row['role']).label})"
            if row["role"] != role
            else "not in this territory",
        }
        for row in rows
    ]


def refresh_period(members: Iterable[TrackerMember], *, today: dt.date) -> None:
    """Open this month's period for locked members still counting last month's leads.

    The monthly reset job does this for everyone at the start of the month;
    doing it here too means a task arriving before the job ran is still
    counted in the right month. One statement when any member is behind.
    """
    period = month_start(today)
    behind = [m for m in members if m.period < period]
    if behind:
        open_period(period=period, member_ids=[m.pk for m in behind])
        for member in behind:
            member.leads_this_month = 0
            member.manual_adjustment = 0
            member.period = period


def decide_round_robin(
    *,
    territory: Territory,
    lead_type: str,
    today: dt.date,
    exclude_user_ids: Sequence[int] = (),
) -> tuple[TrackerMember | None, Decision]:
    """Lock the pool and decide (must run inside a transaction)."""
    role = LEAD_TYPE_ROLE[lead_type]
    # Read before locking: it only feeds the explanation, and the member locks
    # are the round robin's bottleneck.
    others = _others_in_view(territory=territory, role=role)
    members = lock_candidates(territory=territory, role=role, today=today)
    locked_ids = {m.pk for m in members}
    others = [row for row in others if row["member_id"] not in locked_ids]
    refresh_period(members, today=today)
    # A login switched off outside the admin: record it in the ledger now.
    switch_off_members_without_login(members, now=timezone.now())
    candidates = build_candidates(
        members=members,
        role=role,
        lead_type=lead_type,
        today=today,
        exclude_user_ids=exclude_user_ids,
    )
    chosen = pick_next(candidates)
    pool = explain_pool(candidates=candidates, chosen=chosen, others=others)
    if chosen is None:
        reason = explain_no_pick(territory=territory, role=role, candidates=candidates)
        return None, Decision(
            assignee=None,
            member=None,
            explanation=f"unassigned: {reason}",
            pool=pool,
            unassigned_reason=reason,
        )
    member = next(m for m in members if m.pk == chosen.member_id)
    explanation = explain_pick(territory=territory, role=role, chosen=chosen, candidates=candidates)
    return member, Decision(assignee=member.user, member=member, explanation=explanation, pool=pool)


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
            author=author,
            reason=reason or decision.explanation,
            created_at=now,
        )


def _owner_role(user_role: str) -> str:
    return OWNER_ROLE_FOR.get(user_role, OwnerRole.TAE)


def decide_for_account(
    *,
    account: Account,
    territory: Territory | None,
    lead_type: str,
    today: dt.date,
) -> Decision:
    """Steps 1-4 for a locked account: its owner (unless their login is switched
    off: then as if unowned, ``leads.people``), else the territory's round robin.

    Must run inside a transaction that holds the account row lock; it takes
    the territory's member locks for the round robin.
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
    _, decision = decide_round_robin(territory=territory, lead_type=lead_type, today=today)
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


def assign_new_task(
    *,
    task: Task,
    account: Account,
    territory: Territory | None,
    author: User | None,
    now: dt.datetime,
    created_summary: str,
) -> Decision:
    """Decide, then insert the unsaved ``task`` already assigned, with its history.

    For intake, inside its transaction, with ``account`` locked by that
    transaction (found with SELECT … FOR UPDATE, or inserted by it). Fewer
    round trips than creating the task and then calling ``assign_task``:
    the member locks are held only for the task insert and the writes that
    follow.
    """
    decision = decide_for_account(
        account=account,
        territory=territory,
        lead_type=task.lead_type,
        today=company_today(now=now),
    )
    task.territory = territory
    _take_decision(task, decision, now=now)
    task.save(force_insert=True)
    _apply(task=task, account=account, decision=decision, author=author, now=now)
    TaskEvent.objects.bulk_create(
        [
            TaskEvent(
                task=task,
                kind=TaskEventKind.CREATED,
                actor=author,
                summary=created_summary,
                occurred_at=now,
            ),
            _decision_event(task=task, decision=decision, author=author, now=now),
        ]
    )
    return decision


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


def _take_decision(task: Task, decision: Decision, *, now: dt.datetime) -> None:
    """Put ``decision`` on the task's fields (not saved)."""
    task.assignee = decision.assignee
    task.explanation = decision.explanation
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
    if decision.assignee is None:
        kind, summary = TaskEventKind.UNASSIGNED, "Left in the unassigned queue"
    elif reassigned:
        kind = TaskEventKind.REASSIGNED
        summary = f"Reassigned from {previous} to {decision.assignee}"
    else:
        kind, summary = TaskEventKind.ASSIGNED, f"Assigned to {decision.assignee}"
    return TaskEvent(
        task=task,
        kind=kind,
        actor=author,
        assignee=decision.assignee,
        old_value=str(previous or ""),
        new_value=str(decision.assignee or ""),
        summary=summary,
        reason=decision.explanation,
        occurred_at=now,
    )


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
