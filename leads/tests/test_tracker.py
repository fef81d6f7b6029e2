from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import AccountFactory, team_lead
from leads.assignment import assign_task
from leads.ledger import ledger_totals, open_period, reconcile_counters, undo_assignment
from leads.models import LedgerKind, RoundRobinEvent, Territory, TimeOff, TrackerRole
from leads.tests.factories import TaskFactory, member, territory
from leads.time_off import apply_time_off
from leads.tracker import history, prefill_adjustment, preview_next, tracker_rows, update_member
from revopsweb.dates import company_today

pytestmark = pytest.mark.django_db

MARCH = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)


def _assign(n: int) -> list:
    tasks = []
    for _ in range(n):
        task = TaskFactory.create()
        assign_task(task=task)
        tasks.append(task)
    return tasks


def test_monthly_reset_opens_a_new_period_and_keeps_history():
    with time_machine.travel(MARCH):
        a = member(manual_adjustment=0)
        update_member(member=a, author=None, reason="joined late", manual_adjustment=7)
        _assign(3)

        reset = open_period(period=dt.date(2026, 4, 1))

    a.refresh_from_db()
    assert reset == 1
    assert (a.leads_this_month, a.manual_adjustment, a.period) == (0, 0, dt.date(2026, 4, 1))
    assert (
        RoundRobinEvent.objects.filter(
            kind=LedgerKind.ASSIGNMENT, period=dt.date(2026, 3, 1)
        ).count()
        == 3
    )
    event = RoundRobinEvent.objects.get(kind=LedgerKind.RESET)
    assert event.old_value == "leads 3, adjustment 7 (2026-03)"
    assert reconcile_counters() == []


def test_running_the_reset_twice_changes_nothing_the_second_time():
    with time_machine.travel(MARCH):
        member()
        open_period(period=dt.date(2026, 4, 1))

        assert open_period(period=dt.date(2026, 4, 1)) == 0

    assert RoundRobinEvent.objects.filter(kind=LedgerKind.RESET).count() == 1


def test_cached_counters_agree_with_the_ledger_after_mixed_changes():
    lead = team_lead()
    a, b = member(), member(priority=2)
    tasks = _assign(7)
    update_member(member=b, author=lead, reason="calibrate", manual_adjustment=-2)
    event = RoundRobinEvent.objects.filter(kind=LedgerKind.ASSIGNMENT, task=tasks[0]).get()
    undo_assignment(event=event, author=lead, reason="wrong territory")

    assert reconcile_counters() == []
    totals = ledger_totals()
    a.refresh_from_db()
    assert totals[a.pk] == (a.leads_this_month, a.manual_adjustment)


def test_undo_is_a_compensating_event_and_sends_the_task_back_to_the_queue():
    lead = team_lead()
    a = member()
    (task,) = _assign(1)
    event = RoundRobinEvent.objects.get(kind=LedgerKind.ASSIGNMENT)

    compensation = undo_assignment(event=event, author=lead, reason="duplicate")

    a.refresh_from_db()
    task.refresh_from_db()
    assert compensation.delta == -1
    assert a.leads_this_month == 0
    assert task.assignee is None
    assert "duplicate" in task.unassigned_reason
    assert RoundRobinEvent.objects.filter(pk=event.pk).exists()


def test_an_assignment_cannot_be_undone_twice():
    member()
    _assign(1)
    event = RoundRobinEvent.objects.get(kind=LedgerKind.ASSIGNMENT)
    undo_assignment(event=event, author=None, reason="x")

    with pytest.raises(Exception):  # noqa: B017 - the unique constraint refuses it
        undo_assignment(event=event, author=None, reason="x")


def test_preview_matches_what_the_round_robin_then_does():
    a, b, c = member(priority=1), member(priority=2), member(leads_this_month=3)

    preview = preview_next(territory=territory(), role=TrackerRole.TAE, count=12)
    tasks = _assign(12)

    names = {m.user_id: m.user.name for m in (a, b, c)}
    assert [names[t.assignee_id] for t in tasks] == preview


def test_preview_with_an_unsaved_priority_changes_the_order_but_not_the_data():
    a, b = member(), member()

    preview = preview_next(
        territory=territory(), role=TrackerRole.TAE, overrides={a.pk: {"priority": 4}}
    )

    assert preview.count(a.user.name) == 4
    assert preview.count(b.user.name) == 16
    a.refresh_from_db()
    assert a.priority == 1


def test_prefill_is_the_level_of_the_active_colleagues():
    member(leads_this_month=48)
    member(leads_this_month=50, manual_adjustment=4)
    member(leads_this_month=90, is_active=False)
    member(role=TrackerRole.TAM, leads_this_month=5)

    assert prefill_adjustment(role=TrackerRole.TAE, territories=[territory()]) == 51


# --- Time off -------------------------------------------------------------------


def _off(m, starts: str, ends: str) -> TimeOff:
    return TimeOff.objects.create(
        member=m, starts_on=dt.date.fromisoformat(starts), ends_on=dt.date.fromisoformat(ends)
    )


def test_short_absence_switches_off_on_the_day_they_leave():
    m = member()
    _off(m, "2026-03-10", "2026-03-12")

    apply_time_off(today=dt.date(2026, 3, 9))
    m.refresh_from_db()
    assert m.is_active

    result = apply_time_off(today=dt.date(2026, 3, 10))
    m.refresh_from_db()
    assert not m.is_active
    assert result.deactivated == 1


def test_absence_longer_than_five_days_switches_off_two_days_before():
    m = member()
    _off(m, "2026-03-10", "2026-03-15")

    apply_time_off(today=dt.date(2026, 3, 7))
    m.refresh_from_db()
    assert m.is_active

    apply_time_off(today=dt.date(2026, 3, 8))
    m.refresh_from_db()
    assert not m.is_active


def test_five_day_absence_is_not_long():
    m = member()
    _off(m, "2026-03-10", "2026-03-14")

    apply_time_off(today=dt.date(2026, 3, 8))
    m.refresh_from_db()
    assert m.is_active


def test_on_return_a_member_is_active_and_raised_by_what_colleagues_received():
    with time_machine.travel(MARCH):
        away = member()
        c1, c2 = member(), member()
        assert c2.leads_this_month == 0
        _off(away, "2026-03-11", "2026-03-12")
        apply_time_off(today=dt.date(2026, 3, 11))
    with time_machine.travel(MARCH + dt.timedelta(days=1)):
        _assign(6)  # 3 each to c1, c2
    with time_machine.travel(MARCH + dt.timedelta(days=3)):
        still_away = apply_time_off(today=dt.date(2026, 3, 12))
        back = apply_time_off(today=dt.date(2026, 3, 13))

    away.refresh_from_db()
    c1.refresh_from_db()
    assert still_away.reactivated == 0
    assert back.reactivated == 1
    assert away.is_active
    assert away.manual_adjustment == 3 == c1.leads_this_month
    adjustment = RoundRobinEvent.objects.get(member=away, kind=LedgerKind.ADJUSTMENT)
    assert adjustment.delta == 3
    assert "back from time off" in adjustment.reason
    assert reconcile_counters() == []


def test_applying_time_off_twice_a_day_changes_nothing():
    m = member()
    _off(m, "2026-03-10", "2026-03-10")
    apply_time_off(today=dt.date(2026, 3, 10))
    apply_time_off(today=dt.date(2026, 3, 10))
    apply_time_off(today=dt.date(2026, 3, 11))

    again = apply_time_off(today=dt.date(2026, 3, 11))

    assert again.reactivated == 0 and again.deactivated == 0
    assert RoundRobinEvent.objects.filter(member=m, kind=LedgerKind.ACTIVATION).count() == 2


def test_a_member_switched_off_by_hand_is_not_switched_back_on_by_time_off():
    m = member(is_active=False)
    _off(m, "2026-03-10", "2026-03-10")

    apply_time_off(today=dt.date(2026, 3, 10))
    apply_time_off(today=dt.date(2026, 3, 11))

    m.refresh_from_db()
    assert not m.is_active


def test_time_off_rule_uses_a_fixed_number_of_queries(django_assert_num_queries):
    # savepoint, period opening, switch-off statement, switch-on statement, release
    for _ in range(5):
        _off(member(), "2026-03-10", "2026-03-20")
    with django_assert_num_queries(5):
        apply_time_off(today=dt.date(2026, 3, 9))
    for _ in range(20):
        _off(member(), "2026-03-10", "2026-03-20")
    with django_assert_num_queries(5):
        apply_time_off(today=dt.date(2026, 3, 21))


def test_member_on_time_off_is_passed_over_as_on_time_off():
    away = member()
    other = member(leads_this_month=9)
    _off(away, company_today().isoformat(), company_today().isoformat())
    apply_time_off(today=company_today())
    task = TaskFactory.create()

    decision = assign_task(task=task)

    assert task.assignee_id == other.user_id
    row = next(r for r in decision.pool if r["member_id"] == away.pk)
    assert row["reason"] == "on time off"


def _assign_in(slug: str, n: int) -> None:
    for _ in range(n):
        account = AccountFactory.create(territory=territory(slug))
        assign_task(task=TaskFactory.create(account=account))


def test_share_counts_only_the_leads_received_in_this_territory():
    europe, anz = territory("europe-africa"), territory("australia-new-zealand")
    both = member(territories=[europe, anz])
    only_europe = member(territories=[europe])
    _assign_in("australia-new-zealand", 3)  # all to `both`, the only member there
    _assign_in("europe-africa", 2)  # both to `only_europe`: `both` already has 3

    rows = {row.member.pk: row for row in tracker_rows(territory=europe)}

    assert rows[both.pk].member.leads_this_month == 3
    assert (rows[both.pk].leads_here, rows[only_europe.pk].leads_here) == (0, 2)
    assert (rows[both.pk].share, rows[only_europe.pk].share) == (0.0, 1.0)


def test_a_rows_territories_are_named_in_the_territories_order_even_one_the_caller_lacks():
    europe, anz = territory("europe-africa"), territory("australia-new-zealand")
    both = member(territories=[anz, europe])
    anz.sort_order, anz.name = 0, "A & NZ"
    anz.save(update_fields=["sort_order", "name"])

    # The caller read the territories before the rename and without Australia: the
    # rows name every territory of a member, read again, in (sort order, name) order.
    (row,) = tracker_rows(territory=europe, territories=[europe])

    assert row.member.pk == both.pk
    assert (row.territory_ids, row.territory_names) == (
        [anz.pk, europe.pk],
        ["A & NZ", "Europe & Africa"],
    )


def _assign_one() -> dict:
    task = TaskFactory.create()
    decision = assign_task(task=task)
    return {"assignee": task.assignee_id, "pool": {r["member_id"]: r for r in decision.pool}}


def test_time_off_starting_today_is_honoured_before_the_daily_job_runs():
    away, other = member(), member(leads_this_month=9)
    _off(away, "2026-03-10", "2026-03-10")

    with time_machine.travel(MARCH):  # 10 March, the job has not run
        result = _assign_one()

    assert result["assignee"] == other.user_id
    assert result["pool"][away.pk]["reason"] == "on time off"


def test_a_long_absence_is_honoured_two_days_early_before_the_daily_job_runs():
    away, other = member(), member(leads_this_month=9)
    _off(away, "2026-03-12", "2026-03-19")

    with time_machine.travel(MARCH):  # 10 March: two days before the first day off
        assert _assign_one()["assignee"] == other.user_id
    with time_machine.travel(MARCH - dt.timedelta(days=1)):
        assert _assign_one()["assignee"] == away.user_id


def test_a_team_lead_switching_a_member_back_on_wins_over_the_job():
    away = member()
    member(leads_this_month=9)  # a colleague further ahead
    _off(away, "2026-03-10", "2026-03-12")
    apply_time_off(today=dt.date(2026, 3, 10))
    update_member(member=away, author=team_lead(), is_active=True, reason="back early")

    with time_machine.travel(MARCH):
        assert _assign_one()["assignee"] == away.user_id


def test_preview_and_tracker_page_show_a_due_time_off_before_the_job():
    away, other = member(), member(leads_this_month=9)
    _off(away, "2026-03-10", "2026-03-10")

    with time_machine.travel(MARCH):
        names = preview_next(territory=territory(), role=TrackerRole.TAE, count=2)
        rows = {row.member.pk: row for row in tracker_rows(territory=territory())}

    assert names == [other.user.name, other.user.name]
    assert rows[away.pk].on_time_off and not rows[other.pk].on_time_off


@pytest.mark.parametrize("adjustment", [-999_999, 501])
def test_the_domain_refuses_an_adjustment_beyond_the_bound(adjustment):
    target = member()
    with pytest.raises(ValueError, match="between -500 and 500"):
        update_member(member=target, author=None, reason="typo", manual_adjustment=adjustment)
    target.refresh_from_db()
    assert target.manual_adjustment == 0


@pytest.mark.parametrize("change", [{"priority": 3}, {"is_active": False}])
def test_the_domain_refuses_a_change_of_priority_or_active_without_a_reason(change):
    target = member()
    with pytest.raises(ValueError, match="needs a reason"):
        update_member(member=target, author=None, reason=" ", **change)
    target.refresh_from_db()
    assert (target.priority, target.is_active) == (1, True)
    assert not RoundRobinEvent.objects.filter(member=target).exists()


def test_the_domain_refuses_a_change_of_territories_without_a_reason():
    target = member()
    others = list(Territory.objects.all()[:2])

    with pytest.raises(ValueError, match="needs a reason"):
        update_member(member=target, author=None, reason="", territories=others)
    assert not RoundRobinEvent.objects.filter(member=target).exists()


def test_the_domain_saves_unchanged_values_without_a_reason_and_records_nothing():
    target = member()
    current = list(target.territories.all())

    events = update_member(
        member=target,
        author=None,
        reason="",
        priority=target.priority,
        manual_adjustment=target.manual_adjustment,
        is_active=target.is_active,
        territories=current,
    )

    assert events == []


def test_the_mid_month_prefill_stays_within_the_bound():
    member(leads_this_month=900)
    assert prefill_adjustment(role=TrackerRole.TAE, territories=[territory()]) == 500


def test_the_history_reads_the_ledgers_changes_index_not_every_assignment():
    # The plan PostgreSQL picks for a table this small is a scan whatever the indexes;
    # with scans turned off it still has two indexes to walk newest first: created_at's
    # (every event, assignments filtered out) and the changes' partial one, which it
    # may only use if the statement's filter implies the index's condition.
    here = territory("us-west")
    someone = member(territories=[here])
    update_member(member=someone, author=None, reason="more leads", priority=2)
    now = timezone.now()
    RoundRobinEvent.objects.bulk_create(
        RoundRobinEvent(
            member=someone,
            kind=LedgerKind.ASSIGNMENT,
            delta=1,
            period=someone.period,
            reason="round robin",
            at=now,
        )
        for _ in range(300)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_roundrobinevent")
    with CaptureQueriesContext(connection) as issued:
        shown = [entry.kind for entry in history(territory=here)]
    assert LedgerKind.WEIGHT in shown and LedgerKind.ASSIGNMENT not in shown
    (statement,) = (q["sql"] for q in issued if "leads_roundrobinevent" in q["sql"])

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + statement)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "leads_ledger_changes_idx" in plan, plan
