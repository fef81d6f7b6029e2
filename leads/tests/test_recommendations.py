"""Recommendations: a task kind with a due date, given and actioned on the account page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.models import OwnerRole
from accounts.tests.factories import AccountFactory, manager, tam
from leads.models import Task, TaskEvent, TaskKind, TaskStatus
from leads.recommendations import (
    RecommendationError,
    action_recommendation,
    give_recommendation,
    open_recommendations,
)
from leads.stale import process_stale_tasks

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 18, 17, 0, tzinfo=dt.UTC)  # Wednesday 2026-11-18 in New York


def _account(owner=None):
    return AccountFactory.create(
        owner=owner or tam(), owner_role=OwnerRole.TAM, owner_since=dt.date(2025, 1, 1)
    )


def test_a_recommendation_is_due_two_weeks_after_it_is_given_by_default():
    account = _account()
    task = give_recommendation(account=account, by=account.owner, text=" Try cohorts ", now=NOW)
    assert (task.kind, task.status, task.due_on) == (
        TaskKind.RECOMMENDATION,
        TaskStatus.RECOMMENDED,
        dt.date(2026, 12, 2),
    )
    assert (task.message, task.assignee, task.created_by) == (
        "Try cohorts",
        account.owner,
        account.owner,
    )
    event = TaskEvent.objects.get(task=task)
    assert (event.actor, event.reason) == (account.owner, "Try cohorts")


def test_a_past_due_date_or_an_empty_text_is_refused():
    account = _account()
    with pytest.raises(RecommendationError, match="past"):
        give_recommendation(
            account=account, by=account.owner, text="x", due_on=dt.date(2026, 11, 17), now=NOW
        )
    with pytest.raises(RecommendationError):
        give_recommendation(account=account, by=account.owner, text="   ", now=NOW)
    assert not Task.objects.exists()


def test_another_tams_account_is_not_theirs_to_recommend_on():
    account = _account()
    with pytest.raises(PermissionDenied):
        give_recommendation(account=account, by=tam(), text="x", now=NOW)
    give_recommendation(account=account, by=manager(), text="x", now=NOW)


def test_actioning_closes_it_once_and_records_who():
    account = _account()
    task = give_recommendation(account=account, by=account.owner, text="x", now=NOW)
    later = NOW + dt.timedelta(days=3)
    action_recommendation(task=task, by=account.owner, note="They did it", now=later)
    task.refresh_from_db()
    assert (task.status, task.closed_at) == (TaskStatus.ACTIONED, later)
    assert not open_recommendations(account).exists()
    with pytest.raises(RecommendationError, match="already"):
        action_recommendation(task=task, by=account.owner, now=later)
    assert TaskEvent.objects.filter(task=task, reason="They did it").count() == 1


def test_someone_outside_the_book_cannot_action_it():
    account = _account()
    task = give_recommendation(account=account, by=account.owner, text="x", now=NOW)
    with pytest.raises(PermissionDenied):
        action_recommendation(task=task, by=tam(), now=NOW)


def test_recommendations_stay_out_of_the_queue_and_the_stale_job(client):
    account = _account()
    task = give_recommendation(account=account, by=account.owner, text="x", now=NOW)
    process_stale_tasks(now=NOW + dt.timedelta(days=60))
    task.refresh_from_db()
    assert (task.status, task.assignee, task.reassignment_count) == (
        TaskStatus.RECOMMENDED,
        account.owner,
        0,
    )
    client.force_login(account.owner)
    assert task.pk not in [t.pk for t in client.get(reverse("leads:my_tasks")).context["tasks"]]
    assert client.get(reverse("leads:task", args=[task.pk])).status_code == 404


def test_the_account_page_records_and_actions_a_recommendation(client):
    account = _account()
    client.force_login(account.owner)
    url = reverse("accounts:account_recommend", args=[account.pk])
    response = client.post(url, {"text": "Adopt feature flags", "due_on": "2099-01-01"})
    assert response.status_code == 302
    task = Task.objects.get(kind=TaskKind.RECOMMENDATION)
    assert (task.message, task.due_on) == ("Adopt feature flags", dt.date(2099, 1, 1))
    page = client.get(reverse("accounts:account", args=[account.pk]))
    assert "Adopt feature flags" in page.content.decode()
    assert task not in page.context["tasks"]  # the lead task list
    response = client.post(
        reverse("accounts:recommendation_actioned", args=[task.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'id="recommendations"' in response.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.ACTIONED


def test_a_bad_recommendation_post_answers_422_with_the_error(client):
    account = _account()
    client.force_login(account.owner)
    url = reverse("accounts:account_recommend", args=[account.pk])
    response = client.post(url, {"text": "", "due_on": "2001-01-01"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "This field is required" in response.content.decode()
    response = client.post(url, {"text": "x", "due_on": "2001-01-01"})
    assert response.status_code == 422
    assert "past" in response.content.decode()
    assert not Task.objects.exists()


def test_another_tam_cannot_post_a_recommendation(client):
    account = _account()
    client.force_login(tam())
    response = client.post(reverse("accounts:account_recommend", args=[account.pk]), {"text": "x"})
    assert response.status_code in (403, 404)
    assert not Task.objects.exists()
