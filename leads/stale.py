"""Stale-task reassignment and autoclose (issue 5, sales/overview "Stale task reassignment").

A task assigned to someone and untouched for ``STALE_TASK_DAYS`` (default 10)
is reassigned once via the round robin of its territory, never to its current
assignee; if it is still untouched that long after the reassignment it is
disqualified as "Stale – Autoclosed". Only tasks in new or in progress are
considered: nurturing, converted and disqualified tasks are never touched.
The owner rule does not apply (the task goes to the round robin); the
account's ownership follows the task only when the round robin gave the
account to the current assignee together with this very task, i.e. the
account was unowned before the task's first assignment.

Set-based: work is claimed in batches of ``STALE_BATCH_SIZE`` with
``SELECT … FOR UPDATE SKIP LOCKED`` walking the task ids upwards (keyset), and
every batch writes with a fixed number of statements whatever its size
(``BATCH_QUERIES`` documents them). The batch's decisions are made in one
pass over its tasks with the pools locked once per batch, by the round robin's
own ``pick_next``, ``explain_pool_json`` and ``explain_pick`` on candidates
kept for the batch (a candidate's sort key and pool row are computed again
only when it is picked), and written with one statement of arrays. Each
batch is its own transaction, so a worker killed mid-run leaves whole batches
done and a re-run finishes the rest: a done task is no longer stale (its touch time is now) or no longer
open. Two runs at once never process a task twice: a claimed task is skipped
by the other run, and PostgreSQL re-checks the WHERE clause on rows another
run has just committed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.books import full_book_reasons
from accounts.models import Account, OwnerRole, OwnershipChange
from accounts.ownership import OwnerMove, change_owners_of_locked_accounts
from revopsweb.dates import company_today

from .assignment import NO_TERRITORY_REASON, OWNER_ROLE_FOR, ROUND_ROBIN_SOURCE
from .models import (
    LEAD_TYPE_ROLE,
    DisqualificationReason,
    LeadType,
    LedgerKind,
    Task,
    TaskEventKind,
    TaskStatus,
    Territory,
    TrackerMember,
    TrackerRole,
)
from .round_robin import (
    Candidate,
    explain_pick,
    explain_pool_json,
    passing_over,
    pick_next,
    refresh_period,
    time_off_annotations,
    to_candidate,
)

# Rows claimed and written per transaction: large enough that a million tasks
# take few round trips, small enough that a batch holds its locks briefly.
STALE_BATCH_SIZE = 2000
# The statuses the job may act on; nurturing, converted and disqualified are
# never touched.
STALE_STATUSES = (TaskStatus.NEW, TaskStatus.IN_PROGRESS)
# Upper bound of the statements one reassignment batch issues, whatever its
# size: claim, lock accounts, lock members, open the period (new month before
# the reset ran), two for TAM book caps, member territories, write tasks +
# history + members + ledger, update account owners, insert ownership
# changes, update onboarding specialists.
BATCH_QUERIES = 11


def stale_days() -> int:
    """The threshold in days (setting STALE_TASK_DAYS, RevOps can change it)."""
    return int(getattr(settings, "STALE_TASK_DAYS", 10))


def stale_reason(days: int) -> str:
    return f"untouched for {days} days"


@dataclass
class StaleResult:
    reassigned: int = 0
    autoclosed: int = 0
    left: int = 0
    batches: int = 0
    left_reasons: dict[int, str] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return self.reassigned + self.autoclosed


def process_stale_tasks(
    *,
    now: dt.datetime | None = None,
    days: int | None = None,
    batch_size: int = STALE_BATCH_SIZE,
) -> StaleResult:
    """Autoclose tasks stale a second time, then reassign tasks stale a first time.

    Idempotent: a second run at the same moment finds nothing stale. Resumable
    and safe to run concurrently (see the module docstring). Returns counts;
    tasks that could not be reassigned (no other eligible member, no
    territory) are left as they are and counted in ``left``.
    """
    now = now or timezone.now()
    days = stale_days() if days is None else days
    cutoff = now - dt.timedelta(days=days)
    result = StaleResult()
    result.autoclosed = autoclose_stale_tasks(
        now=now, cutoff=cutoff, days=days, batch_size=batch_size
    )
    reassign_stale_tasks(now=now, cutoff=cutoff, days=days, batch_size=batch_size, result=result)
    return result


# A batch commits without waiting for its WAL to reach the disk when it is its
# own transaction: a server crash can then lose the last few batches committed
# (at most about three wal_writer_delay, 0.6 s by default), never part of one,
# and those tasks are still stale, so the next run does them. The job's JobRun
# row is committed synchronously after the last batch, which flushes them all.
# Inside a caller's transaction the caller's setting stands.
_ASYNC_COMMIT = (
    "set_config('synchronous_commit', CASE WHEN %(own_transaction)s THEN 'off' "
    "ELSE current_setting('synchronous_commit') END, true)"
)


def _own_transaction() -> bool:
    """The current atomic block is the outermost one (a batch's own transaction)."""
    return len(connection.atomic_blocks) == 1


# --- Second stale period: autoclose ------------------------------------------

_AUTOCLOSE_SQL = f"""
WITH claimed AS (
    SELECT t.id, t.status, t.assignee_id
    FROM leads_task t
    WHERE t.status = ANY(%(statuses)s)
      AND t.assignee_id IS NOT NULL
      AND t.reassignment_count > 0
      AND COALESCE(t.last_touched_at, t.assigned_at) <= %(cutoff)s
      AND t.id > %(after)s
    ORDER BY t.id
    LIMIT %(limit)s
    FOR UPDATE OF t SKIP LOCKED
), closed AS (
    UPDATE leads_task t
    SET status = %(disqualified)s, disqualification_reason = %(reason)s, closed_at = %(now)s
    FROM claimed WHERE t.id = claimed.id
    RETURNING t.id, claimed.status AS old_status, t.assignee_id
), events AS (
    INSERT INTO leads_taskevent
        (task_id, kind, actor_id, assignee_id, old_value, new_value, summary, reason, occurred_at)
    SELECT id, %(kind)s, NULL, assignee_id, old_status, %(disqualified)s,
           %(summary)s, %(why)s, %(now)s
    FROM closed
    RETURNING task_id
)
SELECT count(*), COALESCE(max(task_id), 0), (SELECT {_ASYNC_COMMIT}) FROM events
"""


def autoclose_stale_tasks(
    *, now: dt.datetime, cutoff: dt.datetime, days: int, batch_size: int = STALE_BATCH_SIZE
) -> int:
    """Disqualify as Stale – Autoclosed the reassigned tasks untouched since ``cutoff``.

    One statement per batch (claim with SKIP LOCKED, update, insert the
    history rows); each batch commits on its own. Returns tasks closed.
    """
    params: dict[str, Any] = {
        "statuses": [str(s) for s in STALE_STATUSES],
        "cutoff": cutoff,
        "limit": batch_size,
        "disqualified": TaskStatus.DISQUALIFIED.value,
        "reason": DisqualificationReason.STALE_AUTOCLOSED.value,
        "kind": TaskEventKind.DISQUALIFIED.value,
        "summary": f"Disqualified: {DisqualificationReason.STALE_AUTOCLOSED.label}",
        "why": f"Stale task: still {stale_reason(days)} after its stale reassignment "
        "(sales/overview: reassigned once, then autoclosed)",
        "now": now,
    }
    closed, after = 0, 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                _AUTOCLOSE_SQL,
                {**params, "after": after, "own_transaction": _own_transaction()},
            )
            row = cursor.fetchone()
        count, after = (int(row[0]), int(row[1])) if row else (0, 0)
        closed += count
        if count < batch_size:
            return closed


# --- First stale period: reassign via the round robin -------------------------


@dataclass
class _Claimed:
    id: int
    assignee_id: int
    assignee_name: str
    lead_type: str
    account_id: int
    territory_id: int | None
    fill_territory: bool
    moves_account: bool


def _claim(*, cutoff: dt.datetime, after: int, limit: int) -> list[_Claimed]:
    """Lock the next batch of first-time stale tasks, skipping rows others hold."""
    # The round robin gave the account to the current assignee with this task.
    brought_account = OwnershipChange.objects.filter(
        account_id=OuterRef("account_id"),
        new_owner_id=OuterRef("assignee_id"),
        task_id=OuterRef("pk"),
    )
    rows = (
        Task.objects.filter(
            status__in=STALE_STATUSES,
            assignee__isnull=False,
            reassignment_count=0,
            pk__gt=after,
        )
        .alias(touched=Coalesce("last_touched_at", "assigned_at"))
        .filter(touched__lte=cutoff)
        .annotate(
            moves=Q(account__owner_id=F("assignee_id")) & Exists(brought_account),
            area=Coalesce("territory_id", "account__territory_id"),
        )
        .order_by("pk")
        .select_for_update(skip_locked=True, of=("self",))
        .values_list(
            "pk", "assignee_id", "assignee__name", "lead_type", "account_id", "area",
            "territory_id", "moves",
        )[:limit]
    )  # fmt: skip
    return [
        _Claimed(
            id=pk,
            assignee_id=assignee_id,
            assignee_name=name,
            lead_type=lead_type,
            account_id=account_id,
            territory_id=area,
            fill_territory=own_territory is None,
            moves_account=bool(moves),
        )
        for pk, assignee_id, name, lead_type, account_id, area, own_territory, moves in rows
    ]


@dataclass
class _Pool:
    territory: Territory
    role: str
    candidates: list[Candidate]


def _lock_pools(
    *, claimed: Sequence[_Claimed], today: dt.date, territories: dict[int, Territory]
) -> tuple[dict[tuple[int, str], _Pool], dict[int, TrackerMember]]:
    """Lock every member of the batch's (territory, role) pools, in id order.

    Same order as ``leads.round_robin.lock_pool`` (member ids ascending,
    after the account locks), so the job and live intake never deadlock.
    """
    territory_ids = sorted({c.territory_id for c in claimed if c.territory_id is not None})
    roles = sorted({LEAD_TYPE_ROLE[c.lead_type] for c in claimed})
    through = TrackerMember.territories.through
    members: dict[int, TrackerMember] = {
        m.pk: m
        for m in TrackerMember.objects.filter(
            role__in=roles,
            pk__in=through.objects.filter(territory_id__in=territory_ids).values(
                "trackermember_id"
            ),
        )
        .select_related("user")
        .annotate(**time_off_annotations(today))
        .select_for_update(of=("self",))
        .order_by("pk")
    }
    # A new month the reset job has not opened yet: open it for these members
    # first, as live assignment does.
    refresh_period(members.values(), today=today)
    book_reasons: dict[int, str] = {}
    if any(c.lead_type == LeadType.PRODUCT_LED for c in claimed):
        book_reasons = full_book_reasons(
            [m.user_id for m in members.values() if m.role == TrackerRole.TAM and m.is_active],
            today=today,
        )
    # One Candidate per member shared by every pool it belongs to, so a lead
    # it takes in one territory raises its load in the others too. Book
    # reasons are only TAMs' (a member is one user).
    shared = {
        m.pk: to_candidate(m, book_reason=book_reasons.get(m.user_id, "")) for m in members.values()
    }
    pools: dict[tuple[int, str], _Pool] = {}
    links = through.objects.filter(
        trackermember_id__in=list(members), territory_id__in=territory_ids
    ).values_list("territory_id", "trackermember_id")
    for territory_id, member_id in sorted(links):
        role = members[member_id].role
        pool = pools.setdefault((territory_id, role), _Pool(territories[territory_id], role, []))
        pool.candidates.append(shared[member_id])
    return pools, members


def reassign_stale_tasks(
    *,
    now: dt.datetime,
    cutoff: dt.datetime,
    days: int,
    batch_size: int = STALE_BATCH_SIZE,
    result: StaleResult | None = None,
) -> StaleResult:
    """Reassign, via the round robin, open tasks never reassigned and untouched since ``cutoff``.

    Batches of ``batch_size`` in id order, each in its own transaction with at
    most ``BATCH_QUERIES`` statements. A task with no other eligible member
    (or no territory) keeps its assignee and is counted in ``result.left``;
    the next run looks at it again.
    """
    result = result if result is not None else StaleResult()
    territories = Territory.objects.in_bulk()
    clock = _Clock(now)
    after = 0
    while True:
        with transaction.atomic():
            claimed = _claim(cutoff=cutoff, after=after, limit=batch_size)
            if claimed:
                done, left = _reassign_batch(
                    claimed=claimed, now=now, days=days, territories=territories, clock=clock
                )
        if not claimed:
            return result
        result.batches += 1
        result.reassigned += done
        result.left += len(left)
        result.left_reasons.update(left)
        after = claimed[-1].id
        if len(claimed) < batch_size:
            return result


@dataclass
class _Clock:
    """Assignment stamps one microsecond apart, so ties keep the sequential order."""

    now: dt.datetime
    step: int = 0

    def catch_up(self, stamps: Iterable[dt.datetime | None]) -> None:
        """Continue after the latest stamp already written (by an earlier batch or run)."""
        latest = max((s for s in stamps if s is not None), default=None)
        if latest is not None and latest > self.now:
            self.step = max(self.step, (latest - self.now) // dt.timedelta(microseconds=1))

    def tick(self) -> dt.datetime:
        self.step += 1
        return self.now + dt.timedelta(microseconds=self.step)


# One statement writes a whole batch: the tasks, their history rows, the
# members' counters and the ledger events, from arrays (one round trip,
# whatever the batch size).
_WRITE_BATCH_SQL = f"""
WITH v AS (
    SELECT * FROM unnest(
        %(ids)b::bigint[], %(assignees)b::bigint[], %(previous)b::bigint[],
        %(members)b::bigint[], %(periods)b::date[], %(explanations)b::text[],
        %(pools)b::text[], %(territories)b::bigint[]
    ) AS v(task_id, assignee_id, previous_id, member_id, period, explanation, pool, territory_id)
), tasks AS (
    UPDATE leads_task t
    SET assignee_id = v.assignee_id,
        explanation = v.explanation,
        pool = v.pool::jsonb,
        unassigned_reason = '',
        assigned_at = %(now)s,
        last_touched_at = %(now)s,
        reassignment_count = t.reassignment_count + 1,
        territory_id = COALESCE(t.territory_id, v.territory_id)
    FROM v WHERE t.id = v.task_id
    RETURNING t.id
), history AS (
    INSERT INTO leads_taskevent
        (task_id, kind, actor_id, assignee_id, old_value, new_value, summary, reason, occurred_at)
    SELECT v.task_id, %(event_kind)s, NULL, v.assignee_id, old.label, new.label,
           'Reassigned from ' || old.label || ' to ' || new.label, v.explanation, %(now)s
    FROM v
    JOIN (SELECT id, COALESCE(NULLIF(name, ''), email) AS label FROM accounts_user) old
      ON old.id = v.previous_id
    JOIN (SELECT id, COALESCE(NULLIF(name, ''), email) AS label FROM accounts_user) new
      ON new.id = v.assignee_id
    RETURNING task_id
), members AS (
    UPDATE leads_trackermember m
    SET leads_this_month = u.leads, last_assigned_at = u.last_assigned_at
    FROM unnest(
        %(touched)b::bigint[], %(touched_leads)b::int[], %(touched_stamps)b::timestamptz[]
    ) AS u(id, leads, last_assigned_at)
    WHERE m.id = u.id
    RETURNING m.id
), ledger AS (
    INSERT INTO leads_roundrobinevent
        (member_id, kind, task_id, delta, period, old_value, new_value, author_id, reason,
         compensates_id, created_at)
    SELECT v.member_id, %(ledger_kind)s, v.task_id, 1, v.period, '', '', NULL,
           'stale task ' || v.task_id || ': ' || %(reason)s, NULL, %(now)s
    FROM v
    RETURNING task_id
)
SELECT (SELECT count(*) FROM tasks), (SELECT count(*) FROM history), (SELECT count(*) FROM ledger),
       (SELECT {_ASYNC_COMMIT})
"""


@contextmanager
def _binary_cursor() -> Iterator[Any]:
    """A cursor with server-side binding on Django's connection.

    ``%(name)b`` parameters then travel in binary, so a batch's thousands of
    JSON and text values are not quoted into the SQL in Python (the largest
    cost of a batch otherwise). It goes through Django's cursor wrapper, so
    execute wrappers and query-count assertions still see the statement.
    """
    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    cursor = (
        connection.make_debug_cursor(raw)  # type: ignore[arg-type]
        if connection.queries_logged
        else connection.make_cursor(raw)  # type: ignore[arg-type]
    )
    try:
        yield cursor
    finally:
        raw.close()


def _reassign_batch(
    *,
    claimed: Sequence[_Claimed],
    now: dt.datetime,
    days: int,
    territories: dict[int, Territory],
    clock: _Clock,
) -> tuple[int, dict[int, str]]:
    """Decide and write one claimed batch; returns (reassigned, {task id: why left})."""
    today = company_today(now=now)
    reason = stale_reason(days)
    # Account locks before member locks, the order assign_task uses.
    movers = sorted({c.account_id for c in claimed if c.moves_account})
    owners: dict[int, int | None] = {}
    if movers:
        owners = dict(
            Account.objects.filter(pk__in=movers)
            .order_by("pk")
            .select_for_update()
            .values_list("pk", "owner_id")
        )
    pools, members = _lock_pools(claimed=claimed, today=today, territories=territories)
    clock.catch_up(m.last_assigned_at for m in members.values())

    left: dict[int, str] = {}
    ids: list[int] = []
    assignees: list[int] = []
    explanations: list[str] = []
    pool_json: list[str] = []
    filled: list[int | None] = []
    previous: list[int] = []
    member_ids: list[int] = []
    periods: list[dt.date] = []
    touched: dict[int, TrackerMember] = {}
    owner_moves: list[OwnerMove] = []
    specialist_moves: list[Account] = []
    picked: dict[int, Candidate] = {}
    for c in claimed:
        if c.territory_id is None:
            left[c.id] = NO_TERRITORY_REASON
            continue
        role = LEAD_TYPE_ROLE[c.lead_type]
        pool = pools.get((c.territory_id, role))
        if pool is None:
            role_label = TrackerRole(role).label
            left[c.id] = f"nobody covers {territories[c.territory_id].name} as {role_label}"
            continue
        # The round robin's own decision, with the current assignee passed
        # over (never the pick). Candidates live for the whole batch, so
        # their sort keys and pool rows are computed again only when picked.
        with passing_over(pool.candidates, user_id=c.assignee_id):
            chosen = pick_next(pool.candidates)
            if chosen is None:
                role_label = TrackerRole(role).label
                left[c.id] = f"no other eligible {role_label} in {pool.territory.name}"
                continue
            pool_text = explain_pool_json(candidates=pool.candidates, chosen=chosen)
            explanation = f"reassigned ({reason}): " + explain_pick(
                territory=pool.territory, role=role, chosen=chosen, candidates=pool.candidates
            )
        # Count the lead to the pick in place, as live assignment does; a
        # candidate shared by several pools sees it in each.
        chosen.leads += 1
        chosen.last_assigned_at = clock.tick()
        picked[chosen.member_id] = chosen
        member = members[chosen.member_id]
        touched[member.pk] = member

        ids.append(c.id)
        assignees.append(chosen.user_id)
        explanations.append(explanation)
        pool_json.append(pool_text)
        filled.append(c.territory_id if c.fill_territory else None)
        previous.append(c.assignee_id)
        member_ids.append(member.pk)
        periods.append(member.period)
        # Ownership follows only when the round robin gave the account to the
        # current assignee with this task (it was unowned before), checked
        # again under the account lock.
        if c.moves_account and owners.get(c.account_id) == c.assignee_id:
            owners[c.account_id] = chosen.user_id
            if member.role == TrackerRole.ONBOARDING:
                specialist_moves.append(
                    Account(
                        pk=c.account_id, onboarding_specialist_id=chosen.user_id, updated_at=now
                    )
                )
                continue
            owner_moves.append(
                OwnerMove(
                    account_id=c.account_id,
                    previous_owner_id=c.assignee_id,
                    new_owner_id=chosen.user_id,
                    new_owner_role=OWNER_ROLE_FOR.get(member.role, OwnerRole.TAE),
                    reason=f"Round robin with task {c.id}: {explanation}",
                    effective_on=today,
                    task_id=c.id,
                )
            )

    for member in touched.values():
        member.leads_this_month = picked[member.pk].leads
        member.last_assigned_at = picked[member.pk].last_assigned_at
    if ids:
        with _binary_cursor() as cursor:
            cursor.execute(
                _WRITE_BATCH_SQL,
                {
                    "now": now,
                    "ids": ids,
                    "assignees": assignees,
                    "previous": previous,
                    "members": member_ids,
                    "periods": periods,
                    "explanations": explanations,
                    "pools": pool_json,
                    "territories": filled,
                    "touched": list(touched),
                    "touched_leads": [m.leads_this_month for m in touched.values()],
                    "touched_stamps": [m.last_assigned_at for m in touched.values()],
                    "event_kind": TaskEventKind.REASSIGNED.value,
                    "ledger_kind": LedgerKind.REASSIGNMENT.value,
                    "reason": reason,
                    "own_transaction": _own_transaction(),
                },
            )
    change_owners_of_locked_accounts(
        moves=owner_moves, changed_by=None, source=ROUND_ROBIN_SOURCE, now=now
    )
    if specialist_moves:
        Account.objects.bulk_update(specialist_moves, ["onboarding_specialist", "updated_at"])
    return len(ids), left
