"""Demo data for the round robin: tracker members, open tasks, an unassigned queue.

Set-based: a handful of queries and bulk inserts whatever the number of
accounts. The round robin is replayed in memory with the same ``pick_next``
as ``assign_task``, so the demo's counters, ledger, explanations and account
owners agree with the rules (``reconcile_counters()`` is empty afterwards).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Contact, Region, User
from accounts.ownership import OwnerMove, change_owners_of_locked_accounts
from accounts.roles import Role
from revopsweb.dates import month_start

from .assignment import NO_TERRITORY_REASON, OWNER_ROLE_FOR, ROUND_ROBIN_SOURCE
from .models import (
    LEAD_TYPE_ROLE,
    LeadType,
    LedgerKind,
    RoundRobinEvent,
    Task,
    TaskEvent,
    TaskEventKind,
    TaskSource,
    TaskStatus,
    Territory,
    TimeOff,
    TrackerMember,
    TrackerRole,
)
from .round_robin import Candidate, explain_no_pick, explain_pick, explain_pool, pick_next
from .scoring import score_lead

TRACKER_ROLES = {
    Role.TAE: TrackerRole.TAE,
    Role.TAM: TrackerRole.TAM,
    Role.ONBOARDING: TrackerRole.ONBOARDING,
}
# Which territories each region's people cover. Nobody onboards Territory 3,
# so onboarding leads there wait in the unassigned queue.
REGION_TERRITORIES: dict[str, tuple[str, ...]] = {
    Region.US: ("us-west", "us-east", "territory-1", "australia-new-zealand", "territory-3"),
    Region.EU: ("europe-africa", "asia-middle-east"),
}
ROLES = ("engineering", "product", "leadership/founder", "marketing", "other")
SUB_ROLES = ("software_engineer", "web_engineer", "founder/ceo", "other", "")
SOURCES = [s for s in TaskSource.values if s != TaskSource.MANUAL]


def _members(
    rng: random.Random, today: dt.date, territories: dict[str, Territory]
) -> list[TrackerMember]:
    groups = dict(Group.objects.filter(name__in=TRACKER_ROLES).values_list("pk", "name"))
    users = list(
        User.objects.filter(groups__in=groups, is_active=True)
        .exclude(tracker_member__isnull=False)
        .distinct()
        .order_by("pk")
    )
    role_of = {
        user_id: TRACKER_ROLES[groups[group_id]]  # type: ignore[index]
        for user_id, group_id in User.groups.through.objects.filter(
            user__in=users, group__in=groups
        ).values_list("user_id", "group_id")
    }
    period = month_start(today)
    members = [
        TrackerMember(
            user=user,
            role=role_of[user.pk],
            priority=3 if rng.random() < 0.15 else 1,
            period=period,
            is_active=rng.random() > 0.08,
        )
        for user in users
        if user.pk in role_of
    ]
    TrackerMember.objects.bulk_create(members)
    through = TrackerMember.territories.through
    links: list[Any] = []
    for m in members:
        slugs = REGION_TERRITORIES.get(str(m.user.region), REGION_TERRITORIES[Region.US])
        chosen = [s for s in slugs if rng.random() < 0.7] or [slugs[0]]
        links.extend(
            through(trackermember_id=m.pk, territory_id=territories[s].pk)
            for s in chosen
            if s in territories
        )
    through.objects.bulk_create(links)
    return members


@transaction.atomic
def seed_tasks(*, rng: random.Random, today: dt.date) -> int:
    """Tracker members for the demo TAEs/TAMs/onboarding specialists, and open tasks.

    About one task per 20 accounts (40 to 400): most on owned accounts (to the
    owner), a third on unowned accounts (replayed round robin; the account gets
    its owner and an OwnershipChange), some left unassigned with the reason,
    a few stale (untouched 12 days) for the stale-task job. Returns the number
    of tasks. Not idempotent: expects no tracker members or tasks.
    """
    now = timezone.make_aware(dt.datetime.combine(today, dt.time(12)))
    territories = {t.slug: t for t in Territory.objects.all()}
    by_id = {t.pk: t for t in territories.values()}
    members = _members(rng, today, territories)
    member_territories: dict[int, set[int]] = defaultdict(set)
    for member_id, territory_id in TrackerMember.territories.through.objects.filter(
        trackermember__in=members
    ).values_list("trackermember_id", "territory_id"):
        member_territories[member_id].add(territory_id)

    account_ids = list(Account.objects.order_by("pk").values_list("pk", flat=True))
    if not account_ids:
        return 0
    count = max(40, min(400, len(account_ids) // 20))
    picked = rng.sample(account_ids, min(count, len(account_ids)))
    accounts = Account.objects.in_bulk(picked)
    owners = User.objects.in_bulk({a.owner_id for a in accounts.values() if a.owner_id})

    candidates: dict[tuple[int, str], list[Candidate]] = {}
    state = {
        m.pk: Candidate(
            member_id=m.pk,
            user_id=m.user_id,
            name=m.user.name,
            leads=0,
            adjustment=0,
            priority=m.priority,
            last_assigned_at=None,
            skip_reason="" if m.is_active else "inactive",
        )
        for m in members
    }
    member_by_id = {m.pk: m for m in members}

    contacts: list[Contact] = []
    tasks: list[Task] = []
    ledger: list[tuple[int, int, dt.datetime]] = []  # (task index, member id, when)
    moves: list[tuple[Account, TrackerMember, dt.datetime, str, int]] = []
    for index, account_id in enumerate(sorted(picked)):
        account = accounts[account_id]
        created = now - dt.timedelta(days=rng.randint(0, 20), hours=rng.randint(0, 8))
        lead_type = rng.choice(
            [LeadType.NEW_BUSINESS] * 5 + [LeadType.PRODUCT_LED] * 3 + [LeadType.ONBOARDING]
        )
        score = score_lead(
            employees=account.employee_count,
            estimated_revenue=Decimal(rng.choice([0, 2, 20, 200])) * 1_000_000,
            role=rng.choice(ROLES),
            sub_role=rng.choice(SUB_ROLES),
            country=account.country,
        )
        contact = Contact(
            account=account,
            name=f"Lead {index}",
            email=f"lead{index}@{account.domain or 'example.com'}",
            title=rng.choice(ROLES),
        )
        contacts.append(contact)
        task = Task(
            account=account,
            source=rng.choice(SOURCES),
            lead_type=lead_type,
            territory_id=account.territory_id,
            message="Demo lead: interested in talking to someone.",
            score=score.total,
            score_breakdown=score.breakdown,
            created_at=created,
        )
        status = rng.choice(
            [TaskStatus.NEW] * 4 + [TaskStatus.IN_PROGRESS] * 2 + [TaskStatus.NURTURING]
        )
        if account.owner_id:
            task.assignee = owners[account.owner_id]
            task.explanation = f"account owner ({task.assignee.name})"
        elif account.territory_id:
            role = LEAD_TYPE_ROLE[lead_type]
            key = (account.territory_id, role)
            if key not in candidates:
                candidates[key] = [
                    state[m.pk]
                    for m in members
                    if m.role == role and account.territory_id in member_territories[m.pk]
                ]
            pool = candidates[key]
            chosen = pick_next(pool)
            territory = by_id[account.territory_id]
            if chosen is None:
                task.unassigned_reason = explain_no_pick(
                    territory=territory, role=role, candidates=pool
                )
                task.explanation = f"unassigned: {task.unassigned_reason}"
                status = TaskStatus.NEW
            else:
                task.pool = explain_pool(candidates=pool, chosen=chosen, others=[])
                task.explanation = explain_pick(
                    territory=territory, role=role, chosen=chosen, candidates=pool
                )
                member = member_by_id[chosen.member_id]
                task.assignee = member.user
                chosen.leads += 1
                chosen.last_assigned_at = created
                ledger.append((index, member.pk, created))
                if member.role in OWNER_ROLE_FOR:
                    moves.append((account, member, created, task.explanation, index))
        else:
            task.unassigned_reason = NO_TERRITORY_REASON
            task.explanation = f"unassigned: {task.unassigned_reason}"
        if task.assignee is not None:
            task.assigned_at = created
            stale = rng.random() < 0.1
            task.last_touched_at = (
                created - dt.timedelta(days=12)
                if stale
                else created + dt.timedelta(hours=rng.randint(1, 48))
            )
            task.last_touched_at = min(task.last_touched_at, now)
            if stale:
                task.assigned_at = task.last_touched_at
            task.status = status
        tasks.append(task)

    Contact.objects.bulk_create(contacts)
    for task, contact in zip(tasks, contacts, strict=True):
        task.contact = contact
    Task.objects.bulk_create(tasks)

    events: list[TaskEvent] = []
    for task in tasks:
        events.append(
            TaskEvent(
                task=task,
                kind=TaskEventKind.CREATED,
                summary=f"Created from {task.get_source_display()}",
                at=task.created_at,
            )
        )
        events.append(
            TaskEvent(
                task=task,
                kind=TaskEventKind.ASSIGNED if task.assignee else TaskEventKind.UNASSIGNED,
                assignee=task.assignee,
                new_value=str(task.assignee or ""),
                summary=f"Assigned to {task.assignee}"
                if task.assignee
                else "Left in the unassigned queue",
                reason=task.explanation,
                at=task.created_at,
            )
        )
    TaskEvent.objects.bulk_create(events)

    period = month_start(today)
    RoundRobinEvent.objects.bulk_create(
        RoundRobinEvent(
            member_id=member_id,
            kind=LedgerKind.ASSIGNMENT,
            task=tasks[index],
            delta=1,
            period=month_start(when.date()),
            reason=tasks[index].explanation,
            at=when,
        )
        for index, member_id, when in ledger
    )
    this_month: dict[int, int] = defaultdict(int)
    last: dict[int, dt.datetime] = {}
    for _, member_id, when in ledger:
        if month_start(when.date()) == period:
            this_month[member_id] += 1
        last[member_id] = max(when, last.get(member_id, when))
    for m in members:
        m.leads_this_month = this_month.get(m.pk, 0)
        m.last_assigned_at = last.get(m.pk)
    TrackerMember.objects.bulk_update(members, ["leads_this_month", "last_assigned_at"])

    # Each picked account is unowned and appears once; this transaction
    # inserted the tasks and holds the seed's writes, so nobody else moves them.
    change_owners_of_locked_accounts(
        moves=[
            OwnerMove(
                account_id=account.pk,
                previous_owner_id=None,
                new_owner_id=member.user_id,
                new_owner_role=OWNER_ROLE_FOR[member.role],
                reason=f"Round robin with task {tasks[index].pk}: {explanation}",
                effective_on=when.date(),
                task_id=tasks[index].pk,
                changed_at=when,
            )
            for account, member, when, explanation, index in moves
        ],
        changed_by=None,
        source=ROUND_ROBIN_SOURCE,
        now=now,
    )

    away = [m for m in members if m.is_active][:2]
    holidays = [
        (m, today + dt.timedelta(days=7 + 7 * i), today + dt.timedelta(days=9 + 7 * i))
        for i, m in enumerate(away)
    ]
    TimeOff.objects.bulk_create(
        TimeOff(
            member=m,
            starts_on=starts,
            ends_on=ends,
            leave_on=TimeOff.leave_on_for(starts, ends),
            note="Demo holiday",
        )
        for m, starts, ends in holidays
    )
    return len(tasks)


def seed_tasks_step(ctx: Any) -> dict[str, int]:
    """seed_demo step adapter: ``DemoStep("tasks", seed_tasks_step, reset_tasks)``."""
    return {"tasks": seed_tasks(rng=ctx.rng("tasks"), today=ctx.today)}


def reset_tasks() -> None:
    """Remove everything seed_tasks made (the ledger and histories included)."""
    # Compensations first: they PROTECT the events they undo.
    RoundRobinEvent.objects.filter(compensates__isnull=False).delete()
    RoundRobinEvent.objects.all().delete()
    TaskEvent.objects.all().delete()
    from .models import Opportunity

    Opportunity.objects.all().delete()
    Task.objects.all().delete()
    TimeOff.objects.all().delete()
    TrackerMember.objects.all().delete()
