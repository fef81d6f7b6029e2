from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from accounts.models import OwnershipChange
from accounts.tests.factories import AccountFactory, tam
from billing.tests.helpers import series
from leads.assignment import assign_task, reassign_task
from leads.ledger import reconcile_counters
from leads.models import (
    LeadType,
    LedgerKind,
    RoundRobinEvent,
    TaskEvent,
    TaskEventKind,
    TrackerRole,
)
from leads.round_robin import Candidate, build_candidates, lock_pool
from leads.tests.factories import TaskFactory, member, territory

pytestmark = pytest.mark.django_db


def _assign_many(n: int) -> Counter[int]:
    got: Counter[int] = Counter()
    for _ in range(n):
        task = TaskFactory.create()
        assign_task(task=task)
        assert task.assignee_id is not None
        got[task.assignee_id] += 1
    return got


def test_task_on_an_owned_account_goes_to_the_owner():
    owner = tam()
    member()
    task = TaskFactory.create(account=AccountFactory.create(owner=owner, owner_role="TAM"))

    decision = assign_task(task=task)

    task.refresh_from_db()
    assert task.assignee == owner
    assert decision.explanation == f"account owner ({owner.name})"
    assert not RoundRobinEvent.objects.exists()


def test_unowned_account_and_task_go_to_the_round_robin_pick():
    picked = member()
    task = TaskFactory.create()

    assign_task(task=task)

    task.refresh_from_db()
    task.account.refresh_from_db()
    assert task.assignee == picked.user
    assert task.account.owner == picked.user
    assert task.account.owner_role == "TAE"
    change = OwnershipChange.objects.get(account=task.account)
    assert change.source == "round robin"
    assert f"task {task.pk}" in change.reason
    assert change.task_id == task.pk


def test_lowest_load_wins():
    busy = member(leads_this_month=5)
    idle = member(leads_this_month=2)
    task = TaskFactory.create()

    assign_task(task=task)

    assert task.assignee_id == idle.user_id
    busy.refresh_from_db()
    assert busy.leads_this_month == 5


def test_priority_three_receives_one_lead_per_three_over_120_assignments():
    normal = member(priority=1)
    slow = member(priority=3)

    got = _assign_many(120)

    assert got[normal.user_id] == 90
    assert got[slow.user_id] == 30


def test_three_priorities_split_in_proportion_to_one_over_priority():
    a, b, c = member(priority=1), member(priority=2), member(priority=4)

    got = _assign_many(140)

    # weights 1 : 1/2 : 1/4 → 80 : 40 : 20
    assert [got[a.user_id], got[b.user_id], got[c.user_id]] == [80, 40, 20]


def test_mid_month_adjustment_makes_a_joiner_start_level():
    veterans = [member(leads_this_month=50), member(leads_this_month=50)]
    joiner = member(manual_adjustment=50)

    got = _assign_many(30)

    assert got[joiner.user_id] == 10
    assert all(got[v.user_id] == 10 for v in veterans)


def test_without_adjustment_a_joiner_is_flooded():
    member(leads_this_month=50)
    joiner = member()

    got = _assign_many(30)

    assert got[joiner.user_id] == 30


def test_tie_goes_to_the_member_whose_last_assignment_is_oldest():
    now = timezone.now()
    recent = member(leads_this_month=3, last_assigned_at=now - dt.timedelta(hours=1))
    older = member(leads_this_month=3, last_assigned_at=now - dt.timedelta(days=2))
    task = TaskFactory.create()

    decision = assign_task(task=task)

    assert task.assignee_id == older.user_id
    assert "tie" in decision.explanation
    passed = next(row for row in decision.pool if row["member_id"] == recent.pk)
    assert passed["reason"] == "same load, assigned more recently"


def test_never_assigned_member_counts_as_oldest_on_a_tie():
    member(leads_this_month=1, last_assigned_at=timezone.now() - dt.timedelta(days=30))
    fresh = member(leads_this_month=1)
    task = TaskFactory.create()

    assign_task(task=task)

    assert task.assignee_id == fresh.user_id


def test_no_eligible_member_leaves_the_task_unassigned_with_the_reason():
    member(is_active=False)
    task = TaskFactory.create()

    decision = assign_task(task=task)

    task.refresh_from_db()
    assert task.assignee is None
    assert "no eligible TAE in Europe & Africa" in task.unassigned_reason
    assert "inactive" in task.unassigned_reason
    assert decision.assignee is None
    assert TaskEvent.objects.get(task=task, kind=TaskEventKind.UNASSIGNED)
    task.account.refresh_from_db()
    assert task.account.owner is None


def test_territory_and_role_must_match():
    member(role=TrackerRole.TAM)
    member(territories=[territory("us-west")])
    task = TaskFactory.create()

    decision = assign_task(task=task)

    assert task.assignee_id is None
    reasons = sorted(row["reason"] for row in decision.pool)
    assert reasons == ["not in this territory", "wrong role (TAM)"]


def test_explanation_names_territory_role_load_and_pool_size():
    member(leads_this_month=12)
    member(leads_this_month=14)
    member(leads_this_month=13, priority=1)
    member(is_active=False)
    task = TaskFactory.create()

    decision = assign_task(task=task)

    assert (
        decision.explanation == "round robin, Europe & Africa, TAE: load 12 × 1 lowest of 3 active"
    )
    outcomes = Counter(row["reason"].split(" (")[0] for row in decision.pool)
    assert outcomes == Counter({"lowest load": 1, "higher load": 2, "inactive": 1})


def test_every_assignment_is_a_ledger_event_and_counters_reconcile():
    member(priority=2)
    member()

    _assign_many(9)

    assert RoundRobinEvent.objects.filter(kind=LedgerKind.ASSIGNMENT).count() == 9
    assert reconcile_counters() == []


def test_product_led_leads_skip_a_tam_whose_book_is_full():
    full = member(role=TrackerRole.TAM)
    AccountFactory.create_batch(15, owner=full.user, owner_role="TAM", am_managed=True)
    free = member(role=TrackerRole.TAM, leads_this_month=4)
    task = TaskFactory.create(lead_type=LeadType.PRODUCT_LED)

    decision = assign_task(task=task)

    assert task.assignee_id == free.user_id
    skipped = next(row for row in decision.pool if row["member_id"] == full.pk)
    assert skipped["reason"] == "Book full: 15 AM-managed accounts (limit 15)."


def test_a_full_book_is_judged_on_the_day_of_the_assignment():
    full = member(role=TrackerRole.TAM)
    account = AccountFactory.create(owner=full.user, owner_role="TAM", am_managed=True)
    series(account, [130_000] * 3)  # January to March 2026: $1.56m ARR, then nothing
    free = member(role=TrackerRole.TAM, leads_this_month=4)
    task = TaskFactory.create(lead_type=LeadType.PRODUCT_LED)

    assign_task(task=task, now=dt.datetime(2026, 4, 15, 12, tzinfo=dt.UTC))

    assert task.assignee_id == free.user_id


def test_assigning_an_assigned_task_again_changes_nothing():
    member()
    task = TaskFactory.create()
    assign_task(task=task)

    assign_task(task=task)

    assert RoundRobinEvent.objects.count() == 1


# Also in the smoke suite (the quick start on a fresh embedded PostgreSQL): the
# quick start must survive a month boundary.
@pytest.mark.smoke
def test_new_month_counts_start_from_zero_before_the_reset_job_ran():
    with time_machine.travel(dt.datetime(2026, 3, 31, 12, tzinfo=dt.UTC)):
        first = member()
        second = member(leads_this_month=0)
        _assign_many(4)
    with time_machine.travel(dt.datetime(2026, 4, 1, 9, tzinfo=dt.UTC)):
        task = TaskFactory.create()
        assign_task(task=task)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.period == dt.date(2026, 4, 1)
    assert first.leads_this_month + second.leads_this_month == 1
    assert reconcile_counters() == []


def test_reassignment_never_picks_the_current_assignee_and_moves_the_account():
    first = member()
    second = member(leads_this_month=10)
    task = TaskFactory.create()
    assign_task(task=task)
    assert task.assignee_id == first.user_id

    reassign_task(task=task, reason="untouched for 10 days")

    task.refresh_from_db()
    task.account.refresh_from_db()
    assert task.assignee_id == second.user_id
    assert task.reassignment_count == 1
    assert task.account.owner_id == second.user_id
    second.refresh_from_db()
    assert second.leads_this_month == 11
    assert RoundRobinEvent.objects.filter(kind=LedgerKind.REASSIGNMENT).count() == 1


def test_a_pool_rows_sort_key_and_explanation_row_follow_its_state():
    # Candidates from the same rows are made once per state in the process
    # (round_robin._row_state): a row whose count or last assignment changed
    # must not come back with the old ones.
    picked = member(leads_this_month=2, priority=2)
    today = timezone.localdate()
    with transaction.atomic():
        pool = lock_pool(territory=territory(), role=TrackerRole.TAE, today=today)
    before = build_candidates(
        pool=pool, role=TrackerRole.TAE, lead_type=LeadType.NEW_BUSINESS, today=today
    )[0]
    row = pool.rows[0]
    row["leads_this_month"] = 5
    row["last_assigned_at"] = "2026-11-30T09:00:00.5+00:00"

    after = build_candidates(
        pool=pool, role=TrackerRole.TAE, lead_type=LeadType.NEW_BUSINESS, today=today
    )[0]

    fresh = Candidate(
        member_id=picked.pk,
        name=picked.user.name,
        leads=5,
        adjustment=0,
        priority=2,
        last_assigned_at=dt.datetime(2026, 11, 30, 9, 0, 0, 500000, tzinfo=dt.UTC),
    )
    assert (after.sort_key(), after.pool_row()) == (fresh.sort_key(), fresh.pool_row())
    assert after.last_assigned_at == fresh.last_assigned_at
    assert before.sort_key()[0] == 4
    assert after.sort_key()[0] == 10
