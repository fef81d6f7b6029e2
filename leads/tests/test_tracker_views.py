"""The round-robin tracker page and its actions: weights, adjustments, preview,
new members, time off and the unassigned queue."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AccountFactory, UserFactory, manager, tam, team_lead
from leads.ledger import open_period
from leads.models import (
    LedgerKind,
    RoundRobinEvent,
    Task,
    Territory,
    TimeOff,
    TrackerMember,
)
from leads.tests.factories import TaskFactory, member, teammate, territory
from leads.tracker import preview_next, update_member

pytestmark = pytest.mark.django_db


def _login(client, user):
    client.force_login(user)
    return user


def _tracker(client, **params):
    return client.get(reverse("leads:tracker"), {"territory": "europe-africa", **params})


def test_tracker_is_read_only_for_a_tam(client):
    _login(client, tam())
    member()

    body = _tracker(client).content.decode()

    assert "-priority" not in body
    assert "Only team leads and managers can change weights" in body


def test_a_tam_cannot_change_a_weight_by_crafted_post(client):
    _login(client, tam())
    target = member()

    response = client.post(
        reverse("leads:member_update", args=[target.pk]),
        {
            f"m{target.pk}-priority": "3",
            f"m{target.pk}-manual_adjustment": "0",
            f"m{target.pk}-territories": [territory().pk],
        },
    )

    assert response.status_code == 403
    target.refresh_from_db()
    assert target.priority == 1


@pytest.mark.parametrize("adjustment", ["-999999", "501", "-501"])
def test_an_adjustment_beyond_the_bound_is_refused_and_nothing_recorded(client, adjustment):
    lead = _login(client, team_lead())
    target = teammate(lead)
    prefix = f"m{target.pk}"

    response = client.post(
        reverse("leads:member_update", args=[target.pk]) + "?territory=europe-africa",
        {
            f"{prefix}-priority": "1",
            f"{prefix}-manual_adjustment": adjustment,
            f"{prefix}-is_active": "on",
            f"{prefix}-territories": [territory().pk],
            f"{prefix}-reason": "make up for the quiet weeks",
        },
    )

    assert response.status_code == 400
    assert "500" in response.content.decode()
    target.refresh_from_db()
    assert target.manual_adjustment == 0
    assert not RoundRobinEvent.objects.filter(member=target).exists()


def test_an_adjustment_at_the_bound_with_a_reason_is_saved(client):
    lead = _login(client, team_lead())
    target = teammate(lead)
    prefix = f"m{target.pk}"

    response = client.post(
        reverse("leads:member_update", args=[target.pk]) + "?territory=europe-africa",
        {
            f"{prefix}-priority": "1",
            f"{prefix}-manual_adjustment": "-500",
            f"{prefix}-is_active": "on",
            f"{prefix}-territories": [territory().pk],
            f"{prefix}-reason": "missed a month of leads",
        },
    )

    assert response.status_code == 302
    target.refresh_from_db()
    assert target.manual_adjustment == -500


def _save_adjustment_without_reason(client, target, **kwargs):
    """A team lead's save of ``target``'s row: adjustment 20, no reason."""
    prefix = f"m{target.pk}"
    return client.post(
        reverse("leads:member_update", args=[target.pk]) + "?territory=europe-africa",
        {
            f"{prefix}-priority": "1",
            f"{prefix}-manual_adjustment": "20",
            f"{prefix}-is_active": "on",
            f"{prefix}-territories": [territory().pk],
            f"{prefix}-reason": " ",
        },
        **kwargs,
    )


def test_changing_the_adjustment_without_a_reason_is_refused(client):
    lead = _login(client, team_lead())
    target = teammate(lead)

    response = _save_adjustment_without_reason(client, target)

    assert response.status_code == 400
    assert "Say why the adjustment changes." in response.content.decode()
    target.refresh_from_db()
    assert target.manual_adjustment == 0


def test_changing_the_priority_without_a_reason_is_refused_on_the_reason_field(client):
    lead = _login(client, team_lead())
    target = teammate(lead)

    response = _edit(client, target, priority="3", reason=" ")

    assert response.status_code == 400
    assert "Say why the priority changes." in response.content.decode()
    target.refresh_from_db()
    assert target.priority == 1
    assert not RoundRobinEvent.objects.filter(member=target).exists()


def test_deactivating_without_a_reason_through_htmx_is_refused_in_the_row(client):
    lead = _login(client, team_lead())
    target = teammate(lead)
    prefix = f"m{target.pk}"

    response = client.post(
        reverse("leads:member_update", args=[target.pk]) + "?territory=europe-africa",
        {
            f"{prefix}-priority": "1",
            f"{prefix}-manual_adjustment": "0",
            f"{prefix}-territories": [territory().pk],
            f"{prefix}-reason": "",
        },
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 422
    assert "Say why “Active” changes." in response.content.decode()
    target.refresh_from_db()
    assert target.is_active
    assert not RoundRobinEvent.objects.filter(member=target).exists()


def test_changing_the_territories_without_a_reason_is_refused(client):
    # Which round robins the member is in moves leads as much as a weight does.
    lead = _login(client, team_lead())
    target = teammate(lead)
    other = Territory.objects.exclude(pk=territory().pk).first()
    assert other is not None

    response = _edit(client, target, territories=[territory().pk, other.pk], reason="")

    assert response.status_code == 400
    assert "Say why the territories change." in response.content.decode()
    assert not RoundRobinEvent.objects.filter(member=target).exists()


def test_saving_a_row_unchanged_without_a_reason_records_nothing_and_fails_nothing(client):
    lead = _login(client, team_lead())
    target = teammate(lead)

    response = _edit(client, target, reason="")

    assert response.status_code == 302
    assert not RoundRobinEvent.objects.filter(member=target).exists()


def test_several_changes_without_a_reason_are_named_together(client):
    lead = _login(client, team_lead())
    target = teammate(lead)

    response = _edit(client, target, priority="2", manual_adjustment="3", reason="")

    assert "Say why the priority and the adjustment change." in response.content.decode()


def test_deactivating_with_a_reason_records_it_in_the_history(client):
    lead = _login(client, team_lead())
    target = teammate(lead)
    prefix = f"m{target.pk}"

    response = client.post(
        reverse("leads:member_update", args=[target.pk]) + "?territory=europe-africa",
        {
            f"{prefix}-priority": "1",
            f"{prefix}-manual_adjustment": "0",
            f"{prefix}-territories": [territory().pk],
            f"{prefix}-reason": "parental leave",
        },
    )

    assert response.status_code == 302
    event = RoundRobinEvent.objects.get(member=target)
    assert (event.kind, event.old_value, event.new_value) == (
        LedgerKind.ACTIVATION,
        "active",
        "inactive",
    )
    assert (event.actor, event.reason) == (lead, "parental leave")
    assert "parental leave" in _tracker(client).content.decode()


def test_the_preview_needs_no_reason(client):
    lead = _login(client, team_lead())
    target = teammate(lead)
    prefix = f"m{target.pk}"

    response = client.get(
        reverse("leads:member_preview", args=[target.pk]),
        {
            "territory": "europe-africa",
            f"{prefix}-priority": "2",
            f"{prefix}-manual_adjustment": "0",
            f"{prefix}-is_active": "on",
            f"{prefix}-territories": [territory().pk],
        },
    )

    assert response.context["preview"]["valid"]


def test_the_tracker_page_explains_the_adjustment_and_its_bound(client):
    _login(client, team_lead())
    member()

    page = client.get(reverse("leads:tracker"), {"territory": "europe-africa"}).content.decode()

    assert "counts as leads already received this month" in page
    assert 'min="-500" max="500"' in page


def test_team_lead_changes_a_weight_and_the_ledger_records_old_new_and_why(client):
    lead = _login(client, team_lead())
    target = teammate(lead)
    prefix = f"m{target.pk}"

    response = client.post(
        reverse("leads:member_update", args=[target.pk]) + "?territory=europe-africa",
        {
            f"{prefix}-priority": "3",
            f"{prefix}-manual_adjustment": "5",
            f"{prefix}-is_active": "on",
            f"{prefix}-territories": [territory().pk],
            f"{prefix}-reason": "ramping",
        },
    )

    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.priority, target.manual_adjustment) == (3, 5)
    events = {e.kind: e for e in RoundRobinEvent.objects.filter(member=target)}
    assert events[LedgerKind.WEIGHT].old_value == "1"
    assert events[LedgerKind.WEIGHT].new_value == "3"
    assert events[LedgerKind.WEIGHT].actor == lead
    assert events[LedgerKind.WEIGHT].reason == "ramping"
    assert events[LedgerKind.ADJUSTMENT].delta == 5
    assert "ramping" in _tracker(client).content.decode()


def test_htmx_weight_change_returns_the_member_rows(client):
    lead = _login(client, team_lead())
    target = teammate(lead)
    prefix = f"m{target.pk}"

    response = client.post(
        reverse("leads:member_update", args=[target.pk]) + "?territory=europe-africa",
        {
            f"{prefix}-priority": "2",
            f"{prefix}-manual_adjustment": "0",
            f"{prefix}-is_active": "on",
            f"{prefix}-territories": [territory().pk],
            f"{prefix}-reason": "ramping",
        },
        headers={"HX-Request": "true"},
    )

    body = response.content.decode()
    assert '<tbody id="member-rows">' in body
    assert "<html" not in body


def test_invalid_priority_is_reported_and_nothing_changes(client):
    lead = _login(client, team_lead())
    target = teammate(lead)
    prefix = f"m{target.pk}"

    response = client.post(
        reverse("leads:member_update", args=[target.pk]),
        {
            f"{prefix}-priority": "0",
            f"{prefix}-manual_adjustment": "x",
            f"{prefix}-territories": [territory().pk],
        },
    )

    assert response.status_code == 400
    assert not RoundRobinEvent.objects.exists()


def test_preview_shows_the_next_twenty_under_unsaved_settings(client):
    lead = _login(client, team_lead())
    a = teammate(lead)
    b = teammate(lead)
    prefix = f"m{a.pk}"

    response = client.get(
        reverse("leads:member_preview", args=[a.pk]),
        {
            "territory": "europe-africa",
            f"{prefix}-priority": "3",
            f"{prefix}-manual_adjustment": "0",
            f"{prefix}-is_active": "on",
            f"{prefix}-territories": territory().pk,
        },
        headers={"HX-Request": "true"},
    )

    proposed = response.context["preview"]["proposed"]
    assert len(proposed) == 20
    assert proposed.count(a.user.name) == 5
    assert proposed.count(b.user.name) == 15
    a.refresh_from_db()
    assert a.priority == 1


def test_preview_reads_the_members_once_for_both_lists(client, django_assert_num_queries):
    lead = _login(client, team_lead())
    a = teammate(lead)
    teammate(lead)
    prefix = f"m{a.pk}"
    data = {
        "territory": "europe-africa",
        f"{prefix}-priority": "3",
        f"{prefix}-manual_adjustment": "0",
        f"{prefix}-is_active": "on",
        f"{prefix}-territories": territory().pk,
    }
    url = reverse("leads:member_preview", args=[a.pk])

    # session, user with their groups, the member, the territory, the member's
    # territories (form initial), the form's territories (choice check), then
    # the preview's members once for both lists.
    with django_assert_num_queries(7):
        response = client.get(url, data, headers={"HX-Request": "true"})

    preview = response.context["preview"]
    assert preview["current"] == preview_next(territory=territory(), role=a.role)
    assert preview["proposed"] == preview_next(
        territory=territory(), role=a.role, overrides={a.pk: {"priority": 3}}
    )


def test_tracker_page_queries_do_not_grow_with_members(client, django_assert_max_num_queries):
    _login(client, team_lead())
    for _ in range(3):
        member()
    with django_assert_max_num_queries(20) as small:
        _tracker(client)
    for _ in range(20):
        member()
    TaskFactory.create_batch(5)
    with django_assert_max_num_queries(len(small.captured_queries)):
        _tracker(client)


def test_adding_a_member_prefills_the_mid_month_level(client):
    lead = _login(client, team_lead())
    member(leads_this_month=50)
    member(leads_this_month=40, manual_adjustment=10)
    newcomer = UserFactory.create(team_lead=lead)

    response = client.post(
        reverse("leads:member_add"),
        {
            "user": newcomer.pk,
            "role": "TAE",
            "territories": [territory().pk],
            "priority": "1",
            "manual_adjustment": "",
            "territory": "europe-africa",
        },
    )

    assert response.status_code == 302
    joined = TrackerMember.objects.get(user=newcomer)
    assert joined.manual_adjustment == 50
    assert RoundRobinEvent.objects.get(member=joined, kind=LedgerKind.JOINED).actor == lead


def test_prefill_endpoint_answers_for_role_and_territories(client):
    _login(client, team_lead())
    member(leads_this_month=20)

    response = client.get(
        reverse("leads:member_prefill"), {"role": "TAE", "territories": [territory().pk]}
    )

    assert 'value="20"' in response.content.decode()


def test_a_member_records_their_own_time_off_but_not_someone_elses(client):
    own = member()
    other = member()
    _login(client, own.user)

    ok = client.post(
        reverse("leads:time_off_add"),
        {
            "member": own.pk,
            "starts_on": "2026-12-01",
            "ends_on": "2026-12-10",
            "territory": "europe-africa",
        },
    )
    refused = client.post(
        reverse("leads:time_off_add"),
        {"member": other.pk, "starts_on": "2026-12-01", "ends_on": "2026-12-10"},
    )

    assert ok.status_code == 302
    assert refused.status_code == 400
    assert list(TimeOff.objects.values_list("member", flat=True)) == [own.pk]


def test_unassigned_queue_shows_the_reason_and_a_lead_can_rerun_the_round_robin(client):
    _login(client, team_lead())
    from leads.assignment import assign_task

    task = TaskFactory.create()
    assign_task(task=task)
    assert "nobody with that role covers the territory" in _tracker(client).content.decode()
    picked = member()

    client.post(reverse("leads:queue_assign", args=[task.pk]), {"territory": "europe-africa"})

    task.refresh_from_db()
    assert task.assignee == picked.user


def test_preview_without_htmx_renders_the_whole_tracker_page(client):
    lead = _login(client, team_lead())
    a = teammate(lead)
    teammate(lead)
    prefix = f"m{a.pk}"

    response = client.get(
        reverse("leads:member_preview", args=[a.pk]),
        {
            "territory": "europe-africa",
            f"{prefix}-priority": "2",
            f"{prefix}-manual_adjustment": "0",
            f"{prefix}-is_active": "on",
            f"{prefix}-territories": territory().pk,
        },
    )

    body = response.content.decode()
    assert "<html" in body
    assert 'data-testid="preview-proposed"' in body
    assert response.context["preview"]["proposed"].count(a.user.name) == 7


def test_a_tam_cannot_preview_or_add_members(client):
    _login(client, tam())
    target = member()

    assert client.get(reverse("leads:member_preview", args=[target.pk])).status_code == 403
    assert client.post(reverse("leads:member_add"), {}).status_code == 403
    assert (
        client.post(reverse("leads:queue_assign", args=[TaskFactory.create().pk])).status_code
        == 403
    )


# --- team leads in their lane (issue 15) ------------------------------------------


def _edit(client, target, **values):
    prefix = f"m{target.pk}"
    data = {
        f"{prefix}-priority": "1",
        f"{prefix}-manual_adjustment": "0",
        f"{prefix}-is_active": "on",
        f"{prefix}-territories": [territory().pk],
        f"{prefix}-reason": "calibrate",
        **{f"{prefix}-{k}": v for k, v in values.items()},
    }
    url = reverse("leads:member_update", args=[target.pk]) + "?territory=europe-africa"
    return client.post(url, data)


def test_a_team_lead_cannot_change_another_teams_row_by_crafted_post(client):
    _login(client, team_lead())
    outsider = member(user=tam(team_lead=team_lead()))

    response = _edit(client, outsider, priority="3", manual_adjustment="40")

    assert response.status_code == 403
    outsider.refresh_from_db()
    assert (outsider.priority, outsider.manual_adjustment) == (1, 0)
    assert not RoundRobinEvent.objects.filter(member=outsider).exists()


def test_a_team_lead_cannot_preview_another_teams_row(client):
    _login(client, team_lead())
    outsider = member()
    url = reverse("leads:member_preview", args=[outsider.pk])
    assert client.get(url, {"territory": "europe-africa"}).status_code == 403


def test_a_manager_changes_any_teams_row(client):
    boss = _login(client, manager())
    target = member(user=tam(team_lead=team_lead()))

    response = _edit(client, target, priority="2")

    assert response.status_code == 302
    target.refresh_from_db()
    assert target.priority == 2
    assert RoundRobinEvent.objects.get(member=target, kind=LedgerKind.WEIGHT).actor == boss


def test_a_team_lead_gets_an_edit_link_only_on_their_own_teams_rows(client):
    lead = _login(client, team_lead())
    mine = teammate(lead)
    other = member()

    body = _tracker(client).content.decode()

    assert f"edit={mine.pk}#member-{mine.pk}" in body
    assert f"edit={other.pk}#" not in body


def test_the_tracker_page_has_no_inputs_in_its_rows_until_one_is_edited(client):
    lead = _login(client, team_lead())
    mine = teammate(lead)
    teammate(lead)

    body = _tracker(client).content.decode()

    assert "member-form-" not in body
    assert f'name="m{mine.pk}-priority"' not in body


def test_the_edit_link_without_javascript_shows_the_page_with_that_row_editable(client):
    lead = _login(client, team_lead())
    mine = teammate(lead)
    another_of_mine = teammate(lead)

    response = _tracker(client, edit=mine.pk)

    body = response.content.decode()
    assert "<html" in body
    assert f'id="member-form-{mine.pk}"' in body
    assert f'name="m{mine.pk}-priority"' in body
    assert f'id="preview-{mine.pk}"' in body
    assert f'id="member-form-{another_of_mine.pk}"' not in body


def test_the_edit_form_by_htmx_is_the_rows_partial_with_its_form(client):
    lead = _login(client, team_lead())
    mine = teammate(lead, manual_adjustment=7)

    response = client.get(
        reverse("leads:member_edit", args=[mine.pk]),
        {"territory": "europe-africa"},
        headers={"HX-Request": "true"},
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert body.lstrip().startswith(f'<tr id="member-{mine.pk}"')
    assert f'id="member-form-{mine.pk}"' in body
    assert f'name="m{mine.pk}-manual_adjustment"' in body
    assert 'value="7"' in body
    assert f'<tr id="preview-{mine.pk}" hidden>' in body


def test_the_edit_url_without_htmx_sends_to_the_page_with_the_row_editable(client):
    lead = _login(client, team_lead())
    mine = teammate(lead)

    response = client.get(
        reverse("leads:member_edit", args=[mine.pk]), {"territory": "europe-africa"}
    )

    assert response.status_code == 302
    assert response["Location"] == (
        f"{reverse('leads:tracker')}?territory=europe-africa&edit={mine.pk}#member-{mine.pk}"
    )


def test_a_team_lead_cannot_open_another_teams_row_for_editing(client):
    _login(client, team_lead())
    outsider = member(user=tam(team_lead=team_lead()))

    response = client.get(
        reverse("leads:member_edit", args=[outsider.pk]),
        {"territory": "europe-africa"},
        headers={"HX-Request": "true"},
    )
    page = _tracker(client, edit=outsider.pk).content.decode()

    assert response.status_code == 403
    assert f'id="member-form-{outsider.pk}"' not in page
    assert f'name="m{outsider.pk}-priority"' not in page


def test_the_edit_form_queries_do_not_grow_with_members(client, django_assert_num_queries):
    lead = _login(client, team_lead())
    mine = teammate(lead)
    url = reverse("leads:member_edit", args=[mine.pk])
    data = {"territory": "europe-africa"}
    # session, user with their groups, the member, every territory (the pick, reused
    # for the checkboxes and to name the rows' territories), the rows' members with
    # their territories' ids (the form's initial too), the ledger sums.
    with django_assert_num_queries(6):
        client.get(url, data, headers={"HX-Request": "true"})
    for _ in range(10):
        teammate(lead)
        member()
    with django_assert_num_queries(6):
        client.get(url, data, headers={"HX-Request": "true"})


def test_a_team_lead_cannot_add_another_teams_person(client):
    _login(client, team_lead())
    outsider = UserFactory.create(team_lead=team_lead())

    response = client.post(
        reverse("leads:member_add"),
        {
            "user": outsider.pk,
            "role": "TAE",
            "territories": [territory().pk],
            "priority": "1",
            "territory": "europe-africa",
        },
    )

    assert response.status_code == 400
    assert "user" in response.context["add_form"].errors
    assert not TrackerMember.objects.filter(user=outsider).exists()


def test_a_team_lead_records_time_off_for_their_team_only(client):
    lead = _login(client, team_lead())
    mine, other = teammate(lead), member()

    def record(target):
        return client.post(
            reverse("leads:time_off_add"),
            {
                "member": target.pk,
                "starts_on": "2030-01-07",
                "ends_on": "2030-01-10",
                "territory": "europe-africa",
            },
        )

    assert record(mine).status_code == 302
    refused = record(other)
    assert refused.status_code == 400
    assert "member" in refused.context["time_off_form"].errors
    assert list(TimeOff.objects.values_list("member", flat=True)) == [mine.pk]


def test_the_page_prefill_is_the_rules_prefill_over_the_same_colleagues(client):
    """The page takes the add form's prefill from the rows it read; the rule
    (``prefill_adjustment``) reads the colleagues with its own query. Every kind
    of colleague the rule leaves out is here: another role, inactive, login
    off, away on time off, a counter of an earlier month."""
    from leads.models import TrackerRole
    from leads.tracker import prefill_adjustment
    from revopsweb.dates import company_today, month_start

    _login(client, team_lead())
    today = company_today()
    member(leads_this_month=30)
    member(leads_this_month=12, manual_adjustment=4, priority=3)
    member(leads_this_month=90, role=TrackerRole.TAM)
    member(leads_this_month=80, is_active=False)
    off_login = member(leads_this_month=70)
    off_login.user.is_active = False
    off_login.user.save()
    away_member = member(leads_this_month=60)
    TimeOff.objects.create(member=away_member, starts_on=today, ends_on=today)
    member(leads_this_month=50, period=month_start(today.replace(day=1) - dt.timedelta(days=1)))

    response = _tracker(client)

    expected = prefill_adjustment(role=TrackerRole.TAE, territories=[territory()], today=today)
    assert response.context["add_form"].initial["manual_adjustment"] == expected
    # (30 + (12 + 4) × 3) / 2 colleagues present
    assert expected == 39


def test_the_page_shows_the_first_covered_territory_without_a_choice(client):
    from leads.models import Territory

    _login(client, team_lead())
    # The last territory: the first one (what the page shows with nobody anywhere) is not it.
    covered = Territory.objects.last()
    assert covered is not None and covered != Territory.objects.first()
    member(territories=[covered])

    response = client.get(reverse("leads:tracker"))

    assert response.context["territory"] == covered
    assert [t.pk for t in response.context["territories"]] == list(
        Territory.objects.values_list("pk", flat=True)
    )


def test_the_rows_and_the_queue_link_to_their_own_pages(client):
    from leads.assignment import assign_task

    tasks = TaskFactory.create_batch(2)
    for task in tasks:
        assign_task(task=task)  # nobody covers the territory yet: both wait in the queue
    lead = _login(client, team_lead())
    members = [teammate(lead) for _ in range(2)]

    html = _tracker(client).content.decode()
    editing = _tracker(client, edit=members[0].pk).content.decode()

    for m in members:
        edit = reverse("leads:member_edit", args=[m.pk])
        assert f'hx-get="{edit}?territory=europe-africa"' in html
        assert f'href="/tracker/?territory=europe-africa&amp;edit={m.pk}#member-{m.pk}"' in html
    update = reverse("leads:member_update", args=[members[0].pk])
    preview = reverse("leads:member_preview", args=[members[0].pk])
    assert f'action="{update}?territory=europe-africa"' in editing
    assert f'formaction="{preview}"' in editing
    assert editing.count(f'hx-get="{preview}?territory=europe-africa"') == 4
    for task in tasks:
        assert f'href="{reverse("leads:task", args=[task.pk])}"' in html
        assert f'href="{reverse("accounts:account", args=[task.account_id])}"' in html
        assert f'action="{reverse("leads:queue_assign", args=[task.pk])}"' in html


def test_an_action_without_a_territory_returns_to_the_first_covered_one(client):
    from leads.assignment import assign_task
    from leads.models import Territory

    _login(client, team_lead())
    task = TaskFactory.create()
    assign_task(task=task)  # nobody covers its territory: it waits in the queue
    covered = Territory.objects.last()
    assert covered is not None and covered != Territory.objects.first()
    member(territories=[covered])

    response = client.post(reverse("leads:queue_assign", args=[task.pk]))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('leads:tracker')}?territory={covered.slug}"


# --- rows in groups by role and team, collapsed ones loaded on demand (issue 20) ------


def _group(client, key, **headers):
    return client.get(
        reverse("leads:tracker"),
        {"territory": "europe-africa", "group": key, "part": "group"},
        headers=headers,
    )


def test_a_team_lead_sees_their_own_teams_rows_and_other_teams_as_collapsed_groups(client):
    lead = _login(client, team_lead())
    mine = teammate(lead)
    other_lead = team_lead(name="Olga Other")
    theirs = [teammate(other_lead) for _ in range(3)]

    body = _tracker(client).content.decode()

    assert f'id="member-{mine.pk}"' in body
    for m in theirs:
        assert f'id="member-{m.pk}"' not in body
    assert "Olga Other&#x27;s team: 3 members, 3 active" in body
    assert f'id="group-TAE-{other_lead.pk}"' in body
    assert (
        f'href="/tracker/?territory=europe-africa&amp;group=TAE-{other_lead.pk}#group-TAE-{other_lead.pk}"'
        in body
    )
    assert (
        f'hx-get="/tracker/?territory=europe-africa&amp;group=TAE-{other_lead.pk}&amp;part=group"'
        in body
    )


def test_a_member_sees_the_group_with_their_own_row_open(client):
    own = member(user=tam(team_lead=team_lead()))
    stranger = member()
    _login(client, own.user)

    body = _tracker(client).content.decode()

    assert f'id="member-{own.pk}"' in body
    assert f'id="member-{stranger.pk}"' not in body
    assert 'id="group-TAE-0"' in body


def test_a_collapsed_group_by_htmx_is_its_header_and_rows_only(client):
    _login(client, team_lead())
    other_lead = team_lead(name="Olga Other")
    theirs = [teammate(other_lead) for _ in range(2)]
    stranger = member()

    response = _group(client, f"TAE-{other_lead.pk}", HX_Request="true")

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert body.lstrip().startswith(f'<tr class="team-group" id="group-TAE-{other_lead.pk}"')
    for m in theirs:
        assert f'id="member-{m.pk}"' in body
    assert f'id="member-{stranger.pk}"' not in body
    assert "Show the" not in body


def test_a_group_link_without_javascript_opens_it_on_the_page(client):
    _login(client, team_lead())
    other_lead = team_lead()
    theirs = teammate(other_lead)

    response = _group(client, f"TAE-{other_lead.pk}")

    body = response.content.decode()
    assert "<html" in body
    assert f'id="member-{theirs.pk}"' in body


def test_an_unknown_group_by_htmx_is_a_404(client):
    _login(client, team_lead())
    member()

    assert _group(client, "TAE-999999", HX_Request="true").status_code == 404
    assert _group(client, "nonsense", HX_Request="true").status_code == 404


def test_a_group_reads_its_figures_over_the_whole_role(client):
    _login(client, manager())
    lead = team_lead()
    mine = teammate(lead)
    teammate(team_lead(), priority=3)

    response = _group(client, f"TAE-{lead.pk}", HX_Request="true")

    (row,) = next(t for g in response.context["groups"] for t in g.teams if t.open).rows
    assert row.member == mine
    # 1/1 over 1/1 + 1/3: the other team's member counts in the role's target shares.
    assert row.target_percent == 75
    assert 'class="num">75%</td>' in response.content.decode()


def test_a_group_queries_do_not_grow_with_members(client, django_assert_num_queries):
    _login(client, team_lead())
    other_lead = team_lead()
    teammate(other_lead)
    key = f"TAE-{other_lead.pk}"
    # session, user with their groups, the territories (the pick, and the names of the
    # rows' territories), the rows' members with their territories' ids, the ledger sums.
    with django_assert_num_queries(5):
        _group(client, key, HX_Request="true")
    for _ in range(10):
        teammate(other_lead)
        member()
    with django_assert_num_queries(5):
        _group(client, key, HX_Request="true")


def test_an_htmx_save_keeps_the_saved_members_group_open(client):
    _login(client, manager())
    lead = team_lead()
    target = teammate(lead)
    prefix = f"m{target.pk}"

    response = client.post(
        reverse("leads:member_update", args=[target.pk]) + "?territory=europe-africa",
        {
            f"{prefix}-priority": "2",
            f"{prefix}-manual_adjustment": "0",
            f"{prefix}-is_active": "on",
            f"{prefix}-territories": [territory().pk],
            f"{prefix}-reason": "ramping",
        },
        headers={"HX-Request": "true"},
    )

    body = response.content.decode()
    assert f'<tr id="member-{target.pk}">' in body
    assert '<td class="num">2</td>' in body


def test_a_plain_save_returns_to_the_saved_members_group(client):
    _login(client, manager())
    lead = team_lead()
    target = teammate(lead)

    response = _edit(client, target, priority="2")

    assert response.status_code == 302
    assert response["Location"] == (
        f"{reverse('leads:tracker')}?territory=europe-africa&group=TAE-{lead.pk}#member-{target.pk}"
    )
    assert f'id="member-{target.pk}"' in client.get(response["Location"]).content.decode()


def test_the_time_off_choices_are_the_members_the_user_may_record_for(client):
    lead = _login(client, team_lead())
    mine = teammate(lead)
    stranger = member()

    body = _tracker(client).content.decode()
    select = body.split('<select name="member"')[1].split("</select>")[0]

    assert f'<option value="{mine.pk}">{mine.user.name} (TAE)</option>' in select
    assert f'value="{stranger.pk}"' not in select


def test_a_read_only_row_shows_each_figure_with_its_text_escaped(client):
    lead = _login(client, team_lead())
    mine = teammate(lead, priority=2, manual_adjustment=-3, leads_this_month=5)
    mine.user.name = 'Zoë "Z" <O\'Neil> & co'
    mine.user.save(update_fields=["name"])
    today = dt.date.today()
    TimeOff.objects.create(member=mine, starts_on=today, ends_on=today + dt.timedelta(days=2))
    other_lead = team_lead()
    theirs = teammate(other_lead)
    pk, key = mine.pk, f"TAE-{other_lead.pk}"

    body = _tracker(client, group=key).content.decode()

    # Load (5 - 3) x 2 = 4; target (1/2) / (1/2 + 1/1) = 33%; no lead here yet; on time
    # off, so the other team's member is next in line.
    assert (
        f'\n<tr id="member-{pk}"><td>Zoë &quot;Z&quot; &lt;O&#x27;Neil&gt; &amp; co</td>\n'
        '<td><span class="badge">Europe &amp; Africa</span></td><td class="num">2</td>\n'
        '<td class="num">-3</td><td>yes\n<span class="badge">time off</span></td>'
        '<td class="num">5</td><td class="num">4</td>\n'
        '<td class="num">0% <small>(0)</small></td>\n'
        '<td class="num">33%</td>\n'
        f'<td><a href="/tracker/?territory=europe-africa&amp;edit={pk}#member-{pk}" class="small"'
        f' hx-get="/tracker/members/{pk}/edit/?territory=europe-africa" hx-target="#member-{pk}"'
        ' hx-swap="outerHTML"\naria-label="Edit Zoë &quot;Z&quot; &lt;O&#x27;Neil&gt; &amp; co">Edit</a></td></tr>\n'
    ) in body
    assert (
        f'<tr id="member-{theirs.pk}"><td>{theirs.user.name} <span class="badge good">next</span></td>'
    ) in body
    assert '<td class="num">67%</td><td><small>another team\'s</small></td></tr>\n' in body


def test_a_history_row_shows_the_change_its_author_and_why_escaped(client):
    lead = _login(client, team_lead(name="Lee <Lead>"))
    mine = teammate(lead, manual_adjustment=4)
    mine.user.name = "Ann & Bo"
    mine.user.save(update_fields=["name"])
    at = dt.datetime(2026, 3, 2, 14, 5, tzinfo=dt.UTC)
    update_member(member=mine, author=lead, reason='back "early" <b>', manual_adjustment=-2, now=at)
    RoundRobinEvent.objects.filter(member=mine).update(at=at)

    body = _tracker(client).content.decode()

    # 14:05 UTC is 09:05 in the company's time zone (EST in March before the 8th).
    assert (
        "\n    <tr><td>2026-03-02 09:05 EST</td><td>Lee &lt;Lead&gt;</td><td>Ann &amp; Bo</td>\n"
        "    <td>Manual adjustment (-6)</td>\n"
        "    <td>4 → -2</td><td>back &quot;early&quot; &lt;b&gt;</td></tr>\n  "
    ) in body


def test_the_history_shows_a_reset_of_leads_and_leaves_out_a_reset_of_nothing(client):
    _login(client, team_lead())
    busy = member(user=tam(name="Busy Bee"))
    member(user=tam(name="Idle Ida"))
    TrackerMember.objects.filter(pk=busy.pk).update(leads_this_month=3)
    open_period(period=dt.date(2099, 1, 1))

    body = _tracker(client).content.decode()

    assert RoundRobinEvent.objects.filter(kind=LedgerKind.RESET).count() == 2
    assert "<td>Busy Bee</td>\n    <td>Monthly reset (new period)</td>" in body
    assert "<td>Idle Ida</td>\n    <td>Monthly reset (new period)</td>" not in body


def test_a_member_finds_their_own_time_off_option_selected(client):
    own = member(user=tam(name="Tia <T> & Co"))
    _login(client, own.user)

    body = _tracker(client).content.decode()
    select = body.split('<select name="member"')[1].split("</select>")[0]

    assert '<option value="">' in select
    assert f'<option value="{own.pk}"\n    selected>Tia &lt;T&gt; &amp; Co (TAE)</option>' in select


def test_the_time_off_list_shows_the_territorys_current_and_coming_absences(client):
    from revopsweb.dates import company_today

    lead = _login(client, team_lead())
    here = teammate(lead)
    elsewhere = member(territories=[territory("us-west")])
    today = company_today()
    for who, start, end, note in (
        (here, 3, 5, "conference"),
        (here, -5, -1, "last week"),
        (here, -2, 0, "ends today"),
        (elsewhere, 0, 1, "other territory"),
    ):
        TimeOff.objects.create(
            member=who,
            starts_on=today + dt.timedelta(days=start),
            ends_on=today + dt.timedelta(days=end),
            note=note,
        )

    body = _tracker(client).content.decode()
    listed = body.split("<h2>Time off</h2>")[1].split("</ul>")[0]

    assert "conference" in listed
    assert "ends today" in listed
    assert "last week" not in listed
    assert "other territory" not in listed


def test_a_queue_row_shows_the_task_with_its_text_escaped(client):
    from leads.assignment import assign_task

    _login(client, team_lead())
    task = TaskFactory.create(account__name='Ann "A" <B> & co', lead_type="new_business")
    task.created_at = dt.datetime(2026, 3, 2, 14, 5, tzinfo=dt.UTC)
    task.save(update_fields=["created_at"])
    assign_task(task=task)  # nobody covers the territory: it waits in the queue

    body = _tracker(client).content.decode()

    # 14:05 UTC is 09:05 in the company's time zone (EST in March before the 8th).
    assert (
        f'\n    <tr>\n      <td><a href="/tasks/{task.pk}/">2026-03-02 09:05 EST</a></td>\n'
        f'      <td><a href="/accounts/{task.account_id}/">Ann &quot;A&quot; &lt;B&gt; &amp; co</a>'
        "</td><td>New business</td>\n"
        "      <td>no eligible TAE in Europe &amp; Africa: nobody with that role covers the"
        " territory</td>\n"
        f'      <td><form method="post" action="/tracker/queue/{task.pk}/assign/" class="inline">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="'
    ) in body


def test_a_queue_rows_form_posts_with_its_csrf_token():
    import re

    from django.test import Client

    from leads.assignment import assign_task

    client = Client(enforce_csrf_checks=True)
    _login(client, team_lead())
    task = TaskFactory.create()
    assign_task(task=task)
    picked = member()
    body = _tracker(client).content.decode()
    action = reverse("leads:queue_assign", args=[task.pk])
    form = body.split(f'<form method="post" action="{action}" class="inline">')[1]
    token = re.match(r'<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)">', form)
    assert token is not None

    response = client.post(
        action, {"csrfmiddlewaretoken": token.group(1), "territory": "europe-africa"}
    )

    assert response.status_code == 302
    task.refresh_from_db()
    assert task.assignee == picked.user


def test_the_add_forms_people_are_the_team_lead_and_their_team_not_in_the_tracker(client):
    lead = _login(client, team_lead(name="Lee"))
    newcomer = UserFactory.create(team_lead=lead, name="Ann <A> & co")
    teammate(lead)
    outsider = UserFactory.create(team_lead=team_lead())

    body = _tracker(client).content.decode()
    select = body.split('<select name="user"')[1].split("</select>")[0]

    assert select == (
        ' required id="id_user">\n  <option value="" selected>Choose…</option>\n'
        f'\n  <option value="{newcomer.pk}">Ann &lt;A&gt; &amp; co</option>\n'
        f'\n  <option value="{lead.pk}">Lee</option>\n\n'
    )
    assert f'value="{outsider.pk}"' not in select


def test_a_refused_add_keeps_the_chosen_person_selected(client):
    lead = _login(client, team_lead())
    newcomer = UserFactory.create(team_lead=lead, name="Ann")

    response = client.post(
        reverse("leads:member_add"),
        {"user": newcomer.pk, "role": "TAE", "priority": "1", "territory": "europe-africa"},
    )

    assert response.status_code == 400
    select = response.content.decode().split('<select name="user"')[1].split("</select>")[0]
    assert '<option value="" selected>' not in select
    assert f'<option value="{newcomer.pk}" selected>Ann</option>' in select


def test_a_refused_add_of_another_teams_person_marks_the_field_invalid(client):
    _login(client, team_lead())
    outsider = UserFactory.create(team_lead=team_lead())

    response = client.post(
        reverse("leads:member_add"),
        {"user": outsider.pk, "role": "TAE", "priority": "1", "territory": "europe-africa"},
    )

    assert response.status_code == 400
    assert (
        '<select name="user" required aria-invalid="true" aria-describedby="id_user_error"'
        ' id="id_user">'
    ) in response.content.decode()


def test_a_collapsed_groups_header_shows_its_counts_and_link_escaped(client):
    _login(client, team_lead())
    other_lead = team_lead(name="Lee <L>")
    theirs = teammate(other_lead)
    theirs.user.name = "Bo & co"
    theirs.user.save(update_fields=["name"])
    key = f"TAE-{other_lead.pk}"

    body = _tracker(client).content.decode()

    # One member, active, no lead here yet, and the role's only member: next in line.
    assert (
        f'<tr class="team-group" id="group-{key}" data-testid="team-group">'
        '<th colspan="10" scope="rowgroup">\n'
        "  Lee &lt;L&gt;&#x27;s team: 1 member, 1 active, 0\n"
        "  leads here this month · next in line: Bo &amp; co\n"
        "  \n"
        f'  <a href="/tracker/?territory=europe-africa&amp;group={key}#group-{key}" class="small"\n'
        f'  hx-get="/tracker/?territory=europe-africa&amp;group={key}&amp;part=group"'
        f' hx-target="#group-{key}"\n'
        '  hx-swap="outerHTML">Show the 1 member</a></th></tr>\n'
    ) in body


def test_a_refused_row_save_through_htmx_answers_422_with_the_rows(client):
    # 422, not 400: with DEBUG on (the quick start) django-htmx's script replaces the
    # whole page with a 400's body; static/js/app.js swaps a 422 into the rows.
    lead = _login(client, team_lead())
    target = teammate(lead)

    response = _save_adjustment_without_reason(client, target, headers={"HX-Request": "true"})

    assert response.status_code == 422
    body = response.content.decode()
    assert body.lstrip().startswith('<tbody id="member-rows"')
    assert "Say why the adjustment changes." in body


def test_the_queue_reads_the_unassigned_leads_index_oldest_first(client):
    # As the history's test: with scans off PostgreSQL still has the territory's index
    # (every task of it, sorted afterwards) and the queue's partial one, which it may
    # only use if the statement's filter implies the index's condition.
    lead = _login(client, team_lead())
    here = territory()
    account = AccountFactory.create(territory=here)
    someone = teammate(lead)
    Task.objects.bulk_create(
        Task(
            account=account,
            territory=here,
            source="contact_form",
            lead_type="new_business",
            created_at=timezone.now(),
            assignee=someone.user,
            status="in_progress",
        )
        for _ in range(300)
    )
    TaskFactory.create(account=account)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_task")
    with CaptureQueriesContext(connection) as issued:
        client.get(reverse("leads:tracker"), {"territory": here.slug})
    (statement,) = (q["sql"] for q in issued if "unassigned_reason" in q["sql"])

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + statement)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "task_unassigned_queue" in plan, plan
