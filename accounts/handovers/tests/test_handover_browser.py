from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.handovers.models import Handover, HandoverState
from accounts.handovers.tests.handover_factories import csm, fill_top_40, proposed, ready_account
from accounts.models import Account, OwnerRole
from accounts.tests.factories import tam
from revopsweb.dates import latest_complete_month

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_tam_hands_an_account_to_a_csm_from_proposal_to_completion(page, login_as):
    fill_top_40(month=latest_complete_month(timezone.localdate()))
    outgoing = tam(name="Tara Tam")
    incoming = csm(name="Cass Csm")
    account = ready_account(outgoing, today=timezone.localdate(), name="Globex")

    login_as(outgoing)
    page.goto(f"/accounts/{account.pk}/")
    page.get_by_test_id("propose-handover").click()
    # The click returns once the new page's navigation commits; htmx wires the form
    # on DOMContentLoaded, and a choice made before that sends no request.
    page.wait_for_url("**/handover/")
    # Choosing the role re-renders the form through htmx (the reasons follow it).
    with page.expect_response(lambda r: r.request.method == "GET" and "to_role=CSM" in r.url):
        page.get_by_label("Incoming role").select_option("CSM")
    page.get_by_label("Incoming owner").select_option(label="Cass Csm")
    page.get_by_label("Reason").select_option("fully_expanded")
    page.get_by_role("button", name="Propose handover").click()
    page.wait_for_url("**/handovers/*/")
    state = page.get_by_test_id("handover-state")
    expect(state).to_have_text("Proposed")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login/")

    login_as(incoming)
    page.goto("/handovers/?scope=incoming")
    page.get_by_role("link", name="Globex").click()
    expect(page.get_by_test_id("flags")).to_be_visible()
    state = page.get_by_test_id("handover-state")
    item = page.get_by_test_id("item-prep:overview")
    item.get_by_role("checkbox").check()
    item.get_by_role("button", name="Save").click()
    page.get_by_test_id("step-accept").get_by_role("button", name="Accept").click()
    expect(state).to_have_text("Accepted")
    form = page.get_by_test_id("step-schedule_call")
    form.get_by_label("Call at").fill("2030-01-15T10:00")
    form.get_by_role("button").click()
    expect(state).to_have_text("Call scheduled")
    page.get_by_test_id("step-hold_call").get_by_role("button").click()
    expect(state).to_have_text("Call held")
    form = page.get_by_test_id("step-complete")
    form.get_by_label("Intro sent to the customer").check()
    form.get_by_role("button").click()
    expect(state).to_have_text("Completed")

    handover = Handover.objects.get(account=account)
    account = Account.objects.get(pk=account.pk)
    assert handover.state == HandoverState.COMPLETED
    assert handover.item("prep:overview")["done"]
    assert (account.owner, account.owner_role) == (incoming, OwnerRole.CSM)
    assert [e.action for e in handover.events.all()] == [
        "propose",
        "checklist",
        "accept",
        "schedule_call",
        "hold_call",
        "complete",
    ]
    page.goto(f"/accounts/{account.pk}/")
    expect(page.get_by_text(f"Handover #{handover.pk}")).to_be_visible()


def test_the_reason_list_follows_the_incoming_role_and_focus_stays_on_the_role(page, login_as):
    fill_top_40(month=latest_complete_month(timezone.localdate()))
    outgoing = tam(name="Tara Tam")
    account = ready_account(outgoing, today=timezone.localdate(), name="Globex")
    login_as(outgoing)
    page.goto(f"/accounts/{account.pk}/handover/")
    reason = page.get_by_label("Reason")
    expect(reason.locator("option[value=fully_expanded]")).to_have_count(1)
    role = page.get_by_label("Incoming role")
    role.focus()
    with page.expect_response(lambda r: r.request.method == "GET" and "to_role=TAM" in r.url):
        role.select_option("TAM")
    expect(reason.locator("option")).to_have_text(
        ["Choose…", "Owner leaving or changing role", "Book over 15 accounts at quarter start"]
    )
    expect(page.get_by_label("Incoming role")).to_be_focused()


def test_after_an_htmx_step_focus_moves_to_the_result_and_the_outcome_is_announced(page, login_as):
    fill_top_40(month=latest_complete_month(timezone.localdate()))
    incoming = csm(name="Cass Csm")
    account = ready_account(tam(name="Tara Tam"), today=timezone.localdate(), name="Globex")
    handover = proposed(account, incoming)
    login_as(incoming)
    page.goto(f"/handovers/{handover.pk}/")
    page.evaluate("window.liveRegion = document.getElementById('messages')")
    # Every aria-busy change while the step runs (the loading state).
    page.evaluate(
        """window.busy = [];
        new MutationObserver((changes) => changes.forEach((c) => window.busy.push(
            [c.target.dataset.testid, c.target.getAttribute('aria-busy')])))
          .observe(document.body, {attributes: true, attributeFilter: ['aria-busy'], subtree: true});"""
    )

    page.get_by_test_id("step-accept").get_by_role("button", name="Accept").click()
    expect(page.get_by_test_id("handover-state")).to_have_text("Accepted")
    # The Accept button is gone with its state: focus is on the workflow, not <body>.
    expect(page.locator("#workflow")).to_be_focused()
    expect(page.locator("#messages")).to_have_text("Accept: done.")
    assert page.evaluate("window.liveRegion === document.getElementById('messages')")
    assert ["step-accept", "true"] in page.evaluate("window.busy")
    expect(page.locator("[aria-busy]")).to_have_count(0)


def test_after_an_htmx_checklist_save_focus_stays_on_that_items_save_button(page, login_as):
    fill_top_40(month=latest_complete_month(timezone.localdate()))
    incoming = csm(name="Cass Csm")
    account = ready_account(tam(name="Tara Tam"), today=timezone.localdate(), name="Globex")
    handover = proposed(account, incoming)
    login_as(incoming)
    page.goto(f"/handovers/{handover.pk}/")
    item = page.get_by_test_id("item-prep:overview")
    item.get_by_role("checkbox").check()
    with page.expect_response(lambda r: r.request.method == "POST"):
        item.get_by_role("button", name="Save").click()
    expect(item.get_by_role("checkbox")).to_be_checked()
    expect(
        page.get_by_test_id("item-prep:overview").get_by_role("button", name="Save")
    ).to_be_focused()


def test_the_lists_current_tab_is_marked_as_the_headers_current_section(page, login_as):
    login_as(tam(name="Tara Tam"))
    page.goto("/handovers/?scope=incoming")

    tabs = page.get_by_role("navigation", name="Which handovers")
    current = tabs.locator('a[aria-current="page"]')
    expect(current).to_have_text("Incoming")
    expect(tabs.locator("a[aria-current]")).to_have_count(1)
    # As the header's current section (static/css/app.css): bold and underlined.
    expect(current).to_have_css("font-weight", "700")
    expect(current).to_have_css("text-decoration-line", "underline")
    expect(tabs.get_by_role("link", name="Outgoing")).not_to_have_css("font-weight", "700")
