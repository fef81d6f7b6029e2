"""Intake reads and locks in one statement, then writes a new lead's decision (task, counter,
ledger, owner, histories) in one more."""

from __future__ import annotations

import pghistory
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Account, OwnershipChange
from leads.intake import Lead, intake_task
from leads.models import LeadType, RoundRobinEvent, TaskEvent, TaskSource, TrackerRole
from leads.tests.factories import member, territory

pytestmark = pytest.mark.django_db


def _lead(domain: str) -> Lead:
    return Lead(name="Ada", email=f"ada@{domain}", company="Acme", country="DE")


def test_a_round_robin_pick_writes_every_row_of_the_decision():
    picked = member(leads_this_month=3)

    result = intake_task(lead=_lead("acme.example.de"), source=TaskSource.CONTACT_FORM)

    task = result.task
    task.refresh_from_db()
    picked.refresh_from_db()
    assert task.assignee == picked.user
    assert task.account.owner == picked.user
    assert task.account.owner_role == "TAE"
    assert picked.leads_this_month == 4
    assert picked.last_assigned_at == task.assigned_at
    event = RoundRobinEvent.objects.get(task=task)
    assert (event.member, event.kind, event.delta) == (picked, "assignment", 1)
    assert event.reason == task.explanation
    change = OwnershipChange.objects.get(account=task.account)
    assert change.reason == f"Round robin with task {task.pk}: {task.explanation}"
    assert (change.task_id, change.new_owner, change.source) == (
        task.pk,
        picked.user,
        "round robin",
    )
    kinds = list(TaskEvent.objects.filter(task=task).order_by("pk").values_list("kind", flat=True))
    assert kinds == ["created", "assigned"]


def test_a_new_leads_intake_is_two_statements():
    member()
    member()

    with CaptureQueriesContext(connection) as captured:
        intake_task(lead=_lead("acme.example.de"), source=TaskSource.CONTACT_FORM)

    statements = [
        q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"].upper()
    ]
    # The account found or inserted with its contact, the territory and the
    # locked pool (with the members outside it) in one function call, then
    # everything the decision writes.
    assert len(statements) == 2, "\n".join(s[:120] for s in statements)
    assert "leads_intake_open(" in statements[0]
    assert statements[1].startswith("WITH new_task AS (INSERT INTO")


def test_an_onboarding_lead_sets_the_specialist_and_leaves_the_owner():
    specialist = member(role=TrackerRole.ONBOARDING)

    result = intake_task(
        lead=_lead("onboard.example.de"),
        source=TaskSource.CONTACT_FORM,
        lead_type=LeadType.ONBOARDING,
    )

    account = result.task.account
    account.refresh_from_db()
    assert result.task.assignee == specialist.user
    assert account.onboarding_specialist == specialist.user
    assert account.owner is None
    assert not OwnershipChange.objects.filter(account=account).exists()
    assert RoundRobinEvent.objects.filter(task=result.task, member=specialist).count() == 1


def test_a_lead_for_an_owned_account_writes_no_round_robin_rows():
    first = intake_task(lead=_lead("owned.example.de"), source=TaskSource.CONTACT_FORM)
    assert first.task.assignee is None  # nobody in the round robin yet
    picked = member()
    second = intake_task(lead=_lead("owned.example.de"), source=TaskSource.CONTACT_FORM)
    owner_task = intake_task(
        lead=Lead(name="Bo", email="bo@owned.example.de", company="Acme", country="DE"),
        source=TaskSource.CONTACT_FORM,
    )

    assert second.task.assignee == picked.user
    assert owner_task.task.assignee == picked.user
    assert owner_task.task.explanation == f"account owner ({picked.user.name})"
    assert RoundRobinEvent.objects.filter(task=owner_task.task).count() == 0
    assert TaskEvent.objects.filter(task=owner_task.task).count() == 2


def test_members_outside_a_pool_are_counted_by_why_they_were_not_in_it():
    picked = member()
    member(role=TrackerRole.TAM)
    member(role=TrackerRole.TAM)
    member(territories=[territory("us-west")])
    member(role=TrackerRole.TAM, territories=[territory("us-west")])  # neither: not counted

    result = intake_task(lead=_lead("pool.example.de"), source=TaskSource.CONTACT_FORM)

    [chosen, *outside] = result.task.pool
    assert (chosen["member_id"], chosen["reason"]) == (picked.pk, "lowest load")
    assert {row["reason"]: row["members"] for row in outside} == {
        "wrong role (TAM)": 2,
        "not in this territory": 1,
    }
    assert not any("member_id" in row or "name" in row for row in outside)


# Transactional: inside a test's transaction intake's atomic block is a
# savepoint, whose SAVEPOINT statement would carry the context first.
@pytest.mark.django_db(transaction=True)
def test_a_new_accounts_history_carries_the_requests_context():
    member()

    with pghistory.context(url="/api/intake/tasks", source="api"):
        result = intake_task(lead=_lead("audit.example.de"), source=TaskSource.CONTACT_FORM)

    event = Account.pgh_event_model.objects.get(  # type: ignore[attr-defined]
        pgh_obj_id=result.task.account_id, pgh_label="insert"
    )
    assert event.pgh_context is not None
    assert event.pgh_context.metadata["url"] == "/api/intake/tasks"
