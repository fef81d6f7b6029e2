"""Back from time off and joining mid-month: level with the colleagues present,
at one's own rate (issue 16 §5, revops/lead-assignment-tracker)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from accounts.tests.factories import UserFactory, team_lead
from leads.assignment import assign_task
from leads.ledger import reconcile_counters
from leads.models import LedgerKind, RoundRobinEvent, TimeOff, TrackerMember, TrackerRole
from leads.tests.factories import TaskFactory, member, territory
from leads.time_off import apply_time_off
from leads.tracker import add_member, level_count, prefill_adjustment

pytestmark = pytest.mark.django_db

# Noon UTC is the same day in the company's time zone (America/New_York).
NOV_20 = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)


def _assign(n: int) -> list[int]:
    """Assign ``n`` new tasks; the assignee ids in order (0: left unassigned)."""
    got: list[int] = []
    for _ in range(n):
        task = TaskFactory.create()
        assign_task(task=task)
        got.append(task.assignee_id or 0)
    return got


def test_away_over_the_first_returns_level_with_this_months_two_not_twelve():
    with time_machine.travel(NOV_20, tick=False):
        away = member()
        c1, c2 = member(), member()
        # 23 Nov – 4 Dec: more than five days, so off from 21 Nov.
        TimeOff.objects.create(
            member=away, starts_on=dt.date(2026, 11, 23), ends_on=dt.date(2026, 12, 4)
        )
    with time_machine.travel(dt.datetime(2026, 11, 21, 12, tzinfo=dt.UTC), tick=False):
        apply_time_off(today=dt.date(2026, 11, 21))
    with time_machine.travel(dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)):
        assert sorted(_assign(20)) == sorted([c1.user_id] * 10 + [c2.user_id] * 10)
    with time_machine.travel(dt.datetime(2026, 12, 2, 12, tzinfo=dt.UTC)):
        assert sorted(_assign(4)) == sorted([c1.user_id] * 2 + [c2.user_id] * 2)
    with time_machine.travel(dt.datetime(2026, 12, 5, 10, tzinfo=dt.UTC), tick=False):
        result = apply_time_off(today=dt.date(2026, 12, 5))

    away.refresh_from_db()
    assert result.reactivated == 1
    assert away.is_active
    # Colleagues count 2 each in December; the returner starts at 2, not 10 + 2.
    assert (away.leads_this_month, away.manual_adjustment) == (0, 2)
    event = RoundRobinEvent.objects.get(member=away, kind=LedgerKind.ADJUSTMENT)
    assert event.delta == 2
    assert event.period == dt.date(2026, 12, 1)
    assert reconcile_counters() == []


def test_return_calibration_levels_at_the_members_own_priority():
    with time_machine.travel(NOV_20, tick=False):
        away = member(priority=2)
        member(), member()
        TimeOff.objects.create(
            member=away, starts_on=dt.date(2026, 11, 20), ends_on=dt.date(2026, 11, 20)
        )
        apply_time_off(today=dt.date(2026, 11, 20))
        _assign(12)  # 6 each to the two colleagues at priority 1: load 6
    with time_machine.travel(NOV_20 + dt.timedelta(days=1), tick=False):
        apply_time_off(today=dt.date(2026, 11, 21))

    away.refresh_from_db()
    # Level: count × 2 = 6, so count 3 (not +6, which is a load of 12).
    assert away.manual_adjustment == 3


def test_colleagues_away_do_not_set_the_level():
    with time_machine.travel(NOV_20, tick=False):
        away = member()
        present = member(leads_this_month=4)
        also_away = member(leads_this_month=40)
        TimeOff.objects.create(
            member=away, starts_on=dt.date(2026, 11, 20), ends_on=dt.date(2026, 11, 20)
        )
        TimeOff.objects.create(
            member=also_away, starts_on=dt.date(2026, 11, 20), ends_on=dt.date(2026, 11, 30)
        )
        apply_time_off(today=dt.date(2026, 11, 20))
    with time_machine.travel(NOV_20 + dt.timedelta(days=1), tick=False):
        apply_time_off(today=dt.date(2026, 11, 21))

    away.refresh_from_db()
    assert away.manual_adjustment == present.leads_this_month == 4


def test_a_colleague_switched_back_on_by_hand_counts_for_calibration_as_for_prefill():
    # The team lead's switch wins over the time-off job's (``round_robin.away``):
    # the colleague takes leads again, so a returner levels with them exactly
    # as a joiner's prefill does.
    nov_21 = dt.date(2026, 11, 21)
    with time_machine.travel(NOV_20, tick=False):
        away = member()
        by_hand = member(leads_this_month=6)
        TimeOff.objects.create(
            member=away, starts_on=dt.date(2026, 11, 20), ends_on=dt.date(2026, 11, 20)
        )
        TimeOff.objects.create(
            member=by_hand, starts_on=dt.date(2026, 11, 20), ends_on=dt.date(2026, 11, 30)
        )
        apply_time_off(today=dt.date(2026, 11, 20))
        TrackerMember.objects.filter(pk=by_hand.pk).update(is_active=True)
    with time_machine.travel(NOV_20 + dt.timedelta(days=1), tick=False):
        prefill = prefill_adjustment(
            role=away.role, territories=away.territories.all(), today=nov_21
        )
        apply_time_off(today=nov_21)

    away.refresh_from_db()
    assert away.manual_adjustment == prefill == 6


@pytest.mark.parametrize(
    ("loads", "priority", "level"),
    [([30, 30], 1, 30), ([30, 30], 3, 10), ([48, 54], 1, 51), ([5, 6], 2, 3), ([], 3, 0)],
)
def test_level_is_the_average_load_over_the_members_priority(loads, priority, level):
    # [5, 6] ÷ 2: 2.75 → 3 (half up, as PostgreSQL rounds in the time-off job).
    assert level_count(loads=loads, priority=priority) == level


def test_a_priority_three_joiner_starts_level_and_gets_one_lead_per_three_each():
    with time_machine.travel(NOV_20):
        c1, c2 = member(leads_this_month=30), member(leads_this_month=30)
        prefill = prefill_adjustment(role=TrackerRole.TAE, territories=[territory()], priority=3)
        joiner = add_member(
            user=UserFactory.create(),
            role=TrackerRole.TAE,
            territories=[territory()],
            priority=3,
            manual_adjustment=prefill,
            author=team_lead(),
        )
        got = _assign(8)

    assert prefill == 10
    # Loads 30/30/30: ties go to the never assigned, then the lowest id (c1, c2,
    # joiner); the joiner at 33 waits until both colleagues reach 33 (leads 4–7)
    # and then has the oldest last assignment.
    j, a, b = joiner.user_id, c1.user_id, c2.user_id
    assert got == [a, b, j, a, b, a, b, j]


def test_the_prefill_endpoint_answers_for_the_priority(client):
    client.force_login(team_lead())
    member(leads_this_month=30)

    response = client.get(
        reverse("leads:member_prefill"),
        {"role": "TAE", "territories": [territory().pk], "priority": "3"},
    )

    assert 'value="10"' in response.text


def test_an_empty_adjustment_is_worked_out_for_the_chosen_priority(client):
    lead = team_lead()
    client.force_login(lead)
    member(leads_this_month=30)
    newcomer = UserFactory.create(team_lead=lead)

    client.post(
        reverse("leads:member_add"),
        {
            "user": newcomer.pk,
            "role": "TAE",
            "territories": [territory().pk],
            "priority": "3",
            "manual_adjustment": "",
            "territory": "europe-africa",
        },
    )

    assert newcomer.tracker_member.manual_adjustment == 10


def test_the_tracker_says_what_the_prefill_means(client):
    client.force_login(team_lead())
    response = client.get(reverse("leads:tracker"))
    assert "average load ÷ the new member's priority" in response.text
