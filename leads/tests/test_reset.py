"""The monthly reset: a new ledger period in the company's time zone."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from leads.assignment import assign_task
from leads.ledger import reconcile_counters
from leads.models import LedgerKind, RoundRobinEvent, TrackerMember
from leads.reset import last_period_figures, period_figures, reset_month
from leads.tests.factories import TaskFactory, member, territory
from leads.tracker import update_member

pytestmark = pytest.mark.django_db

NOVEMBER = dt.date(2026, 11, 1)
DECEMBER = dt.date(2026, 12, 1)
# America/New_York is UTC-5 in winter: December starts at 05:00 UTC.
LAST_MINUTE_OF_NOVEMBER = dt.datetime(2026, 12, 1, 4, 59, tzinfo=dt.UTC)
FIRST_MINUTE_OF_DECEMBER = dt.datetime(2026, 12, 1, 5, 1, tzinfo=dt.UTC)


def _november_team(assignments: int = 5) -> list[TrackerMember]:
    """Two members with November leads and adjustments, all through the ledger."""
    with time_machine.travel(dt.datetime(2026, 11, 10, 15, tzinfo=dt.UTC)):
        team = [member(), member()]
        update_member(member=team[1], author=None, reason="joined mid-month", manual_adjustment=7)
        for _ in range(assignments):
            assign_task(task=TaskFactory.create())
    for m in team:
        m.refresh_from_db()
    return team


def test_the_reset_waits_for_midnight_in_the_company_time_zone(settings):
    assert settings.TIME_ZONE == "America/New_York"
    team = _november_team()

    reset = reset_month(now=LAST_MINUTE_OF_NOVEMBER)

    assert reset == 0
    assert set(TrackerMember.objects.values_list("period", flat=True)) == {NOVEMBER}
    assert sum(m.leads_this_month for m in team) == 5


def test_the_first_run_of_the_month_zeroes_counts_and_adjustments_as_a_new_period():
    _november_team()

    reset = reset_month(now=FIRST_MINUTE_OF_DECEMBER)

    assert reset == 2
    rows = set(TrackerMember.objects.values_list("period", "leads_this_month", "manual_adjustment"))
    assert rows == {(DECEMBER, 0, 0)}
    resets = RoundRobinEvent.objects.filter(kind=LedgerKind.RESET, period=DECEMBER)
    assert resets.count() == 2
    assert reconcile_counters() == []


def test_last_months_final_figures_stay_visible_after_the_reset():
    team = _november_team(assignments=9)
    before = {m.pk: (m.leads_this_month, m.manual_adjustment) for m in team}

    reset_month(now=FIRST_MINUTE_OF_DECEMBER)

    figures = last_period_figures(today=FIRST_MINUTE_OF_DECEMBER.date())
    assert {f.member_id: (f.leads, f.adjustment) for f in figures} == before
    assert sum(f.leads for f in figures) == 9
    assert {(f.leads, f.adjustment) for f in period_figures(period=DECEMBER)} == {(0, 0)}


def test_running_the_reset_again_in_the_same_month_changes_nothing():
    _november_team()
    reset_month(now=FIRST_MINUTE_OF_DECEMBER)
    with time_machine.travel(FIRST_MINUTE_OF_DECEMBER + dt.timedelta(hours=2)):
        assign_task(task=TaskFactory.create())
    events = RoundRobinEvent.objects.count()

    again = reset_month(now=FIRST_MINUTE_OF_DECEMBER + dt.timedelta(hours=3))

    assert again == 0
    assert RoundRobinEvent.objects.count() == events
    assert sum(TrackerMember.objects.values_list("leads_this_month", flat=True)) == 1


def test_a_late_run_resets_once_for_the_month_it_runs_in():
    _november_team()
    # The worker was down on the 1st; the run on the 3rd resets once, into December.
    third = dt.datetime(2026, 12, 3, 9, tzinfo=dt.UTC)
    with time_machine.travel(third):
        assert reset_month() == 2
        assert reset_month() == 0
    assert set(TrackerMember.objects.values_list("period", flat=True)) == {DECEMBER}
    assert RoundRobinEvent.objects.filter(kind=LedgerKind.RESET).count() == 2


def test_a_run_after_missed_months_jumps_to_the_current_month():
    _november_team()

    reset_month(now=dt.datetime(2027, 2, 14, 12, tzinfo=dt.UTC))

    assert set(TrackerMember.objects.values_list("period", flat=True)) == {dt.date(2027, 2, 1)}


@pytest.mark.parametrize("size", [3, 30])
def test_the_reset_is_one_statement_whatever_the_team_size(size, django_assert_num_queries):
    with time_machine.travel(dt.datetime(2026, 11, 10, 15, tzinfo=dt.UTC)):
        for _ in range(size):
            member()

    # One UPDATE … RETURNING feeding an INSERT … SELECT of the RESET events.
    with django_assert_num_queries(1):
        reset = reset_month(now=FIRST_MINUTE_OF_DECEMBER)

    assert reset == size


def test_the_tracker_page_shows_last_months_final_figures_after_the_reset(client):
    from django.urls import reverse

    from accounts.tests.factories import team_lead

    _november_team()
    reset_month(now=FIRST_MINUTE_OF_DECEMBER)
    client.force_login(team_lead())
    with time_machine.travel(dt.datetime(2026, 12, 2, 15, tzinfo=dt.UTC)):
        response = client.get(
            reverse("leads:tracker"), {"territory": territory().slug, "last_month": "1"}
        )

    assert response.context["last_month"] == NOVEMBER
    shown = {f.member_id: (f.leads, f.adjustment) for f in response.context["last_month_figures"]}
    assert shown == {f.member_id: (f.leads, f.adjustment) for f in period_figures(period=NOVEMBER)}
    assert sum(leads for leads, _ in shown.values()) == 5
    assert "Nov 2026" in response.content.decode()  # the one month format (revopsweb/formats.py)


def test_opening_a_period_zeroes_each_member_and_records_their_old_figures():
    from leads.ledger import open_period

    team = _november_team()
    assert open_period(period=DECEMBER) == 2
    for m in team:
        m.refresh_from_db()
        assert (m.leads_this_month, m.manual_adjustment, m.period) == (0, 0, DECEMBER)
    events = RoundRobinEvent.objects.filter(kind=LedgerKind.RESET, member__in=team)
    old_values = sorted(e.old_value for e in events)
    assert len(old_values) == 2
    assert sum(int(v.split()[1].rstrip(",")) for v in old_values) == 5  # November's leads
    assert any("adjustment 7 (2026-11)" in v for v in old_values)


def test_last_months_figures_load_on_demand_and_only_for_the_territorys_members(client):
    from django.urls import reverse

    from accounts.tests.factories import team_lead
    from leads.tests.factories import territory as territory_of

    team = _november_team()
    with time_machine.travel(dt.datetime(2026, 11, 10, 15, tzinfo=dt.UTC)):
        elsewhere = member(territories=[territory_of("us-west")])
        update_member(member=elsewhere, author=None, reason="other territory", manual_adjustment=3)
    reset_month(now=FIRST_MINUTE_OF_DECEMBER)
    client.force_login(team_lead())
    url = reverse("leads:tracker")
    with time_machine.travel(dt.datetime(2026, 12, 2, 15, tzinfo=dt.UTC)):
        page = client.get(url, {"territory": territory().slug})
        part = client.get(
            url,
            {"territory": territory().slug, "part": "last-month"},
            headers={"HX-Request": "true"},
        )

    assert page.context["last_month_figures"] is None
    assert "Show last month's" in page.content.decode()
    body = part.content.decode()
    assert body.lstrip().startswith('<div id="last-month"')
    assert "<html" not in body
    assert {f.member_id for f in part.context["last_month_figures"]} == {m.pk for m in team}
    assert elsewhere.user.name not in body
