from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.handovers.checklists import (
    onboarding_sections,
    paid_product_keys,
    set_onboarding_item,
)
from accounts.handovers.checks import (
    INVALID_REASONS,
    plan_and_invoices,
    preconditions,
    transition_for,
)
from accounts.handovers.models import HandoverReason, HandoverState
from accounts.handovers.overlay import add_tam_overlay
from accounts.handovers.tests.handover_factories import (
    csm,
    fill_top_40,
    owner_of,
    pay_for,
    proposed,
    ready_account,
    tae,
    tick_all_onboarding,
)
from accounts.handovers.workflow import Step, advance_handover, propose_handover
from accounts.models import Account, OwnerRole, OwnershipChange
from accounts.segments import refresh_top_accounts
from accounts.tests.books_factories import TODAY, give_revenue, plan_for
from accounts.tests.factories import AccountFactory, manager, tam, team_lead
from billing.models import Invoice

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 5, 15, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(NOON, tick=False)
    fill_top_40()


def checks_by_key(checks):
    return {c.key: c.ok for c in checks}


def invoice(account, status, number="INV-1"):
    return Invoice.objects.create(
        account=account,
        number=number,
        period=dt.date(2026, 4, 1),
        issued_on=dt.date(2026, 4, 1),
        due_on=dt.date(2026, 5, 1),
        amount=Decimal(500),
        status=status,
    )


# --- transitions --------------------------------------------------------------------


def paid_since(month: dt.date) -> Account:
    """An account whose first paid month (from its revenue) is ``month``."""
    account = AccountFactory.create()
    give_revenue(account, month=month, product_analytics=500)
    return account


@pytest.mark.parametrize(("core", "ok"), [(0, False), (1, True), (2, True), (3, False)])
def test_tae_to_tam_needs_one_or_two_core_products(core, ok):
    account = paid_since(dt.date(2025, 12, 1))
    keys = ["session_replay", "feature_flags", "error_tracking"][:core]
    pay_for(account, ["product_analytics", *keys])
    t = transition_for(account, from_role=OwnerRole.TAE, to_role=OwnerRole.TAM, today=TODAY)
    assert checks_by_key(t.checks)["core"] is ok


@pytest.mark.parametrize(("core", "ok"), [(2, False), (3, True)])
def test_tae_to_csm_needs_all_three_core_products(core, ok):
    account = paid_since(dt.date(2025, 12, 1))
    keys = ["session_replay", "feature_flags", "error_tracking"][:core]
    pay_for(account, keys)
    t = transition_for(account, from_role=OwnerRole.TAE, to_role=OwnerRole.CSM, today=TODAY)
    assert checks_by_key(t.checks)["core"] is ok


def test_a_core_product_at_200_dollars_is_not_paid_for_the_transition():
    account = paid_since(dt.date(2025, 12, 1))
    give_revenue(account, session_replay=200)
    t = transition_for(account, from_role=OwnerRole.TAE, to_role=OwnerRole.TAM, today=TODAY)
    assert checks_by_key(t.checks)["core"] is False


@pytest.mark.parametrize(
    ("first_paid", "ok"), [(dt.date(2026, 2, 1), True), (dt.date(2026, 3, 1), False), (None, False)]
)
def test_tae_handover_waits_three_months_after_the_first_purchase(first_paid, ok):
    account = AccountFactory.create()
    if first_paid is not None:
        give_revenue(account, month=first_paid, session_replay=500)
    give_revenue(account, session_replay=500)
    t = transition_for(account, from_role=OwnerRole.TAE, to_role=OwnerRole.TAM, today=TODAY)
    assert checks_by_key(t.checks)["timing"] is ok


def test_tam_to_csm_passes_when_fully_expanded_with_discount_and_no_levers():
    account = ready_account(tam())
    t = transition_for(account, from_role=OwnerRole.TAM, to_role=OwnerRole.CSM, today=TODAY)
    assert t.ok


def test_tam_to_csm_fails_without_a_discount_agreement():
    account = ready_account(tam(), has_discount_agreement=False)
    t = transition_for(account, from_role=OwnerRole.TAM, to_role=OwnerRole.CSM, today=TODAY)
    assert checks_by_key(t.checks) == {"core": True, "discount": False, "levers": True}


def test_tam_to_csm_fails_while_expansion_levers_remain():
    account = AccountFactory.create(has_discount_agreement=True)
    give_revenue(account, session_replay=1000, feature_flags=1000, error_tracking=1000)
    plan_for(account, no_viable_levers=False, levers_tried="")
    t = transition_for(account, from_role=OwnerRole.TAM, to_role=OwnerRole.CSM, today=TODAY)
    assert checks_by_key(t.checks) == {"core": True, "discount": True, "levers": False}


def test_tam_to_csm_fails_with_two_core_products():
    account = AccountFactory.create(has_discount_agreement=True)
    give_revenue(account, session_replay=1000, feature_flags=1000)
    plan_for(account, no_viable_levers=True, levers_tried="tried")
    t = transition_for(account, from_role=OwnerRole.TAM, to_role=OwnerRole.CSM, today=TODAY)
    assert checks_by_key(t.checks)["core"] is False


def test_csm_to_tam_needs_room_to_grow_and_written_objectives():
    account = AccountFactory.create()
    give_revenue(account, session_replay=1000)
    plan_for(account, objectives="Land feature flags with the mobile team.")
    t = transition_for(account, from_role=OwnerRole.CSM, to_role=OwnerRole.TAM, today=TODAY)
    assert t.ok


def test_csm_to_tam_fails_for_a_fully_expanded_account_without_objectives():
    account = AccountFactory.create()
    give_revenue(account, session_replay=1000, feature_flags=1000, error_tracking=1000)
    t = transition_for(account, from_role=OwnerRole.CSM, to_role=OwnerRole.TAM, today=TODAY)
    assert checks_by_key(t.checks) == {"core": False, "growth": False}


def test_same_role_takeover_has_no_conditions_beyond_preconditions():
    account = AccountFactory.create()
    t = transition_for(account, from_role=OwnerRole.TAM, to_role=OwnerRole.TAM, today=TODAY)
    assert t.checks == [] and t.ok and "takeover" in t.label


# --- preconditions ------------------------------------------------------------------


def test_plan_precondition_needs_this_quarters_plan():
    account = AccountFactory.create()
    assert (
        checks_by_key(preconditions(account, reason="fully_expanded", today=TODAY))["plan"] is False
    )
    plan_for(account, quarter_start=dt.date(2026, 1, 1), title="Q1 Account Plan – X")
    stale = preconditions(account, reason="fully_expanded", today=TODAY)[0]
    assert (stale.ok, "Q1" in stale.why) == (False, True)
    plan_for(account)
    assert checks_by_key(preconditions(account, reason="fully_expanded", today=TODAY))["plan"]


def test_a_plan_already_written_for_next_quarter_neither_hides_nor_replaces_this_quarters():
    account = AccountFactory.create()
    plan_for(account, quarter_start=dt.date(2026, 7, 1), title="Q3 Account Plan – X")
    early = preconditions(account, reason="fully_expanded", today=TODAY)[0]
    assert (early.ok, "Q3" in early.why) == (False, True)
    plan_for(account, title="Q2 Account Plan – X", no_viable_levers=True, levers_tried="tried")
    facts = plan_and_invoices(account, today=TODAY)
    assert (facts.current_plan.title, facts.latest_plan.title) == (  # type: ignore[union-attr]
        "Q2 Account Plan – X",
        "Q3 Account Plan – X",
    )
    assert preconditions(account, reason="fully_expanded", today=TODAY)[0].ok
    levers = transition_for(account, from_role=OwnerRole.TAM, to_role=OwnerRole.CSM, today=TODAY)
    assert checks_by_key(levers.checks)["levers"] is True


@pytest.mark.parametrize(
    ("status", "ok"),
    [
        (Invoice.Status.OPEN, False),
        (Invoice.Status.FAILED, False),
        (Invoice.Status.PAID, True),
        (Invoice.Status.VOID, True),
    ],
)
def test_invoice_precondition_fails_while_an_invoice_is_unpaid(status, ok):
    account = AccountFactory.create()
    invoice(account, status)
    assert (
        checks_by_key(preconditions(account, reason="fully_expanded", today=TODAY))["invoices"]
        is ok
    )


def test_onboarding_precondition_needs_every_item_of_every_paid_product():
    account = AccountFactory.create()
    give_revenue(account, session_replay=1000, feature_flags=150, surveys=900)
    for key in ("support", "admins", "finance"):
        set_onboarding_item(account=account, section="general", item=key, done=True, by=tam())
    check = {c.key: c for c in preconditions(account, reason="fully_expanded", today=TODAY)}
    assert (check["onboarding"].ok, "Session replay" in check["onboarding"].why) == (False, True)
    for key in ("tracking", "controls", "privacy", "training"):
        set_onboarding_item(
            account=account, section="session_replay", item=key, done=True, by=tam()
        )
    # Feature flags at $150 is not paid; surveys have no checklist of their own.
    assert checks_by_key(preconditions(account, reason="fully_expanded", today=TODAY))["onboarding"]


def test_unticking_an_onboarding_item_fails_the_precondition_again():
    account = AccountFactory.create()
    give_revenue(account, error_tracking=1000)
    tick_all_onboarding(account)
    set_onboarding_item(
        account=account, section="error_tracking", item="tracking", done=False, by=tam()
    )
    assert (
        checks_by_key(preconditions(account, reason="fully_expanded", today=TODAY))["onboarding"]
        is False
    )


# sales/account-allocation, "What is NOT a valid reason to hand off", written out
# here rather than read from the code, so dropping one from the code fails a test.
HANDBOOK_INVALID_REASONS = [
    ("Account doesn't respond to your outreach", "unresponsive"),
    ("Champion left and you haven't re-established relationships", "champion_left"),
    ("Low user activity or poor health score", "low_engagement"),
    ("You don't like working with them / they don't like you", "dislike"),
]


@pytest.mark.parametrize(("handbook_line", "reason"), HANDBOOK_INVALID_REASONS)
def test_the_handbooks_invalid_reasons_are_refused_with_its_explanation(handbook_line, reason):
    account = ready_account(tam())
    with pytest.raises(ValidationError) as error:
        propose_handover(
            account=account,
            to_owner=csm(),
            to_role=OwnerRole.CSM,
            reason=reason,
            reason_detail="",
            by=owner_of(account),
            today=TODAY,
        )
    assert "That's literally your job." in error.value.messages[0], handbook_line
    assert not account.handovers.exists()


@pytest.mark.parametrize(("handbook_line", "reason"), HANDBOOK_INVALID_REASONS)
def test_the_handbooks_invalid_reasons_fail_the_reason_precondition(handbook_line, reason):
    account = AccountFactory.create()
    checks = {c.key: c for c in preconditions(account, reason=reason, today=TODAY)}
    assert checks["reason"].ok is False, handbook_line
    assert "not a reason to pass them off" in checks["reason"].why


def test_the_invalid_reasons_are_exactly_the_handbooks_four():
    assert sorted(INVALID_REASONS) == sorted(reason for _, reason in HANDBOOK_INVALID_REASONS)


def test_a_valid_reason_passes_the_reason_precondition():
    account = AccountFactory.create()
    assert checks_by_key(preconditions(account, reason=HandoverReason.NO_LEVERS, today=TODAY))[
        "reason"
    ]


# --- steps, override, permissions -----------------------------------------------------


def test_accepting_is_blocked_while_a_precondition_fails():
    account = ready_account(tam())
    invoice(account, Invoice.Status.OPEN)
    handover = proposed(account, csm())
    with pytest.raises(ValidationError, match="open invoices"):
        advance_handover(handover=handover, step=Step.ACCEPT, by=handover.to_owner, today=TODAY)
    handover.refresh_from_db()
    assert handover.state == HandoverState.PROPOSED


def test_only_a_manager_overrides_a_blocked_step():
    account = ready_account(tam())
    invoice(account, Invoice.Status.OPEN)
    handover = proposed(account, csm())
    with pytest.raises(PermissionDenied):
        advance_handover(
            handover=handover,
            step=Step.ACCEPT,
            by=handover.to_owner,
            today=TODAY,
            override_reason="I will chase it myself",
        )


def test_a_manager_override_needs_a_written_reason_and_is_recorded():
    account = ready_account(tam())
    invoice(account, Invoice.Status.OPEN)
    handover = proposed(account, csm())
    boss = manager()
    with pytest.raises(ValidationError):
        advance_handover(
            handover=handover, step=Step.ACCEPT, by=boss, today=TODAY, override_reason="  "
        )
    done = advance_handover(
        handover=handover,
        step=Step.ACCEPT,
        by=boss,
        today=TODAY,
        override_reason="Invoice is disputed; finance owns it.",
    )
    event = done.events.last()
    assert event is not None
    assert (done.state, event.actor, event.override_reason) == (
        HandoverState.ACCEPTED,
        boss,
        "Invoice is disputed; finance owns it.",
    )


def test_a_handover_with_failing_transition_conditions_cannot_be_accepted():
    account = ready_account(tam(), has_discount_agreement=False)
    handover = proposed(account, csm())
    with pytest.raises(ValidationError, match="Discount agreement"):
        advance_handover(handover=handover, step=Step.ACCEPT, by=handover.to_owner, today=TODAY)


def walk_to_call_held(handover, by):
    steps: tuple[tuple[str, dict[str, Any]], ...] = (
        (Step.ACCEPT, {}),
        (Step.SCHEDULE_CALL, {"call_at": NOON + dt.timedelta(days=2)}),
        (Step.HOLD_CALL, {}),
    )
    for step, extra in steps:
        handover = advance_handover(handover=handover, step=step, by=by, today=TODAY, **extra)
    return handover


def test_completing_moves_ownership_and_records_who_and_when_at_each_step():
    outgoing, incoming = tam(), csm()
    account = ready_account(outgoing, tam_overlay=None)
    handover = walk_to_call_held(proposed(account, incoming), incoming)
    done = advance_handover(
        handover=handover,
        step=Step.COMPLETE,
        by=outgoing,
        today=TODAY,
        intro_sent=True,
        note="Slack intro",
    )
    account.refresh_from_db()
    change = OwnershipChange.objects.get(account=account)
    assert (account.owner, account.owner_role) == (incoming, OwnerRole.CSM)
    assert (change.previous_owner, change.source, done.ownership_change) == (
        outgoing,
        "handover",
        change,
    )
    assert done.intro_sent_at == NOON
    assert [(e.action, e.actor) for e in done.events.all()] == [
        ("propose", outgoing),
        ("accept", incoming),
        ("schedule_call", incoming),
        ("hold_call", incoming),
        ("complete", outgoing),
    ]


def test_completing_needs_the_intro_to_be_sent():
    account = ready_account(tam())
    handover = walk_to_call_held(proposed(account, csm()), manager())
    with pytest.raises(ValidationError, match="introduction"):
        advance_handover(handover=handover, step=Step.COMPLETE, by=owner_of(account), today=TODAY)


def test_steps_out_of_order_are_refused():
    account = ready_account(tam())
    handover = proposed(account, csm())
    with pytest.raises(ValidationError):
        advance_handover(
            handover=handover, step=Step.COMPLETE, by=manager(), today=TODAY, intro_sent=True
        )


def test_push_back_needs_reasons_and_the_outgoing_owner_can_resubmit():
    account = ready_account(tam())
    handover = proposed(account, csm())
    with pytest.raises(ValidationError):
        advance_handover(handover=handover, step=Step.PUSH_BACK, by=handover.to_owner, today=TODAY)
    pushed = advance_handover(
        handover=handover, step=Step.PUSH_BACK, by=handover.to_owner, today=TODAY, note="3 flags"
    )
    assert (pushed.state, pushed.pushback_reasons) == (HandoverState.PUSHED_BACK, "3 flags")
    again = advance_handover(handover=pushed, step=Step.RESUBMIT, by=owner_of(account), today=TODAY)
    assert again.state == HandoverState.PROPOSED


def test_the_outgoing_owner_cannot_accept_their_own_handover():
    account = ready_account(tam())
    handover = proposed(account, csm())
    with pytest.raises(PermissionDenied):
        advance_handover(handover=handover, step=Step.ACCEPT, by=owner_of(account), today=TODAY)


def test_the_incoming_owners_team_lead_may_accept_but_an_outsider_may_not():
    lead = team_lead()
    account = ready_account(tam())
    handover = proposed(account, csm(team_lead=lead))
    with pytest.raises(PermissionDenied):
        advance_handover(handover=handover, step=Step.ACCEPT, by=tam(), today=TODAY)
    assert (
        advance_handover(handover=handover, step=Step.ACCEPT, by=lead, today=TODAY).state
        == "accepted"
    )


def test_the_outgoing_owners_team_lead_may_propose_and_an_outsider_may_not():
    lead = team_lead()
    account = ready_account(tam(team_lead=lead))
    with pytest.raises(PermissionDenied):
        proposed(account, csm(), by=tam())
    assert proposed(account, csm(), by=lead).proposed_by == lead


def test_an_account_has_one_open_handover_at_a_time():
    account = ready_account(tam())
    proposed(account, csm())
    with pytest.raises(ValidationError, match="already"):
        proposed(account, csm())


# --- Top 40 ---------------------------------------------------------------------------


def make_top_40(account: Account) -> None:
    give_revenue(account, surveys=500_000)  # no checklist of its own
    # A revenue import re-ranks the month (billing.facts.revenue_facts_changed).
    refresh_top_accounts(today=TODAY)


def test_only_a_manager_proposes_a_handover_of_a_top_40_account():
    account = ready_account(tam())
    make_top_40(account)
    with pytest.raises(PermissionDenied, match="Top 40"):
        proposed(account, csm())
    assert proposed(account, csm(), by=manager()).state == HandoverState.PROPOSED


def test_only_a_manager_approves_a_handover_of_a_top_40_account():
    account = ready_account(tam())
    handover = proposed(account, csm())
    make_top_40(account)
    with pytest.raises(PermissionDenied, match="Top 40"):
        advance_handover(handover=handover, step=Step.ACCEPT, by=handover.to_owner, today=TODAY)
    assert (
        advance_handover(handover=handover, step=Step.ACCEPT, by=manager(), today=TODAY).state
        == "accepted"
    )


def test_accepting_reads_the_accounts_revenue_once():
    """The Top 40 rule and the transition's conditions share one revenue read."""
    handover = proposed(ready_account(tam()), csm())
    with CaptureQueriesContext(connection) as queries:
        advance_handover(handover=handover, step=Step.ACCEPT, by=manager(), today=TODAY)
    assert sum('AS "is_top_40"' in q["sql"] for q in queries.captured_queries) == 1


# --- timing ---------------------------------------------------------------------------


def test_a_tam_managed_book_removal_moves_quota_attribution_at_quarter_end():
    account = ready_account(tam(), am_managed=True)
    incoming = csm()
    handover = walk_to_call_held(proposed(account, incoming), manager())
    done = advance_handover(
        handover=handover, step=Step.COMPLETE, by=manager(), today=TODAY, intro_sent=True
    )
    account.refresh_from_db()
    assert account.owner == incoming
    assert (done.quarter_end, done.attribution_moves_on) == (
        dt.date(2026, 6, 30),
        dt.date(2026, 7, 1),
    )
    assert done.ownership_change is not None
    assert done.ownership_change.effective_on == dt.date(2026, 7, 1)


def test_a_tae_handover_takes_effect_immediately():
    account = ready_account(tae(), role=OwnerRole.TAE, am_managed=True)
    give_revenue(account, month=dt.date(2025, 11, 1), product_analytics=500)
    incoming = csm()
    handover = walk_to_call_held(proposed(account, incoming), manager())
    done = advance_handover(
        handover=handover, step=Step.COMPLETE, by=manager(), today=TODAY, intro_sent=True
    )
    assert (done.quarter_end, done.attribution_moves_on) == (None, TODAY)
    assert done.ownership_change is not None
    assert done.ownership_change.effective_on == TODAY


# --- high potential --------------------------------------------------------------------


def test_a_tam_joins_a_100k_tae_deal_as_overlay_without_taking_ownership():
    seller = tae()
    account = AccountFactory.create(
        owner=seller, owner_role=OwnerRole.TAE, forecasted_mrr=Decimal(8334)
    )
    helper = tam()
    add_tam_overlay(account=account, tam=helper, by=seller, expansion_note="", today=TODAY)
    account.refresh_from_db()
    assert (account.owner, account.tam_overlay) == (seller, helper)
    assert not OwnershipChange.objects.filter(account=account).exists()


def test_below_100k_an_early_overlay_needs_the_expansion_potential_written():
    seller = tae()
    account = AccountFactory.create(
        owner=seller, owner_role=OwnerRole.TAE, forecasted_mrr=Decimal(8333)
    )
    with pytest.raises(ValidationError):
        add_tam_overlay(account=account, tam=tam(), by=seller, expansion_note="", today=TODAY)
    add_tam_overlay(
        account=account,
        tam=tam(),
        by=seller,
        expansion_note="Three product teams in eval.",
        today=TODAY,
    )
    account.refresh_from_db()
    assert account.tam_overlay is not None


def test_a_move_the_handbook_does_not_describe_is_refused():
    account = ready_account(tam())
    with pytest.raises(ValidationError, match="not one of the handbook"):
        proposed(account, tae(), to_role=OwnerRole.TAE)


def test_the_incoming_person_must_work_in_the_incoming_role():
    account = ready_account(tam())
    with pytest.raises(ValidationError, match="does not work as a CSM"):
        proposed(account, tam(), to_role=OwnerRole.CSM)


def test_another_tam_taking_over_mid_lifecycle_is_a_handover():
    account = ready_account(tam())
    handover = proposed(account, tam(), to_role=OwnerRole.TAM)
    assert handover.transition_label == "TAM → TAM"


def test_onboarding_reads_the_latest_imported_month_while_last_month_is_not_in_yet():
    account = AccountFactory.create()
    give_revenue(account, session_replay=1000)  # April, like the Top 40 accounts
    june = dt.date(2026, 6, 15)  # May is complete but not imported yet
    assert paid_product_keys(account, today=june) == ["session_replay"]
    assert onboarding_sections(account, today=june) == ["general", "session_replay"]
