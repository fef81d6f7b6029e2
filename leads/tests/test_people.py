"""A switched-off login takes a person out of every round robin (issue 16 §5)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from accounts.models import OwnershipChange, User
from accounts.tests.factories import AccountFactory, revops, tam
from leads.assignment import assign_task
from leads.intake import Lead, intake_task
from leads.models import (
    LedgerKind,
    RoundRobinEvent,
    Task,
    TaskSource,
    TrackerMember,
    TrackerRole,
)
from leads.people import LOGIN_OFF, remove_from_round_robins
from leads.stale import process_stale_tasks
from leads.tests.factories import TaskFactory, member, territory
from leads.tracker import preview_next, tracker_rows

pytestmark = pytest.mark.django_db


def switch_off_login(user: User) -> None:
    """As a shell or a bulk update would: no admin, no ledger."""
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.refresh_from_db()


def test_an_owner_whose_login_is_off_gets_no_task_the_round_robin_picks():
    gone = tam()
    picked = member()
    account = AccountFactory.create(owner=gone, owner_role="TAM", territory=territory())
    switch_off_login(gone)
    task = TaskFactory.create(account=account)

    decision = assign_task(task=task)

    task.refresh_from_db()
    account.refresh_from_db()
    assert task.assignee == picked.user
    assert account.owner == picked.user  # as for an unowned account
    assert decision.explanation.startswith(f"owner {gone.name}'s {LOGIN_OFF}; round robin")
    change = OwnershipChange.objects.get(account=account, new_owner=picked.user)
    assert change.previous_owner == gone


def test_intake_for_an_account_whose_owners_login_is_off_goes_to_the_round_robin():
    gone = tam()
    picked = member()
    AccountFactory.create(owner=gone, owner_role="TAM", domain="acme.example.com")
    switch_off_login(gone)

    result = intake_task(
        lead=Lead(name="Ada", email="ada@acme.example.com", company="Acme", country="DE"),
        source=TaskSource.CONTACT_FORM,
    )

    assert result.task.account.domain == "acme.example.com"
    assert result.task.assignee == picked.user


def test_a_member_whose_login_is_off_is_passed_over_though_their_load_is_lowest():
    gone = member(leads_this_month=0)
    other = member(leads_this_month=7)
    switch_off_login(gone.user)
    task = TaskFactory.create()

    assign_task(task=task)

    task.refresh_from_db()
    assert task.assignee == other.user
    [row] = [r for r in task.pool if r["member_id"] == gone.pk]
    assert (row["outcome"], row["reason"]) == ("passed over", LOGIN_OFF)


def test_the_first_assignment_records_a_login_switched_off_elsewhere_in_the_ledger():
    gone = member()
    member()
    switch_off_login(gone.user)

    assign_task(task=TaskFactory.create())

    gone.refresh_from_db()
    assert gone.is_active is False
    event = RoundRobinEvent.objects.get(member=gone, kind=LedgerKind.ACTIVATION)
    assert (event.old_value, event.new_value) == ("active", "inactive")
    assert event.reason == f"{LOGIN_OFF} (found by the round robin)"


def test_nobody_with_a_login_gets_the_task_it_waits_unassigned_with_the_reason():
    gone = member()
    switch_off_login(gone.user)
    task = TaskFactory.create()

    assign_task(task=task)

    task.refresh_from_db()
    assert task.assignee is None
    assert f"{gone.user.name} {LOGIN_OFF}" in task.unassigned_reason


def test_stale_reassignment_never_goes_to_a_member_whose_login_is_off():
    now = dt.datetime(2026, 11, 20, 14, tzinfo=dt.UTC)
    holder = member(leads_this_month=5)
    gone = member(leads_this_month=0)
    other = member(leads_this_month=9)
    switch_off_login(gone.user)
    at = now - dt.timedelta(days=12)
    task = TaskFactory.create(
        assignee=holder.user, assigned_at=at, last_touched_at=at, created_at=at
    )

    process_stale_tasks(now=now)

    task.refresh_from_db()
    assert task.assignee == other.user


def test_preview_and_tracker_page_leave_out_a_member_whose_login_is_off():
    gone = member(leads_this_month=0)
    other = member(leads_this_month=3)
    switch_off_login(gone.user)

    names = preview_next(territory=territory(), role=TrackerRole.TAE, count=3)
    rows = {row.member.pk: row for row in tracker_rows(territory=territory())}

    assert names == [other.user.name] * 3
    assert (rows[gone.pk].next_in_line, rows[gone.pk].target_share) == (False, 0.0)
    assert (rows[other.pk].next_in_line, rows[other.pk].target_share) == (True, 1.0)


def test_removing_takes_the_person_out_with_a_ledger_event_once():
    person = member().user
    lead = revops()

    events = remove_from_round_robins(user=person, author=lead, reason="left the company")
    again = remove_from_round_robins(user=person, author=lead)

    [event] = events
    assert (event.actor, event.reason) == (lead, f"{LOGIN_OFF}: left the company")
    assert again == []
    assert not TrackerMember.objects.filter(user=person, is_active=True).exists()


def test_unticking_active_in_the_admin_takes_the_person_out_of_the_round_robin(client):
    superuser = revops(is_superuser=True)
    person = member().user
    client.force_login(superuser)
    url = reverse("admin:accounts_user_change", args=[person.pk])
    form = client.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name not in ("password", "is_active", "groups")
    }
    data.update(
        email=person.email,
        groups=[g.pk for g in person.groups.all()],
        date_joined_0=person.date_joined.date().isoformat(),
        date_joined_1="00:00:00",
    )
    data.pop("last_login", None)
    data.pop("date_joined", None)

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    event = RoundRobinEvent.objects.get(member__user=person, kind=LedgerKind.ACTIVATION)
    assert event.actor == superuser
    assert event.reason == f"{LOGIN_OFF}: active unticked in the admin"
    assert not Task.objects.exists()
