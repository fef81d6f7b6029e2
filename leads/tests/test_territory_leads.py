"""The tracker's per-territory lead counters (``TerritoryLeads``), kept by the ledger's
trigger: equal to what the ledger's lead events add up to, whatever writes them, and
read by the tracker instead of the events."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.demo import truncate
from accounts.models import Account
from accounts.tests.factories import AccountFactory
from leads.assignment import assign_task
from leads.ledger import open_period, reconcile_counters, undo_assignment
from leads.models import LedgerKind, RoundRobinEvent, TerritoryLeads
from leads.stale import process_stale_tasks
from leads.tests.factories import TaskFactory, member, territory
from leads.tracker import territory_leads, tracker_rows

pytestmark = pytest.mark.django_db

MARCH = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 11, 20, 14, 0, tzinfo=dt.UTC)
APRIL = dt.datetime(2026, 4, 10, 12, tzinfo=dt.UTC)


def _assign_in(slug: str) -> RoundRobinEvent:
    account = AccountFactory.create(territory=territory(slug))
    task = TaskFactory.create(account=account)
    assign_task(task=task)
    return RoundRobinEvent.objects.get(task=task, kind=LedgerKind.ASSIGNMENT)


def _counters() -> dict[tuple[int, str, dt.date], int]:
    return {
        (member_id, slug, period): leads
        for member_id, slug, period, leads in TerritoryLeads.objects.values_list(
            "member_id", "territory__slug", "period", "leads"
        )
    }


def test_counters_add_assignments_and_undos_per_territory_and_period():
    europe, anz = territory("europe-africa"), territory("australia-new-zealand")
    with time_machine.travel(MARCH):
        both = member(territories=[europe, anz])
        first, *_ = (_assign_in("australia-new-zealand") for _ in range(3))
        _assign_in("europe-africa")
        undo_assignment(event=first, author=None, reason="wrong territory")
    with time_machine.travel(APRIL):
        open_period(period=dt.date(2026, 4, 1))
        _assign_in("europe-africa")

    assert _counters() == {
        (both.pk, "australia-new-zealand", dt.date(2026, 3, 1)): 2,
        (both.pk, "europe-africa", dt.date(2026, 3, 1)): 1,
        (both.pk, "europe-africa", dt.date(2026, 4, 1)): 1,
    }
    # The tracker shows the member's open period only: April's one lead in Europe.
    with time_machine.travel(APRIL):
        assert territory_leads(territory=europe) == {both.pk: 1}
        assert territory_leads(territory=anz) == {}


def test_reconcile_reports_a_counter_the_ledger_does_not_add_up_to():
    someone = member(territories=[territory("us-west")])
    _assign_in("us-west")
    assert reconcile_counters() == []

    TerritoryLeads.objects.filter(member=someone).update(leads=5)

    (problem,) = reconcile_counters()
    assert f"member {someone.pk} in territory" in problem
    assert "counted 5, ledger 1" in problem


def test_emptying_the_ledger_empties_the_counters():
    member(territories=[territory("us-west")])
    _assign_in("us-west")
    assert TerritoryLeads.objects.exists()

    # A demo reseed: accounts, and with them tasks and their ledger events.
    truncate(Account)

    assert not TerritoryLeads.objects.exists()


def test_the_tracker_reads_the_counters_not_the_ledgers_lead_events():
    here = territory("us-west")
    someone = member(territories=[here])
    _assign_in("us-west")

    with CaptureQueriesContext(connection) as issued:
        rows = tracker_rows(territory=here, territories=[here])

    assert [(row.member_id, row.leads_here) for row in rows] == [(someone.pk, 1)]
    assert not [q for q in issued if "leads_roundrobinevent" in q["sql"]]


def test_the_stale_sweeps_set_based_reassignments_are_counted():
    west = territory("us-west")
    stuck = member(territories=[west])
    light, heavy = member(territories=[west]), member(territories=[west], priority=2)
    untouched = NOW - dt.timedelta(days=15)
    for _ in range(6):
        TaskFactory.create(
            territory=west,
            assignee=stuck.user,
            assigned_at=untouched,
            last_touched_at=untouched,
            created_at=untouched,
        )

    process_stale_tasks(now=NOW)

    # Priority 2 receives one lead for every two of priority 1 (as test_stale shows).
    period = light.period
    assert _counters() == {
        (light.pk, "us-west", period): 4,
        (heavy.pk, "us-west", period): 2,
    }
    assert reconcile_counters() == []


STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("assign"), st.sampled_from(["us-west", "europe-africa"])),
        st.tuples(st.just("undo"), st.integers(0, 50)),
        st.tuples(st.just("next month"), st.just("")),
    ),
    min_size=1,
    max_size=14,
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
def test_counters_equal_the_ledger_after_any_sequence(steps):
    # The oracle is the ledger itself, summed per (member, task's territory, period)
    # by reconcile_counters; the counters are only ever written by the trigger.
    # Examples share the test's transaction: members and events of earlier ones stay,
    # which only gives the later ones more to add up.
    now = MARCH
    with time_machine.travel(now):
        west, europe = territory("us-west"), territory("europe-africa")
        member(territories=[west, europe])
        member(territories=[west])
    assigned: list[RoundRobinEvent] = []
    for kind, arg in steps:
        with time_machine.travel(now):
            if kind == "assign":
                assigned.append(_assign_in(arg))
            elif kind == "undo" and assigned:
                event = assigned.pop(arg % len(assigned))
                undo_assignment(event=event, author=None, reason="wrong")
            elif kind == "next month":
                now = (now.replace(day=1) + dt.timedelta(days=32)).replace(day=10)
                with time_machine.travel(now):
                    open_period(period=now.date().replace(day=1))

    assert reconcile_counters() == []
