"""Qualification outcomes and follow-ups (sales/overview splits, product-led qualification)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Activity, OwnerRole
from accounts.tests.factories import AccountFactory, tam
from leads import jobs
from leads.followups import FollowUpDateError, nurture_task, raise_due_follow_ups
from leads.models import (
    DisqualificationReason,
    Task,
    TaskEvent,
    TaskSource,
    TaskStatus,
)
from leads.task_actions import disqualify_task
from leads.tests.factories import TaskFactory, territory

pytestmark = pytest.mark.django_db

# Company noon, Monday 15 June 2026.
NOW = dt.datetime(2026, 6, 15, 16, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 6, 15)
R = DisqualificationReason


def _owned_task(**kwargs) -> Task:
    owner = tam()
    account = AccountFactory.create(
        owner=owner, owner_role=OwnerRole.TAM, territory=territory("us-east")
    )
    return TaskFactory.create(account=account, assignee=owner, **kwargs)


@pytest.mark.parametrize(
    ("reason", "days"),
    [(R.NO_RESPONSE_PROSPECT, 120), (R.BELOW_ASSIST_PROSPECT, 90), (R.USING_COMPETITOR, 270)],
)
def test_prospect_reasons_get_their_default_follow_up_date(reason, days):
    task = _owned_task()

    disqualify_task(task=task, reason=reason, actor=task.assignee, now=NOW)

    task.refresh_from_db()
    assert task.follow_up_on == TODAY + dt.timedelta(days=days)
    assert "follow-up task on" in task.events.get(kind="disqualified").summary


@pytest.mark.parametrize(("days", "allowed"), [(89, False), (90, True), (183, True), (184, False)])
def test_no_response_prospect_follow_up_is_three_to_six_months_out(days, allowed):
    task = _owned_task()
    chosen = TODAY + dt.timedelta(days=days)

    if allowed:
        disqualify_task(
            task=task, reason=R.NO_RESPONSE_PROSPECT, actor=None, follow_up_on=chosen, now=NOW
        )
        task.refresh_from_db()
        assert task.follow_up_on == chosen
    else:
        with pytest.raises(FollowUpDateError):
            disqualify_task(
                task=task, reason=R.NO_RESPONSE_PROSPECT, actor=None, follow_up_on=chosen, now=NOW
            )
        task.refresh_from_db()
        assert task.status == TaskStatus.NEW


def test_pass_reasons_get_no_follow_up():
    task = _owned_task()

    disqualify_task(task=task, reason=R.NO_RESPONSE_PASS, actor=None, now=NOW)
    task.refresh_from_db()
    assert task.follow_up_on is None

    other = _owned_task()
    with pytest.raises(FollowUpDateError):
        disqualify_task(
            task=other,
            reason=R.NOT_A_GOOD_FIT,
            actor=None,
            follow_up_on=TODAY + dt.timedelta(days=100),
            now=NOW,
        )


@pytest.mark.parametrize(
    ("reason", "team"), [(R.SUPPORT_REQUEST, "Support"), (R.BILLING_SUPPORT_REQUEST, "Billing")]
)
def test_support_and_billing_requests_are_routed_out(reason, team):
    task = _owned_task(message="How do I reset my password?")

    disqualify_task(task=task, reason=reason, actor=task.assignee, now=NOW)

    note = Activity.objects.get(account=task.account)
    assert note.summary.startswith(f"Routed to {team} from sales task {task.pk}")
    assert note.body == "How do I reset my password?"
    assert f"routed to {team}" in task.events.get(kind="disqualified").summary
    task.refresh_from_db()
    assert task.status == TaskStatus.DISQUALIFIED


@pytest.mark.parametrize(("days", "allowed"), [(29, False), (30, True), (60, True), (61, False)])
def test_nurture_is_for_30_to_60_days(days, allowed):
    task = _owned_task()
    come_back = TODAY + dt.timedelta(days=days)

    if allowed:
        nurture_task(task=task, actor=task.assignee, follow_up_on=come_back, now=NOW)
        task.refresh_from_db()
        assert (task.status, task.follow_up_on) == (TaskStatus.NURTURING, come_back)
    else:
        with pytest.raises(FollowUpDateError):
            nurture_task(task=task, actor=task.assignee, follow_up_on=come_back, now=NOW)


def test_a_due_prospect_disqualification_gets_one_follow_up_task_for_the_owner():
    task = _owned_task()
    disqualify_task(task=task, reason=R.BELOW_ASSIST_PROSPECT, actor=None, now=NOW)
    due = NOW + dt.timedelta(days=90)

    before = raise_due_follow_ups(now=due - dt.timedelta(days=1))
    first = raise_due_follow_ups(now=due)
    second = raise_due_follow_ups(now=due + dt.timedelta(days=1))

    assert before.follow_ups == []
    (follow_up_id,) = first.follow_ups
    assert second.follow_ups == []
    follow_up = Task.objects.get(pk=follow_up_id)
    assert follow_up.follow_up_of_id == task.pk
    assert follow_up.source == TaskSource.FOLLOW_UP
    assert follow_up.assignee == task.account.owner
    assert f"Follow-up of task {task.pk}" in follow_up.message


def test_a_nurtured_task_comes_back_in_progress_on_its_date_once():
    task = _owned_task()
    nurture_task(
        task=task, actor=task.assignee, follow_up_on=TODAY + dt.timedelta(days=30), now=NOW
    )

    early = raise_due_follow_ups(now=NOW + dt.timedelta(days=29))
    due = raise_due_follow_ups(now=NOW + dt.timedelta(days=30))
    again = raise_due_follow_ups(now=NOW + dt.timedelta(days=31))

    task.refresh_from_db()
    assert (early.back_in_progress, due.back_in_progress, again.back_in_progress) == (0, 1, 0)
    assert task.status == TaskStatus.IN_PROGRESS
    assert (
        TaskEvent.objects.filter(task=task, summary__startswith="Nurture follow-up due").count()
        == 1
    )


def test_the_follow_up_job_and_command_record_runs():
    task = _owned_task()
    disqualify_task(
        task=task,
        reason=R.USING_COMPETITOR,
        actor=None,
        now=dt.datetime.now(dt.UTC) - dt.timedelta(days=300),
    )

    call_command("raise_follow_ups")
    run = jobs.run_follow_ups_job()

    assert Task.objects.filter(follow_up_of=task).count() == 1
    assert run.rows_affected == 0


# --- Pages


def test_nurturing_from_the_task_page_returns_the_partial(client):
    task = _owned_task()
    client.force_login(task.assignee)
    come_back = dt.date.today() + dt.timedelta(days=40)

    response = client.post(
        reverse("leads:task_nurture", args=[task.pk]),
        {"follow_up_on": come_back.isoformat(), "note": "growing, not yet"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<div id="task-work"')
    task.refresh_from_db()
    assert (task.status, task.follow_up_on) == (TaskStatus.NURTURING, come_back)


def test_nurturing_works_as_a_plain_form_post_and_refuses_a_bad_date(client):
    task = _owned_task()
    client.force_login(task.assignee)
    url = reverse("leads:task_nurture", args=[task.pk])

    bad = client.post(url, {"follow_up_on": (dt.date.today() + dt.timedelta(days=90)).isoformat()})
    good = client.post(url, {"follow_up_on": (dt.date.today() + dt.timedelta(days=45)).isoformat()})

    assert bad.status_code == 422
    assert "Nurture for 30–60 days" in bad.content.decode()
    assert good.status_code == 302


def test_another_persons_task_cannot_be_nurtured(client):
    task = _owned_task()
    client.force_login(tam())

    response = client.post(
        reverse("leads:task_nurture", args=[task.pk]),
        {"follow_up_on": (dt.date.today() + dt.timedelta(days=45)).isoformat()},
    )

    assert response.status_code == 404


def test_nurture_refuses_get(client):
    task = _owned_task()
    client.force_login(task.assignee)

    assert client.get(reverse("leads:task_nurture", args=[task.pk])).status_code == 405


def test_disqualifying_with_a_follow_up_date_outside_the_window_says_why(client):
    task = _owned_task()
    client.force_login(task.assignee)

    response = client.post(
        reverse("leads:task_disqualify", args=[task.pk]),
        {
            "reason": R.USING_COMPETITOR,
            "follow_up_on": (dt.date.today() + dt.timedelta(days=30)).isoformat(),
        },
    )

    assert response.status_code == 422
    assert "the follow-up is between" in response.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.NEW
