"""The round robin under real concurrency: threads with their own PostgreSQL connections."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.db import connection

from accounts.models import Account, OwnershipChange
from leads.intake import Lead, intake_task
from leads.ledger import reconcile_counters
from leads.models import LedgerKind, RoundRobinEvent, Task, TaskSource
from leads.tests.factories import member

pytestmark = pytest.mark.django_db(transaction=True)


def _run_together(work: list[Callable[[], Any]]) -> list[BaseException]:
    """Start every callable at the same moment, each thread on its own connection."""
    barrier = threading.Barrier(len(work))
    errors: list[BaseException] = []

    def run(job: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            job()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def _lead(n: int, domain: str | None = None) -> Lead:
    domain = domain or f"company{n}.example.de"
    return Lead(name=f"Person {n}", email=f"p{n}@{domain}", company=f"Company {n}", country="DE")


def _intake(n: int, domain: str | None = None) -> None:
    intake_task(lead=_lead(n, domain), source=TaskSource.CONTACT_FORM)


def test_fifty_one_tasks_at_once_are_each_assigned_once_and_split_by_the_rule():
    # revops/lead-assignment-tracker: priority N gets one lead for every N the
    # priority-1 colleagues get. Load = leads × priority, so with priorities
    # 1, 1, 3, 2 every load reaches 18 together after 18 + 18 + 6 + 9 = 51
    # leads; nobody passes 18 before all are there, so this split does not
    # depend on the order in which ties were broken.
    members = [member(priority=1), member(priority=1), member(priority=3), member(priority=2)]

    errors = _run_together([partial(_intake, n) for n in range(51)])

    assert errors == []
    assert Task.objects.count() == 51
    assert Task.objects.filter(assignee__isnull=True).count() == 0
    events = RoundRobinEvent.objects.filter(kind=LedgerKind.ASSIGNMENT)
    assert events.count() == 51
    assert events.values("task").distinct().count() == 51
    assert reconcile_counters() == []
    for m in members:
        m.refresh_from_db()
    assert [m.leads_this_month for m in members] == [18, 18, 6, 9]


def test_two_tasks_for_the_same_new_account_arriving_together_end_with_one_owner():
    member()
    member()

    errors = _run_together([partial(_intake, n, "same.example.de") for n in range(2)])

    assert errors == []
    account = Account.objects.get()
    assert account.owner is not None
    assert set(Task.objects.values_list("assignee", flat=True)) == {account.owner_id}
    assert OwnershipChange.objects.count() == 1
    assert RoundRobinEvent.objects.count() == 1
