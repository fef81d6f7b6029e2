from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.handovers.models import Handover, HandoverState
from accounts.handovers.tests.handover_factories import (
    csm,
    fill_top_40,
    proposed,
    ready_account,
    tae,
)
from accounts.handovers.workflow import Step, advance_handover
from accounts.models import NewOwnerTrait, OwnerRole
from accounts.tests.books_factories import LAST_MONTH, TODAY, give_revenue
from accounts.tests.factories import AccountFactory, manager, tam, team_lead

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 5, 15, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(NOON, tick=False)
    fill_top_40()


@pytest.fixture
def handover():
    return proposed(ready_account(tam()), csm())


def step_url(handover, step):
    return reverse("handovers:step", args=[handover.pk, step])


def test_an_outsider_cannot_open_a_handover(client, handover):
    client.force_login(tam())
    assert client.get(reverse("handovers:detail", args=[handover.pk])).status_code == 403


def test_an_outsider_cannot_take_a_step_by_crafted_post(client, handover):
    client.force_login(tam())
    assert client.post(step_url(handover, Step.ACCEPT)).status_code == 403
    assert client.post(step_url(handover, Step.CANCEL)).status_code == 403
    handover.refresh_from_db()
    assert handover.state == HandoverState.PROPOSED


def test_another_team_lead_cannot_act_but_a_partys_team_lead_can(client):
    lead = team_lead()
    handover = proposed(ready_account(tam()), csm(team_lead=lead))
    client.force_login(team_lead())
    assert client.post(step_url(handover, Step.ACCEPT)).status_code == 403
    client.force_login(lead)
    assert client.post(step_url(handover, Step.ACCEPT)).status_code == 302
    handover.refresh_from_db()
    assert handover.state == HandoverState.ACCEPTED


def test_the_outgoing_owner_cannot_accept_by_crafted_post(client, handover):
    client.force_login(handover.from_owner)
    assert client.post(step_url(handover, Step.ACCEPT)).status_code == 403


def test_a_manager_can_act_on_any_handover(client, handover):
    client.force_login(manager())
    assert client.post(step_url(handover, Step.ACCEPT)).status_code == 302
    handover.refresh_from_db()
    assert handover.state == HandoverState.ACCEPTED


def test_an_outsider_cannot_tick_the_checklist_or_propose(client, handover):
    client.force_login(tam())
    url = reverse("handovers:checklist", args=[handover.pk])
    assert client.post(url, {"key": "prep:overview", "done": "on"}).status_code == 403
    other = ready_account(tam())
    propose = reverse("handovers:propose", args=[other.pk])
    assert (
        client.post(
            propose, {"to_owner": csm().pk, "to_role": "CSM", "reason": "fully_expanded"}
        ).status_code
        == 403
    )
    assert not other.handovers.exists()


def test_step_pages_refuse_get(client, handover):
    client.force_login(handover.to_owner)
    assert client.get(step_url(handover, Step.ACCEPT)).status_code == 405


def test_the_handover_page_shows_preconditions_flags_and_checklists(client, handover):
    client.force_login(handover.to_owner)
    page = client.get(reverse("handovers:detail", args=[handover.pk])).content.decode()
    for text in (
        "Current account plan",
        "Receiving as a CSM",
        "Who is the champion?",
        "Account overview",
    ):
        assert text in page


def test_each_step_form_names_its_step_once_on_screen(client, handover):
    # A visible legend "Cancel" above the "Cancel" button read as two controls.
    client.force_login(handover.from_owner)
    page = client.get(reverse("handovers:detail", args=[handover.pk])).content.decode()

    assert "Note for “Cancel”" in page
    assert "<legend>Cancel</legend>" not in page


def test_the_handover_page_reads_invoices_and_the_latest_plan_once(client, handover):
    client.force_login(handover.to_owner)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("handovers:detail", args=[handover.pk]))

    sql = [q["sql"] for q in queries.captured_queries]
    latest_plan = 'ORDER BY "accounts_accountplan"."quarter_start" DESC'
    assert sum('FROM "billing_invoice"' in q for q in sql) == 1
    assert sum(latest_plan in q for q in sql) == 1


def test_the_handover_page_reads_the_accounts_plans_in_one_query(client, handover):
    """This quarter's plan (transition, preconditions) and the latest plan (why
    texts) come from one query shared by the whole page."""
    client.force_login(handover.to_owner)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("handovers:detail", args=[handover.pk]))

    sql = [q["sql"] for q in queries.captured_queries]
    assert sum(q.startswith('SELECT "accounts_accountplan"."id"') for q in sql) == 1


def test_an_htmx_step_returns_the_workflow_partial(client, handover):
    client.force_login(handover.to_owner)
    response = client.post(step_url(handover, Step.ACCEPT), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="workflow"' in body and "<html" not in body and "Accepted" in body


def test_a_checklist_item_is_saved_with_its_note(client, handover):
    client.force_login(handover.to_owner)
    url = reverse("handovers:checklist", args=[handover.pk])
    client.post(url, {"key": "agenda:champion", "done": "on", "note": "Priya, VP Eng"})
    handover.refresh_from_db()
    assert handover.checklist["agenda:champion"] == {"done": True, "note": "Priya, VP Eng"}


def test_checklist_changes_go_on_the_timeline_once(client, handover):
    client.force_login(handover.to_owner)
    url = reverse("handovers:checklist", args=[handover.pk])
    tick = {"key": "agenda:champion", "done": "on", "note": "Priya"}
    client.post(url, tick)
    client.post(url, tick)  # the same again: nothing new to record
    client.post(url, {"key": "agenda:champion", "note": "Priya"})

    notes = list(handover.events.filter(action="checklist").values_list("actor", "reason"))
    assert [actor for actor, _ in notes] == [handover.to_owner.pk] * 2
    assert notes[0][1].startswith("Ticked “") and notes[0][1].endswith(": Priya")
    assert notes[1][1].startswith("Unticked “")


def test_proposing_with_an_invalid_reason_shows_the_handbooks_explanation(client):
    account = ready_account(tam())
    client.force_login(account.owner)
    response = client.post(
        reverse("handovers:propose", args=[account.pk]),
        {"to_owner": csm().pk, "to_role": "CSM", "reason": "unresponsive"},
    )
    assert response.status_code == 422
    assert "literally your job" in response.content.decode()
    assert not account.handovers.exists()


def test_the_propose_page_shows_each_transition_with_its_conditions(client):
    account = ready_account(tam())
    client.force_login(account.owner)
    page = client.get(reverse("handovers:propose", args=[account.pk])).content.decode()
    assert (
        "TAM → CSM" in page and "No remaining expansion levers" in page and "CSM → TAM" not in page
    )


def test_on_a_top_40_account_the_owner_is_told_a_manager_proposes_and_gets_no_form(client):
    # The propose step refuses anyone but a manager on a Top 40 account: the page
    # said so and still offered the owner the form (the walk).
    account = ready_account(tam())
    give_revenue(account, month=LAST_MONTH, product_analytics=500_000)
    url = reverse("handovers:propose", args=[account.pk])

    client.force_login(account.owner)
    owners_page = client.get(url).content.decode()
    client.force_login(manager())
    managers_page = client.get(url).content.decode()

    assert "only a manager proposes its handover" in owners_page
    assert 'id="propose-form"' not in owners_page
    assert 'id="propose-form"' in managers_page


def test_proposing_creates_the_handover_and_redirects_to_it(client):
    account = ready_account(tam())
    incoming = csm()
    client.force_login(account.owner)
    response = client.post(
        reverse("handovers:propose", args=[account.pk]),
        {"to_owner": incoming.pk, "to_role": "CSM", "reason": "fully_expanded"},
    )
    handover = Handover.objects.get(account=account)
    assert response.url == reverse("handovers:detail", args=[handover.pk])
    assert (handover.to_owner, handover.from_role) == (incoming, OwnerRole.TAM)


def test_the_account_page_shows_the_handover_in_its_ownership_history(client, handover):
    boss = manager()
    steps: tuple[tuple[str, dict[str, Any]], ...] = (
        (Step.ACCEPT, {}),
        (Step.SCHEDULE_CALL, {"call_at": NOON}),
        (Step.HOLD_CALL, {}),
        (Step.COMPLETE, {"intro_sent": True}),
    )
    for step, extra in steps:
        advance_handover(handover=handover, step=step, by=boss, today=TODAY, **extra)
    client.force_login(boss)
    page = client.get(reverse("accounts:account", args=[handover.account_id])).content.decode()
    assert f"Handover #{handover.pk}" in page and "handover:" in page


def make_handovers(n, incoming):
    for _ in range(n):
        account = AccountFactory.create(owner=tam(), owner_role=OwnerRole.TAM)
        proposed(account, incoming)


@pytest.mark.parametrize("n", [3, 30])
def test_the_list_page_issues_the_same_queries_whatever_the_row_count(
    client, django_assert_num_queries, n
):
    incoming = csm()
    make_handovers(n, incoming)
    client.force_login(incoming)
    # session, user with their roles, the handovers with account and people
    with django_assert_num_queries(3):
        response = client.get(reverse("handovers:list") + "?scope=incoming")
    assert response.content.decode().count('data-testid="handover-row"') == n


def test_the_team_scope_lists_the_team_leads_team_handovers_only(client):
    lead = team_lead()
    mine = proposed(ready_account(tam(team_lead=lead)), csm())
    proposed(ready_account(tam()), csm())
    client.force_login(lead)
    page = client.get(reverse("handovers:list") + "?scope=team").content.decode()
    assert page.count('data-testid="handover-row"') == 1 and mine.account.name in page


def test_an_htmx_checklist_tick_returns_the_checklists_partial(client, handover):
    client.force_login(handover.to_owner)
    response = client.post(
        reverse("handovers:checklist", args=[handover.pk]),
        {"key": "prep:billing", "done": "on"},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert 'id="checklists"' in body and "<html" not in body and 'id="workflow"' not in body
    assert 'id="timeline" data-testid="timeline" hx-swap-oob="true"' in body
    assert "Ticked “" in body


def test_notes_are_saved_on_the_handover(client, handover):
    client.force_login(handover.from_owner)
    response = client.post(
        reverse("handovers:notes", args=[handover.pk]), {"notes": "Champion is Priya."}
    )
    handover.refresh_from_db()
    assert (response.status_code, handover.notes) == (302, "Champion is Priya.")


def test_the_incoming_owner_cannot_cancel_but_pushes_back_instead(client, handover):
    client.force_login(handover.to_owner)
    assert client.post(step_url(handover, Step.CANCEL)).status_code == 403


def test_the_allocation_page_links_to_proposing_a_handover(client):
    account = ready_account(tam(), new_owner_trait=NewOwnerTrait.READY_TO_MOVE)
    client.force_login(manager())
    # The Top 40 filler accounts are unowned and queued too: look in the handover queue.
    page = client.get(reverse("accounts:allocation"), {"queue": "handover"}).content.decode()
    assert reverse("handovers:propose", args=[account.pk]) in page


def test_a_tae_adds_an_early_tam_overlay_from_the_propose_page(client):
    seller = tae()
    account = AccountFactory.create(owner=seller, owner_role=OwnerRole.TAE)
    helper = tam()
    client.force_login(seller)
    response = client.post(
        reverse("handovers:account_tam_overlay", args=[account.pk]),
        {"tam": helper.pk, "expansion_note": "Evaluating replay and flags across 4 teams."},
    )
    account.refresh_from_db()
    assert (response.status_code, account.tam_overlay, account.owner) == (302, helper, seller)


def test_an_outsider_cannot_add_a_tam_overlay_by_crafted_post(client):
    account = AccountFactory.create(owner=tae(), owner_role=OwnerRole.TAE)
    client.force_login(tam())
    response = client.post(
        reverse("handovers:account_tam_overlay", args=[account.pk]),
        {"tam": tam().pk, "expansion_note": "x"},
    )
    account.refresh_from_db()
    assert (response.status_code, account.tam_overlay) == (403, None)


@pytest.mark.parametrize(
    ("make_user", "expected"), [(manager, "all"), (team_lead, "team"), (tam, "mine")]
)
def test_the_list_opens_on_the_scope_each_role_works_in(client, make_user, expected):
    client.force_login(make_user())
    assert client.get(reverse("handovers:list")).context["scope"] == expected


def test_the_timeline_names_steps_and_states_in_words(client, handover):
    boss = manager()
    advance_handover(handover=handover, step=Step.ACCEPT, by=boss, today=TODAY)
    client.force_login(boss)
    content = client.get(reverse("handovers:detail", args=[handover.pk])).content.decode()
    timeline = content.split("<ol", 1)[1] if "<ol" in content else content
    entries = [item.split("</li>", 1)[0] for item in timeline.split("<li>")[1:]]
    # The first entry is the creation, not a move from Proposed to itself.
    assert " Proposed: " in entries[0] and "→" not in entries[0]
    assert "Proposed → Proposed" not in timeline and "Accept → Accepted" in entries[1]
    assert "→ accepted" not in timeline and "· accept" not in timeline
