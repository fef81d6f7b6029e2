"""Undoing a round-robin assignment from the task page (issue 16 §5)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.roles import Role
from accounts.tests.factories import AccountFactory, manager, tam, team_lead, user_with_role
from leads.assignment import assign_task
from leads.ledger import AlreadyUndone, undo_task_assignment
from leads.models import LedgerKind, RoundRobinEvent, Task, TaskEvent, TaskEventKind
from leads.tests.factories import TaskFactory, member

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def assigned_task(lead) -> Task:
    """A task the round robin gave to a member of ``lead``'s team."""
    member(user=user_with_role(Role.TAE, team_lead=lead))
    task = TaskFactory.create()
    assign_task(task=task)
    return task


def undo_url(task: Task) -> str:
    return reverse("leads:task_undo", args=[task.pk])


def test_a_team_lead_undoes_with_a_reason_recorded_in_the_ledger(client):
    lead = team_lead()
    task = assigned_task(lead)
    previous = task.assignee
    client.force_login(lead)

    response = client.post(undo_url(task), {"reason": "duplicate of task 12"})

    assert response.status_code == 302
    task.refresh_from_db()
    assert task.assignee is None
    undo = RoundRobinEvent.objects.get(kind=LedgerKind.COMPENSATION)
    assert (undo.actor, undo.reason, undo.delta) == (lead, "duplicate of task 12", -1)
    history = TaskEvent.objects.get(task=task, kind=TaskEventKind.UNASSIGNED, actor=lead)
    assert history.summary == f"Assignment to {previous} undone"


def test_a_second_undo_says_it_is_already_undone_and_writes_nothing(client):
    lead = team_lead()
    task = assigned_task(lead)
    client.force_login(lead)
    client.post(undo_url(task), {"reason": "wrong territory"})

    response = client.post(undo_url(task), {"reason": "again"}, follow=True)

    assert response.status_code == 200
    assert f"Already undone by {lead}" in response.text
    assert RoundRobinEvent.objects.filter(kind=LedgerKind.COMPENSATION).count() == 1


def test_the_undo_works_over_htmx_and_twice_over_htmx(client):
    lead = team_lead()
    task = assigned_task(lead)
    client.force_login(lead)

    first = client.post(undo_url(task), {"reason": "wrong territory"}, **HTMX)
    second = client.post(undo_url(task), {"reason": "again"}, **HTMX)

    assert first.status_code == second.status_code == 200
    assert 'id="task-work"' in first.text and "<html" not in first.text
    assert 'data-testid="undo-assignment"' not in first.text  # nothing left to undo
    assert RoundRobinEvent.objects.filter(kind=LedgerKind.COMPENSATION).count() == 1


def test_the_function_refuses_a_second_undo_by_naming_the_first():
    lead = team_lead()
    task = assigned_task(lead)
    first = undo_task_assignment(task=task, author=lead, reason="wrong territory")
    with pytest.raises(AlreadyUndone) as refused:
        undo_task_assignment(task=task, author=lead, reason="again")
    assert refused.value.compensation == first


def test_an_undo_needs_a_reason(client):
    lead = team_lead()
    task = assigned_task(lead)
    client.force_login(lead)

    response = client.post(undo_url(task), {"reason": "  "})

    assert response.status_code == 422
    assert not RoundRobinEvent.objects.filter(kind=LedgerKind.COMPENSATION).exists()


def test_the_task_page_offers_the_undo_to_the_team_lead_only(client):
    lead = team_lead()
    task = assigned_task(lead)
    client.force_login(lead)
    assert 'data-testid="undo-assignment"' in client.get(reverse("leads:task", args=[task.pk])).text
    client.force_login(task.assignee)
    assert (
        'data-testid="undo-assignment"'
        not in client.get(reverse("leads:task", args=[task.pk])).text
    )


@pytest.mark.parametrize("who", ["other_lead", "assignee"])
def test_someone_else_cannot_undo(client, who):
    task = assigned_task(team_lead())
    client.force_login(team_lead() if who == "other_lead" else task.assignee)
    assert client.post(undo_url(task), {"reason": "mine now"}).status_code == 403
    assert not RoundRobinEvent.objects.filter(kind=LedgerKind.COMPENSATION).exists()


def test_a_manager_undoes_any_teams_assignment(client):
    task = assigned_task(team_lead())
    client.force_login(manager())
    assert client.post(undo_url(task), {"reason": "wrong territory"}).status_code == 302


def test_an_owners_task_has_nothing_to_undo(client):
    owner = tam()
    task = TaskFactory.create(account=AccountFactory.create(owner=owner, owner_role="TAM"))
    assign_task(task=task)
    client.force_login(manager())

    response = client.post(undo_url(task), {"reason": "wrong"})

    assert response.status_code == 422
    assert "nothing to undo" in response.text


def test_undo_refuses_get(client):
    task = assigned_task(team_lead())
    client.force_login(manager())
    assert client.get(undo_url(task)).status_code == 405
