"""The four cases of every task and tracker page and action (see
revopsweb/tests/view_cases.py): full page, htmx partial, wrong method, other user."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.tests.factories import manager, tam, team_lead
from leads.models import Task
from leads.tests.factories import TaskFactory, member, teammate
from revopsweb.tests.view_cases import HTMX, call, is_full_page, is_partial

pytestmark = pytest.mark.django_db


@pytest.fixture
def task() -> Task:
    return TaskFactory.create(assignee=tam())


# url name → the pk it takes ("task", "member" or none).
PK_OF = {
    "leads:task": "task",
    "leads:task_touch": "task",
    "leads:task_disqualify": "task",
    "leads:task_convert": "task",
    "leads:task_undo": "task",
    "leads:task_nurture": "task",
    "leads:queue_assign": "task",
    "leads:member_update": "member",
    "leads:member_edit": "member",
    "leads:member_preview": "member",
}


def _url(name: str, task: Task) -> str:
    kind = PK_OF.get(name)
    if kind == "task":
        return reverse(name, args=[task.pk])
    if kind == "member":
        return reverse(name, args=[member().pk])
    return reverse(name)


WRONG_METHOD = [
    ("leads:contact", "put"),
    ("leads:my_tasks", "post"),
    ("leads:new_task", "put"),
    ("leads:team_tasks", "post"),
    ("leads:task", "post"),
    ("leads:task_touch", "get"),
    ("leads:task_disqualify", "get"),
    ("leads:task_convert", "get"),
    ("leads:task_undo", "get"),
    ("leads:task_nurture", "get"),
    ("leads:tracker", "post"),
    ("leads:member_add", "get"),
    ("leads:member_prefill", "post"),
    ("leads:member_update", "get"),
    ("leads:member_edit", "post"),
    ("leads:member_preview", "post"),
    ("leads:time_off_add", "get"),
    ("leads:queue_assign", "get"),
]


@pytest.mark.parametrize(("name", "method"), WRONG_METHOD)
def test_a_view_refuses_a_method_it_does_not_take(client, task, name, method):
    client.force_login(manager())
    assert call(client, method, _url(name, task)).status_code == 405


# Another TAM: not the assignee, not a team lead.
OTHER_USER = [
    ("leads:task", "get", 404),
    ("leads:task_touch", "post", 404),
    ("leads:task_disqualify", "post", 404),
    ("leads:task_convert", "post", 404),
    ("leads:task_undo", "post", 404),
    ("leads:task_nurture", "post", 404),
    ("leads:team_tasks", "get", 403),
    ("leads:member_add", "post", 403),
    ("leads:member_prefill", "get", 403),
    ("leads:member_update", "post", 403),
    ("leads:member_edit", "get", 403),
    ("leads:member_preview", "get", 403),
    ("leads:queue_assign", "post", 403),
]


@pytest.mark.parametrize(("name", "method", "status"), OTHER_USER)
def test_another_tam_is_refused(client, task, name, method, status):
    client.force_login(tam())
    assert call(client, method, _url(name, task)).status_code == status


def test_another_tam_does_not_see_the_task_in_their_queue(client, task):
    link = reverse("leads:task", args=[task.pk])
    client.force_login(task.assignee)
    assert link in client.get(reverse("leads:my_tasks")).content.decode()
    client.force_login(tam())
    assert link not in client.get(reverse("leads:my_tasks")).content.decode()


@pytest.mark.parametrize(
    ("name", "who"),
    [
        ("leads:my_tasks", "assignee"),
        ("leads:new_task", "assignee"),
        ("leads:team_tasks", "team lead"),
        ("leads:task", "assignee"),
        ("leads:tracker", "assignee"),
        ("leads:contact", "nobody"),
    ],
)
def test_a_page_renders_in_full(client, task, name, who):
    if who != "nobody":
        client.force_login(task.assignee if who == "assignee" else team_lead())
    response = client.get(_url(name, task))
    assert response.status_code == 200
    assert is_full_page(response)


def test_the_tracker_preview_by_htmx_answers_with_the_preview_only(client):
    lead = team_lead()
    client.force_login(lead)
    url = reverse("leads:member_preview", args=[teammate(lead).pk])
    response = client.get(url, **HTMX)
    assert is_partial(response)
    assert "Next 20" in response.content.decode()


def test_a_rows_edit_form_by_htmx_answers_with_the_row_only(client):
    lead = team_lead()
    client.force_login(lead)
    url = reverse("leads:member_edit", args=[teammate(lead).pk])
    response = client.get(url, **HTMX)
    assert is_partial(response)
    assert 'data-testid="member-edit"' in response.content.decode()


def test_the_prefill_answers_with_its_fragment_only(client):
    client.force_login(team_lead())
    response = client.get(reverse("leads:member_prefill"), {"role": "TAE"}, **HTMX)
    assert is_partial(response)
    assert 'name="manual_adjustment"' in response.content.decode()


def test_a_refused_disqualification_by_htmx_answers_with_the_task_work_only(client, task):
    client.force_login(task.assignee)
    url = _url("leads:task_disqualify", task)
    response = call(client, "post", url, {"reason": "other"}, **HTMX)
    assert b"<html" not in response.content
    assert 'id="task-work"' in response.content.decode()
