"""The stale-task job: reassign once via the round robin, then autoclose."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import transaction

from accounts.models import Account, OwnerRole, OwnershipChange
from accounts.tests.factories import AccountFactory, tam
from leads import stale
from leads.assignment import assign_task
from leads.ledger import reconcile_counters
from leads.models import (
    DisqualificationReason,
    LeadType,
    LedgerKind,
    RoundRobinEvent,
    Task,
    TaskEvent,
    TaskEventKind,
    TaskStatus,
    TrackerMember,
    TrackerRole,
)
from leads.stale import process_stale_tasks
from leads.tests.factories import TaskFactory, member, territory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 14, 0, tzinfo=dt.UTC)


def _task(owner: TrackerMember, *, untouched_days: float, **kwargs: Any) -> Task:
    """A task assigned to ``owner``'s user, last touched ``untouched_days`` before NOW."""
    at = NOW - dt.timedelta(days=untouched_days)
    return TaskFactory.create(
        assignee=owner.user, assigned_at=at, last_touched_at=at, created_at=at, **kwargs
    )


def _state() -> dict[str, Any]:
    return {
        "tasks": sorted(
            Task.objects.values_list(
                "pk", "assignee_id", "status", "reassignment_count", "disqualification_reason"
            )
        ),
        "members": sorted(
            TrackerMember.objects.values_list("pk", "leads_this_month", "last_assigned_at")
        ),
        "ledger": RoundRobinEvent.objects.count(),
        "history": TaskEvent.objects.count(),
        "owners": OwnershipChange.objects.count(),
    }


@pytest.mark.parametrize(
    ("untouched_days", "reassigned"), [(9, False), (9.99, False), (10, True), (11, True)]
)
def test_a_task_is_reassigned_from_ten_untouched_days(untouched_days, reassigned):
    first = member()
    second = member()
    task = _task(first, untouched_days=untouched_days)

    result = process_stale_tasks(now=NOW)

    task.refresh_from_db()
    assert (task.assignee_id == second.user_id) is reassigned
    assert task.reassignment_count == int(reassigned)
    assert result.reassigned == int(reassigned)


def test_the_threshold_is_the_stale_task_days_setting(settings):
    settings.STALE_TASK_DAYS = 7
    first = member()
    member()
    task = _task(first, untouched_days=7)

    process_stale_tasks(now=NOW)

    task.refresh_from_db()
    assert task.assignee_id != first.user_id


def test_reassignment_never_goes_to_the_current_assignee_even_with_the_lowest_load():
    first = member(leads_this_month=0)
    second = member(leads_this_month=40)
    task = _task(first, untouched_days=12)

    process_stale_tasks(now=NOW)

    task.refresh_from_db()
    assert task.assignee_id == second.user_id
    assert "current assignee" in str(task.pool)
    assert task.explanation.startswith("reassigned (untouched for 10 days): round robin")


def test_with_nobody_else_eligible_the_task_keeps_its_assignee():
    only = member()
    member(is_active=False)
    task = _task(only, untouched_days=12)

    result = process_stale_tasks(now=NOW)

    task.refresh_from_db()
    assert task.assignee_id == only.user_id
    assert task.reassignment_count == 0
    assert result.left == 1
    assert "no other eligible TAE" in result.left_reasons[task.pk]


def test_reassignments_follow_the_weighted_round_robin_and_the_ledger():
    stuck = member()
    light = member(priority=1)
    heavy = member(priority=2)
    for _ in range(30):
        _task(stuck, untouched_days=15)

    process_stale_tasks(now=NOW, batch_size=7)

    light.refresh_from_db()
    heavy.refresh_from_db()
    # Priority 2 gets one lead for every two of priority 1, across batches.
    assert (light.leads_this_month, heavy.leads_this_month) == (20, 10)
    assert RoundRobinEvent.objects.filter(kind=LedgerKind.REASSIGNMENT).count() == 30
    assert reconcile_counters() == []


def test_reassignment_is_recorded_in_the_task_history_with_the_explanation():
    first = member()
    second = member()
    task = _task(first, untouched_days=10)

    process_stale_tasks(now=NOW)

    event = TaskEvent.objects.get(task=task, kind=TaskEventKind.REASSIGNED)
    assert event.actor is None
    assert event.assignee_id == second.user_id
    assert event.old_value == first.user.name
    assert "untouched for 10 days" in event.reason
    assert "Europe & Africa" in event.reason


def test_a_task_still_untouched_after_its_reassignment_is_autoclosed_as_stale():
    first = member()
    second = member()
    task = _task(first, untouched_days=10)
    process_stale_tasks(now=NOW)

    result = process_stale_tasks(now=NOW + dt.timedelta(days=10))

    task.refresh_from_db()
    assert task.status == TaskStatus.DISQUALIFIED
    assert task.disqualification_reason == DisqualificationReason.STALE_AUTOCLOSED
    assert task.get_disqualification_reason_display() == "Stale – Autoclosed"
    assert task.assignee_id == second.user_id
    assert result.autoclosed == 1
    kinds = list(TaskEvent.objects.filter(task=task).values_list("kind", flat=True))
    assert kinds == [TaskEventKind.DISQUALIFIED, TaskEventKind.REASSIGNED]
    closing = TaskEvent.objects.get(task=task, kind=TaskEventKind.DISQUALIFIED)
    assert "after its stale reassignment" in closing.reason


def test_a_reassigned_task_is_not_autoclosed_before_ten_more_untouched_days():
    first = member()
    member()
    task = _task(first, untouched_days=10)
    process_stale_tasks(now=NOW)

    process_stale_tasks(now=NOW + dt.timedelta(days=9))

    task.refresh_from_db()
    assert task.status == TaskStatus.NEW


def test_a_task_touched_after_its_reassignment_is_not_autoclosed():
    first = member()
    member()
    task = _task(first, untouched_days=10)
    process_stale_tasks(now=NOW)
    Task.objects.filter(pk=task.pk).update(last_touched_at=NOW + dt.timedelta(days=4))

    process_stale_tasks(now=NOW + dt.timedelta(days=10))

    task.refresh_from_db()
    assert task.status == TaskStatus.NEW


def test_a_recently_touched_task_is_skipped_however_old_its_assignment():
    first = member()
    member()
    task = _task(first, untouched_days=30)
    Task.objects.filter(pk=task.pk).update(last_touched_at=NOW - dt.timedelta(days=2))

    process_stale_tasks(now=NOW)

    task.refresh_from_db()
    assert task.assignee_id == first.user_id
    assert task.reassignment_count == 0


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (TaskStatus.NURTURING, ""),
        (TaskStatus.CONVERTED, ""),
        (TaskStatus.DISQUALIFIED, DisqualificationReason.SPAM),
    ],
)
@pytest.mark.parametrize("reassignments", [0, 1])
def test_nurturing_converted_and_disqualified_tasks_are_never_touched(
    status, reason, reassignments
):
    first = member()
    member()
    task = _task(
        first,
        untouched_days=40,
        status=status,
        disqualification_reason=reason,
        reassignment_count=reassignments,
    )

    result = process_stale_tasks(now=NOW)

    task.refresh_from_db()
    assert (task.assignee_id, task.status, task.reassignment_count) == (
        first.user_id,
        status,
        reassignments,
    )
    assert result.rows == 0
    assert not TaskEvent.objects.filter(task=task).exists()


def test_an_account_unowned_before_the_first_assignment_follows_the_task():
    first = member()
    second = member(leads_this_month=5)
    task = TaskFactory.create(account=AccountFactory.create(territory=territory()))
    with time_machine.travel(NOW - dt.timedelta(days=11)):
        assign_task(task=task)
    task.account.refresh_from_db()
    assert task.account.owner_id == first.user_id

    process_stale_tasks(now=NOW)

    task.refresh_from_db()
    task.account.refresh_from_db()
    assert task.assignee_id == second.user_id
    assert task.account.owner_id == second.user_id
    change = OwnershipChange.objects.filter(account=task.account).first()
    assert change is not None
    assert change.previous_owner_id == first.user_id
    assert change.reason.startswith(f"Round robin with task {task.pk}: reassigned (untouched")
    assert change.task_id == task.pk


def test_the_account_follows_the_task_recorded_on_its_ownership_not_the_reason_text():
    stuck = member()
    member()
    linked = _task(stuck, untouched_days=11, account=AccountFactory.create(territory=territory()))
    texted = _task(stuck, untouched_days=11, account=AccountFactory.create(territory=territory()))
    for task, cause in ((linked, linked), (texted, None)):
        OwnershipChange.objects.create(
            account=task.account,
            new_owner=stuck.user,
            new_owner_role=OwnerRole.TAE,
            at=NOW,
            effective_on=NOW.date(),
            # The linked one says nothing about a task; the other only says it.
            reason="given with its first lead" if cause else f"Round robin with task {task.pk}: x",
            source="round robin",
            task=cause,
        )
        Account.objects.filter(pk=task.account_id).update(
            owner=stuck.user, owner_role=OwnerRole.TAE
        )

    process_stale_tasks(now=NOW)

    linked.account.refresh_from_db()
    texted.account.refresh_from_db()
    assert linked.account.owner_id != stuck.user_id
    assert texted.account.owner_id == stuck.user_id


def test_an_account_owned_before_the_first_assignment_keeps_its_owner():
    first = member()
    second = member()
    account = AccountFactory.create(
        territory=territory(), owner=first.user, owner_role=OwnerRole.TAE
    )
    task = TaskFactory.create(account=account)
    with time_machine.travel(NOW - dt.timedelta(days=11)):
        assign_task(task=task)
    assert task.explanation.startswith("account owner")

    process_stale_tasks(now=NOW)

    task.refresh_from_db()
    account.refresh_from_db()
    # The owner rule does not apply: the task goes to the round robin...
    assert task.assignee_id == second.user_id
    # ...and the account stays with its owner.
    assert account.owner_id == first.user_id
    assert not OwnershipChange.objects.filter(account=account).exists()


def test_running_twice_changes_nothing_the_second_time():
    first = member()
    member()
    for days in (5, 10, 12, 30):
        _task(first, untouched_days=days)
    second_time_stale = _task(first, untouched_days=20, reassignment_count=1)
    process_stale_tasks(now=NOW)
    after_first = _state()

    result = process_stale_tasks(now=NOW)

    assert result.rows == 0
    assert _state() == after_first
    second_time_stale.refresh_from_db()
    assert second_time_stale.status == TaskStatus.DISQUALIFIED


def _scenario(size: int) -> None:
    """``size`` stale tasks of each shape: TAE, product-led TAM, account following."""
    stuck = member()
    member()
    stuck_tam = member(role=TrackerRole.TAM, user=tam())
    member(role=TrackerRole.TAM, user=tam())
    for _ in range(size):
        _task(stuck, untouched_days=11)
        _task(stuck, untouched_days=25, reassignment_count=1)
        _task(stuck_tam, untouched_days=11, lead_type=LeadType.PRODUCT_LED)
        account = AccountFactory.create(
            territory=territory(), owner=stuck.user, owner_role=OwnerRole.TAE
        )
        moving = _task(stuck, untouched_days=11, account=account)
        OwnershipChange.objects.create(
            account=account,
            new_owner=stuck.user,
            at=NOW,
            effective_on=NOW.date(),
            reason=f"Round robin with task {moving.pk}: round robin",
            source="round robin",
            task=moving,
        )


# Territories; the autoclose statement; one reassignment batch of at most
# stale.BATCH_QUERIES statements. Each batch is a transaction: inside the
# test's transaction that is a SAVEPOINT and a RELEASE around each.
QUERY_BUDGET = 1 + (1 + 2) + (stale.BATCH_QUERIES + 2)


@pytest.mark.parametrize("size", [3, 30])
def test_the_job_issues_a_bounded_number_of_queries_whatever_the_task_count(
    size, django_assert_max_num_queries
):
    _scenario(size)

    with django_assert_max_num_queries(QUERY_BUDGET):
        result = process_stale_tasks(now=NOW)

    assert (result.reassigned, result.autoclosed) == (3 * size, size)
    assert OwnershipChange.objects.filter(source="round robin").count() == 2 * size
    assert reconcile_counters() == []


def test_a_run_killed_after_its_first_batch_finishes_the_same_when_run_again(monkeypatch):
    stuck = member()
    member(priority=1)
    member(priority=3)
    member(priority=2)
    for days in range(10, 35):
        _task(stuck, untouched_days=days)

    with transaction.atomic():
        process_stale_tasks(now=NOW, batch_size=4)
        uninterrupted = _state()
        transaction.set_rollback(True)

    real_batch = stale._reassign_batch
    calls = {"n": 0}

    def dies_after_first_batch(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("worker killed")
        return real_batch(**kwargs)

    monkeypatch.setattr(stale, "_reassign_batch", dies_after_first_batch)
    with pytest.raises(SystemExit):
        process_stale_tasks(now=NOW, batch_size=4)
    assert Task.objects.filter(reassignment_count=1).count() == 4
    monkeypatch.setattr(stale, "_reassign_batch", real_batch)

    process_stale_tasks(now=NOW, batch_size=4)

    assert _state() == uninterrupted
    assert reconcile_counters() == []


def test_a_stale_run_before_the_monthly_reset_counts_in_the_new_month():
    october = dt.date(2026, 10, 1)
    first = member(period=october)
    second = member(period=october)
    task = _task(first, untouched_days=12)

    process_stale_tasks(now=NOW)

    second.refresh_from_db()
    task.refresh_from_db()
    assert task.assignee_id == second.user_id
    assert (second.period, second.leads_this_month) == (NOW.date().replace(day=1), 1)
    event = RoundRobinEvent.objects.get(kind=LedgerKind.REASSIGNMENT)
    assert event.period == dt.date(2026, 11, 1)
    assert reconcile_counters() == []
