"""The stale job decides as the live round robin does, task after task.

The job keeps a batch's candidates for the whole batch and calls the round
robin's ``pick_next``, ``explain_pool_json`` and ``explain_pick`` on them,
passing the current assignee over in place and counting each pick in place
(sort keys and pool rows cached on the candidates). The reference here is the
public live path instead: for each stale task in id order, a fresh
``decide_round_robin`` locks and reads the pool from the database with the
current assignee excluded, and the pick is counted as the sequential rule says
(one lead more, last assignment one microsecond after the previous one). So
the batching, the sharing of members between pools, the caching and the
writes are held to the rule, not to a copy of themselves.

Drawn by hypothesis: members of two roles in one or both of two territories,
loads with ties, never assigned, inactive, login switched off, on time off;
stale tasks in either territory and of either lead type, with any member (or
someone outside the round robin) as the current assignee; batch sizes that
split the run.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest
from django.db import transaction
from django.db.models import F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import AccountFactory, UserFactory, user_with_role
from leads.models import LeadType, Task, TimeOff, TrackerMember, TrackerRole
from leads.round_robin import (
    Candidate,
    decide_round_robin,
    explain_pool,
    explain_pool_json,
    passing_over,
    pick_next,
)
from leads.stale import process_stale_tasks, stale_reason
from leads.tests.factories import ROLE_GROUP, TaskFactory, member, territory
from revopsweb.dates import company_today, month_start

NOW = dt.datetime(2026, 11, 20, 14, 0, tzinfo=dt.UTC)
TODAY = company_today(now=NOW)
SLUGS = ("us-east", "europe-africa")
NAMES = ("Ana", "Bo", "Çelik “CJ”", "")

MEMBERS = st.lists(
    st.fixed_dictionaries(
        {
            "role": st.sampled_from([TrackerRole.TAE, TrackerRole.TAE, TrackerRole.TAM]),
            "territories": st.sampled_from([(0,), (1,), (0, 1)]),
            "leads": st.integers(0, 4),
            "adjustment": st.integers(-2, 3),
            "priority": st.integers(1, 3),
            "hours_ago": st.none() | st.integers(0, 5),
            "state": st.sampled_from(["active"] * 4 + ["inactive", "login off", "time off"]),
            "name": st.sampled_from(NAMES),
        }
    ),
    min_size=1,
    max_size=7,
)
TASKS = st.lists(
    st.fixed_dictionaries(
        {
            "territory": st.integers(0, 1),
            "product_led": st.booleans(),
            # An index into the members; past the end, someone outside the round robin.
            "assignee": st.integers(0, 7),
        }
    ),
    min_size=1,
    max_size=10,
)


def _build(members: list[dict[str, Any]], tasks: list[dict[str, Any]]) -> list[Task]:
    places = [territory(slug) for slug in SLUGS]
    users = []
    for spec in members:
        user = user_with_role(
            ROLE_GROUP[spec["role"]], name=spec["name"], is_active=spec["state"] != "login off"
        )
        hours = spec["hours_ago"]
        row = member(
            user=user,
            role=spec["role"],
            territories=[places[i] for i in spec["territories"]],
            leads_this_month=spec["leads"],
            manual_adjustment=spec["adjustment"],
            priority=spec["priority"],
            last_assigned_at=None if hours is None else NOW - dt.timedelta(hours=hours),
            is_active=spec["state"] != "inactive",
            period=month_start(TODAY),
        )
        if spec["state"] == "time off":
            TimeOff.objects.create(member=row, starts_on=TODAY, ends_on=TODAY + dt.timedelta(2))
        users.append(user)
    outsider = UserFactory.create(name="Outside the round robin")
    # Unowned accounts: nothing moves with the tasks (test_stale covers that).
    accounts = [AccountFactory.create(territory=place) for place in places]
    at = NOW - dt.timedelta(days=11)
    created = []
    for spec in tasks:
        place = places[spec["territory"]]
        created.append(
            TaskFactory.create(
                account=accounts[spec["territory"]],
                territory=place,
                lead_type=LeadType.PRODUCT_LED if spec["product_led"] else LeadType.NEW_BUSINESS,
                assignee=users[spec["assignee"]] if spec["assignee"] < len(users) else outsider,
                assigned_at=at,
                last_touched_at=at,
                created_at=at,
            )
        )
    return created


def _members() -> list[tuple[int, int, dt.datetime | None]]:
    return sorted(TrackerMember.objects.values_list("pk", "leads_this_month", "last_assigned_at"))


def _live_round_robin(tasks: list[Task]) -> tuple[dict[int, Any], list[Any]]:
    """Each task's decision by the live path, in id order, each pick counted; rolled back."""
    expected: dict[int, Any] = {}
    with transaction.atomic():
        picks = 0
        for task in sorted(tasks, key=lambda t: t.pk):
            assert task.territory is not None
            assert task.assignee_id is not None
            chosen, decision = decide_round_robin(
                territory=task.territory,
                lead_type=task.lead_type,
                today=TODAY,
                exclude_user_ids=[task.assignee_id],
            )
            if chosen is None:
                expected[task.pk] = None
                continue
            picks += 1
            TrackerMember.objects.filter(pk=chosen.pk).update(
                leads_this_month=F("leads_this_month") + 1,
                last_assigned_at=NOW + dt.timedelta(microseconds=picks),
            )
            # The stale job shows the pool itself, not the members outside it.
            pool = [row for row in decision.pool if "load" in row]
            expected[task.pk] = (chosen.user_id, decision.explanation, pool)
        members = _members()
        transaction.set_rollback(True)
    return expected, members


@pytest.mark.django_db
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(members=MEMBERS, tasks=TASKS, batch_size=st.integers(1, 6))
def test_each_stale_decision_is_the_live_round_robins(members, tasks, batch_size):
    with transaction.atomic():
        created = _build(members, tasks)
        expected, members_after = _live_round_robin(created)

        process_stale_tasks(now=NOW, batch_size=batch_size)

        why = f"reassigned ({stale_reason(10)}): "
        for task in created:
            before = task.assignee_id
            task.refresh_from_db()
            if expected[task.pk] is None:
                assert (task.assignee_id, task.reassignment_count) == (before, 0)
                continue
            assignee, explanation, pool = expected[task.pk]
            assert (task.assignee_id, task.explanation, task.pool) == (
                assignee,
                why + explanation,
                pool,
            )
        assert _members() == members_after
        transaction.set_rollback(True)


# --- The cache on a candidate is invisible ------------------------------------

CANDIDATES: st.SearchStrategy[list[dict[str, Any]]] = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.sampled_from(NAMES),
            "leads": st.integers(0, 4),
            "adjustment": st.integers(-2, 3),
            "priority": st.integers(1, 3),
            "last_assigned_at": st.none()
            | st.integers(0, 5).map(lambda h: NOW - dt.timedelta(hours=h)),
            "skip_reason": st.sampled_from(["", "", "", "on time off", "inactive"]),
        }
    ),
    min_size=1,
    max_size=7,
)


def _fresh(candidates: list[Candidate]) -> list[Candidate]:
    """New candidates with the same state and nothing cached."""
    return [
        Candidate(
            member_id=c.member_id,
            name=c.name,
            leads=c.leads,
            adjustment=c.adjustment,
            priority=c.priority,
            last_assigned_at=c.last_assigned_at,
            user_id=c.user_id,
            skip_reason=c.skip_reason,
        )
        for c in candidates
    ]


@settings(max_examples=300, deadline=None)
@given(drawn=CANDIDATES, away=st.lists(st.integers(99, 107), min_size=1, max_size=25))
def test_candidates_kept_across_picks_decide_as_fresh_ones(drawn, away):
    kept = [Candidate(member_id=10 + i, user_id=100 + i, **c) for i, c in enumerate(drawn)]
    skips = [c.skip_reason for c in kept]
    for step, user_id in enumerate(away, start=1):
        fresh = _fresh(kept)
        for c in fresh:
            if c.user_id == user_id:
                c.skip_reason = "current assignee (reassigning away)"
        expected = pick_next(fresh)
        with passing_over(kept, user_id=user_id):
            chosen = pick_next(kept)
            assert (chosen and chosen.member_id) == (expected and expected.member_id)
            assert json.loads(explain_pool_json(candidates=kept, chosen=chosen)) == explain_pool(
                candidates=fresh, chosen=expected, others=()
            )
        if chosen is not None:
            chosen.leads += 1
            chosen.last_assigned_at = NOW + dt.timedelta(microseconds=step)
    assert [c.skip_reason for c in kept] == skips
    assert [c.sort_key() for c in kept] == [c.sort_key() for c in _fresh(copy.deepcopy(kept))]
