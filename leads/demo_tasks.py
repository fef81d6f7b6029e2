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
from revopsweb.dates import add_months, month_start

from .assignment import (
    NO_TERRITORY_REASON,
    OWNER_ROLE_FOR,
    ROUND_ROBIN_SOURCE,
    _decision_event,
)
from .models import (
    LEAD_TYPE_ROLE,
    DisqualificationReason,
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
from .round_robin import (
    Candidate,
    Decision,
    explain_no_pick,
    explain_pick,
    explain_pool,
    pick_next,
)
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
# Months of closed leads and round-robin ledger before the current one, and the
# leads each of them saw per account in the company (at least MIN_PER_MONTH).
HISTORY_MONTHS = 6
HISTORY_PER_ACCOUNT = 1 / 50
MIN_PER_MONTH = 20
_ROLE_LEAD_TYPE: dict[str, str] = {role: lead_type for lead_type, role in LEAD_TYPE_ROLE.items()}
HISTORY_REASONS = (
    DisqualificationReason.NO_CURRENT_NEED,
    DisqualificationReason.NO_BUDGET,
    DisqualificationReason.NOT_A_GOOD_FIT,
    DisqualificationReason.USING_COMPETITOR,
)


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

    One open task per 20 accounts (40 to 400; one per 50 past 20,000 accounts):
    two thirds on owned accounts (to the owner), a third on unowned accounts (replayed round robin; the account gets
    its owner and an OwnershipChange), some left unassigned with the reason,
    a few stale (untouched 12 days) for the stale-task job. Returns the number
    of tasks, with ``_seed_history``'s months of closed leads and ledger. Not
    idempotent: expects no tracker members or tasks.
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
    history = _seed_history(
        rng=rng,
        today=today,
        members=members,
        member_territories=member_territories,
        territories=by_id,
        account_count=len(account_ids),
    )
    # One open lead per 20 accounts up to 400, then one per 50 (2,000 at 100,000).
    count = max(40, min(400, len(account_ids) // 20), len(account_ids) // 50)
    # Two thirds on owned accounts (to the owner), a third on unowned ones (the
    # round robin, which gives the account its owner): a uniform sample would put
    # nearly all on unowned accounts at scale and swell the books past their caps.
    owned_ids = set(Account.objects.filter(owner__isnull=False).values_list("pk", flat=True))
    unowned_ids = [pk for pk in account_ids if pk not in owned_ids]
    on_owned = min(len(owned_ids), round(min(count, len(account_ids)) * 2 / 3))
    picked = rng.sample(sorted(owned_ids), on_owned) + rng.sample(
        unowned_ids, min(count - on_owned, len(unowned_ids))
    )
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

    TaskEvent.objects.bulk_create(
        [event for task in tasks for event in _first_events(task, assignee=task.assignee)]
    )

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
    return len(tasks) + history


def _seed_history(
    *,
    rng: random.Random,
    today: dt.date,
    members: list[TrackerMember],
    member_territories: dict[int, set[int]],
    territories: dict[int, Territory],
    account_count: int,
) -> int:
    """Closed leads of the ``HISTORY_MONTHS`` months before ``today``'s, with the
    round robin's ledger of those months; returns the tasks written.

    The round robin's share is where the TAE and TAM books came from: each
    account such a member owns since a day in those months got its owner from a
    lead the round robin gave them that day (an ASSIGNMENT event in that month's
    period, picked by ``pick_next`` over the month's loads). The rest are leads
    on accounts owned at the time (owner first, no ledger) and onboarding leads
    (round robin among onboarding specialists, no owner change), all
    disqualified a few days later. Each month after the first opens with the
    monthly reset's RESET event per member. Bulk inserts; no owner changes.
    """
    this_month = month_start(today)
    first = add_months(this_month, -HISTORY_MONTHS)
    member_of_user = {m.user_id: m for m in members}
    rows = list(
        Account.objects.filter(owner__isnull=False, territory__isnull=False)
        .order_by("pk")
        .values_list("pk", "owner_id", "owner_since", "territory_id")
    )
    from_robin: dict[dt.date, list[tuple[int, int, dt.date, int]]] = defaultdict(list)
    owned_then: list[tuple[int, int, dt.date, int]] = []
    for pk, owner_id, since, territory_id in rows:
        member = member_of_user.get(owner_id)
        if member is not None and since and first <= since < this_month:
            from_robin[month_start(since)].append((pk, owner_id, since, territory_id))
        elif since:
            owned_then.append((pk, owner_id, since, territory_id))
    unowned = list(
        Account.objects.filter(owner__isnull=True, territory__isnull=False)
        .order_by("pk")
        .values_list("pk", "territory_id")
    )
    per_month = max(MIN_PER_MONTH, round(account_count * HISTORY_PER_ACCOUNT))

    tasks: list[Task] = []
    picked: list[tuple[int, TrackerMember]] = []  # (task index, member) of each robin pick
    resets: list[RoundRobinEvent] = []
    previous: dict[int, int] = {}

    def at(day: dt.date) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, dt.time(rng.randint(8, 18))))

    for back in range(HISTORY_MONTHS, 0, -1):
        period = add_months(this_month, -back)
        days = (add_months(period, 1) - period).days
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
        if back < HISTORY_MONTHS:
            resets.extend(_reset_event(m, period, previous.get(m.pk, 0)) for m in members)

        # (when, account, territory, assignee user id or None for a robin pick, role)
        leads: list[tuple[dt.datetime, int, int, int | None, str]] = []
        for pk, owner_id, since, territory_id in from_robin.get(period, []):
            role = member_of_user[owner_id].role
            leads.append((at(since), pk, territory_id, owner_id, role))
        for _ in range(per_month):
            when = at(period + dt.timedelta(days=rng.randrange(days)))
            if rng.random() < 0.75 and owned_then:
                pk, owner, since, territory_id = rng.choice(owned_then)
                if since <= when.date():
                    leads.append((when, pk, territory_id, owner, ""))
                    continue
            if unowned:
                pk, territory_id = rng.choice(unowned)
                leads.append((when, pk, territory_id, None, TrackerRole.ONBOARDING))
        leads.sort(key=lambda lead: lead[0])
        for when, pk, territory_id, assignee, role in leads:
            lead_type = _ROLE_LEAD_TYPE.get(role) or rng.choice(
                [LeadType.NEW_BUSINESS, LeadType.PRODUCT_LED]
            )
            task = Task(
                account_id=pk,
                source=rng.choice(SOURCES),
                lead_type=lead_type,
                territory_id=territory_id,
                message="Demo lead from an earlier month.",
                score=rng.randint(5, 60),
                created_at=when,
                status=TaskStatus.DISQUALIFIED,
                disqualification_reason=rng.choice(HISTORY_REASONS),
                closed_at=when + dt.timedelta(days=rng.randint(2, 12)),
            )
            chosen: Candidate | None = None
            if role:
                candidates = [
                    state[m.pk]
                    for m in members
                    if m.role == role and territory_id in member_territories[m.pk]
                ]
                if assignee is not None:
                    # The book's owner was the round robin's pick that day.
                    chosen = state[member_of_user[assignee].pk]
                else:
                    chosen = pick_next(candidates)
                if chosen is None:
                    continue
                task.explanation = explain_pick(
                    territory=territories[territory_id],
                    role=role,
                    chosen=chosen,
                    candidates=candidates or [chosen],
                )
                task.assignee_id = chosen.user_id
                chosen.leads += 1
                chosen.last_assigned_at = when
            else:
                task.assignee_id = assignee
                task.explanation = "account owner"
            task.assigned_at = when
            task.last_touched_at = task.closed_at
            tasks.append(task)
            if chosen is not None:
                picked.append((len(tasks) - 1, member_of_user[chosen.user_id]))
        previous = {member_id: c.leads for member_id, c in state.items()}
    resets.extend(_reset_event(m, this_month, previous.get(m.pk, 0)) for m in members)

    Task.objects.bulk_create(tasks, batch_size=2000)
    assignees = User.objects.in_bulk({task.assignee_id for task in tasks})
    events: list[TaskEvent] = []
    for task in tasks:
        events.extend(_first_events(task, assignee=assignees[task.assignee_id]))
        assert task.closed_at is not None
        events.append(
            TaskEvent(
                task=task,
                kind=TaskEventKind.DISQUALIFIED,
                actor_id=task.assignee_id,
                new_value=task.disqualification_reason,
                summary=f"Disqualified: {task.get_disqualification_reason_display()}",
                at=task.closed_at,
            )
        )
    TaskEvent.objects.bulk_create(events, batch_size=5000)
    ledger = [
        RoundRobinEvent(
            member=member,
            kind=LedgerKind.ASSIGNMENT,
            task=tasks[index],
            delta=1,
            period=month_start(tasks[index].created_at.date()),
            reason=tasks[index].explanation,
            at=tasks[index].created_at,
        )
        for index, member in picked
    ]
    RoundRobinEvent.objects.bulk_create([*ledger, *resets], batch_size=5000)
    return len(tasks)


def _first_events(task: Task, *, assignee: User | None) -> list[TaskEvent]:
    """A seeded task's first two history rows (not saved), as ``assign_task``
    writes them: created from its source, then the decision's row from
    ``leads.assignment._decision_event`` ("Assigned to {assignee}", or left in
    the unassigned queue) with the task's explanation, both at its creation."""
    created = TaskEvent(
        task=task,
        kind=TaskEventKind.CREATED,
        summary=f"Created from {task.get_source_display()}",
        at=task.created_at,
    )
    decision = Decision(assignee=assignee, member=None, explanation=task.explanation)
    return [
        created,
        _decision_event(task=task, decision=decision, author=None, now=task.created_at),
    ]


def _reset_event(member: TrackerMember, period: dt.date, leads: int) -> RoundRobinEvent:
    """The monthly reset's event opening ``period`` (as ``leads.ledger.open_period`` writes it)."""
    before = add_months(period, -1)
    return RoundRobinEvent(
        member=member,
        kind=LedgerKind.RESET,
        delta=0,
        period=period,
        old_value=f"leads {leads}, adjustment 0 ({before:%Y-%m})",
        new_value="leads 0, adjustment 0",
        reason="monthly reset: new ledger period",
        at=timezone.make_aware(dt.datetime.combine(period, dt.time(0, 5))),
    )


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
