from __future__ import annotations

import datetime as dt
import random

import pytest

from accounts.models import OwnershipChange
from accounts.roles import Role
from accounts.tests.factories import AccountFactory, tam, user_with_role
from leads.demo_tasks import reset_tasks, seed_tasks
from leads.ledger import reconcile_counters
from leads.models import RoundRobinEvent, Task, TaskEvent, TaskEventKind, TaskStatus, TrackerMember
from leads.tests.factories import territory

pytestmark = pytest.mark.django_db


def _company():
    owner = tam()
    for _ in range(3):
        user_with_role(Role.TAE, region="EU")
    user_with_role(Role.ONBOARDING, region="US")
    AccountFactory.create_batch(30, owner=owner, owner_role="TAM", territory=territory())
    AccountFactory.create_batch(30, territory=territory())
    AccountFactory.create_batch(5, territory=territory("territory-3"))


def test_demo_tasks_follow_the_rules_and_reconcile():
    _company()

    made = seed_tasks(rng=random.Random(1), today=dt.date(2026, 11, 23))

    assert made == Task.objects.count() == 40
    assert TrackerMember.objects.count() == 5
    assert reconcile_counters() == []
    assigned_by_robin = RoundRobinEvent.objects.count()
    assert assigned_by_robin > 0
    assert OwnershipChange.objects.filter(source="round robin").count() <= assigned_by_robin
    for task in Task.objects.filter(assignee__isnull=False).select_related("account"):
        assert task.account.owner_id == task.assignee_id or task.lead_type == "onboarding"


def test_demo_task_histories_say_who_was_assigned_as_the_app_does():
    _company()
    # Owned since a day of the earlier months: the history's leads for the owner.
    AccountFactory.create_batch(
        5, owner=tam(), owner_role="TAM", owner_since=dt.date(2026, 8, 10), territory=territory()
    )
    seed_tasks(rng=random.Random(1), today=dt.date(2026, 11, 23))

    assigned = TaskEvent.objects.filter(kind=TaskEventKind.ASSIGNED).select_related("assignee")
    # Both the open tasks and the earlier months' closed ones.
    assert assigned.filter(task__status=TaskStatus.DISQUALIFIED).exists()
    assert assigned.exclude(task__status=TaskStatus.DISQUALIFIED).exists()
    for event in assigned:
        assert event.assignee is not None
        assert (event.summary, event.new_value) == (
            f"Assigned to {event.assignee.name}",
            str(event.assignee),
        )


def test_demo_tasks_reset_cleanly():
    _company()
    seed_tasks(rng=random.Random(7), today=dt.date(2026, 11, 23))

    reset_tasks()

    assert not Task.objects.exists()
    assert not TrackerMember.objects.exists()
    assert not RoundRobinEvent.objects.exists()
