"""Handover pages: the list, proposing, the handover page and its steps."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.handovers.checklists import (
    AGENDA_CHECKLIST,
    PREP_CHECKLIST,
    onboarding_status,
    set_onboarding_item,
    tick_checklist_item,
)
from accounts.handovers.checks import (
    INVALID_REASONS,
    handover_roles,
    needs_a_manager,
    plan_and_invoices,
    preconditions,
    reasons_for,
    transition_for,
)
from accounts.handovers.forms import (
    ChecklistItemForm,
    NotesForm,
    OnboardingItemForm,
    OverlayForm,
    ProposeForm,
    StepForm,
    incoming_people,
)
from accounts.handovers.models import Handover, HandoverReason, HandoverState
from accounts.handovers.overlay import add_tam_overlay, high_potential
from accounts.handovers.permissions import can_act, visible_handovers
from accounts.handovers.receiving import receiving_flags, recommend_push_back
from accounts.handovers.workflow import (
    NEXT_STEP,
    Step,
    advance_handover,
    attribution_timing,
    available_steps,
    failing_checks,
    propose_handover,
    save_handover_notes,
    timeline_words,
)
from accounts.http import StaffRequest
from accounts.models import Account, OwnerRole, User
from accounts.permissions import is_owner_lead_or_manager
from accounts.roles import Role
from accounts.segments import with_revenue
from revopsweb.dates import company_today

# --- list ------------------------------------------------------------------------

SCOPES = {
    "mine": "Mine",
    "incoming": "Incoming",
    "outgoing": "Outgoing",
    "team": "My team's",
    "all": "All",
}


def _default_scope(user: User) -> str:
    """Managers run every handover, team leads their team's, everyone else their own."""
    if user.is_manager:
        return "all"
    if user.has_role(Role.TEAM_LEAD):
        return "team"
    return "mine"


@require_GET
def handover_list(request: StaffRequest) -> HttpResponse:
    """Handovers with state, age and next step. Queries: session, user with their
    roles, the handovers with their account and people (3, any row count)."""
    user = request.user
    scope = request.GET.get("scope", "")
    if scope not in SCOPES:
        scope = _default_scope(user)
    qs = visible_handovers(user).select_related("account", "from_owner", "to_owner")
    if scope == "mine":
        qs = qs.filter(Q(from_owner=user) | Q(to_owner=user))
    elif scope == "incoming":
        qs = qs.filter(to_owner=user)
    elif scope == "outgoing":
        qs = qs.filter(from_owner=user)
    elif scope == "team":
        qs = qs.filter(Q(from_owner__team_lead=user) | Q(to_owner__team_lead=user))
    if request.GET.get("state") in HandoverState.values:
        qs = qs.filter(state=request.GET["state"])
    now = timezone.now()
    rows = [(h, (now - h.proposed_at).days, NEXT_STEP[h.state]) for h in qs[:500]]
    scopes = {k: v for k, v in SCOPES.items() if k != "all" or user.is_manager}
    return render(
        request,
        "handovers/list.html",
        {"rows": rows, "scope": scope, "scopes": scopes, "states": HandoverState.choices},
    )


# --- proposing ---------------------------------------------------------------------


def _proposable_account(request: StaffRequest, pk: int) -> Account:
    account = get_object_or_404(
        with_revenue(Account.objects.select_related("owner"), today=company_today()), pk=pk
    )
    if not is_owner_lead_or_manager(request.user, account):
        raise PermissionDenied("Only the owner, their team lead or a manager proposes a handover.")
    return account


def _propose_context(account: Account, form: ProposeForm, *, user: User) -> dict[str, Any]:
    today = company_today()
    from_role = account.owner_role
    reason = form["reason"].value() or ""
    to_role = form.incoming_role
    facts = plan_and_invoices(account, today=today)
    transitions = [
        transition_for(account, from_role=from_role, to_role=role, today=today, facts=facts)
        for role in handover_roles(from_role)
    ]
    effective_on, waited_for = attribution_timing(from_role=from_role, account=account, today=today)
    onboarding = onboarding_status(account, today=today)
    return {
        "account": account,
        "form": form,
        "transitions": transitions,
        "preconditions": preconditions(
            account,
            reason=str(reason),
            today=today,
            onboarding=onboarding,
            facts=facts,
            transition=(from_role, to_role),
        ),
        "onboarding": onboarding,
        "invalid_reasons": [HandoverReason(r).label for r in sorted(INVALID_REASONS)],
        "effective_on": effective_on,
        "waited_for": waited_for,
        "top_40": account.is_top_40,  # type: ignore[attr-defined]
        # The propose step's own rule: the form is shown to those it accepts.
        "needs_a_manager": needs_a_manager(account, by=user, today=today),
        "high_potential": high_potential(account, today=today),
        "overlay_form": OverlayForm(),
        "show_overlay": account.owner_role == OwnerRole.TAE,
    }


@require_http_methods(["GET", "POST"])
def handover_propose(request: StaffRequest, pk: int) -> HttpResponse:
    """The propose page. An htmx GET (the incoming role changed) answers the form
    alone, its reason list the new transition's; an htmx POST with errors answers
    the form with them (422), a valid one redirects through HX-Redirect."""
    user = request.user
    account = _proposable_account(request, pk)
    people = incoming_people()
    if account.owner_id is not None:
        people = people.exclude(pk=account.owner_id)
    form_kwargs: dict[str, Any] = {
        "people": people,
        "from_role": account.owner_role,
        "refresh_url": reverse("handovers:propose", args=[account.pk]),
    }
    if request.method == "GET":
        initial = {
            k: request.GET[k] for k in ("to_owner", "to_role", "reason_detail") if k in request.GET
        }
        form = ProposeForm(initial=initial, **form_kwargs)
        reason = request.GET.get("reason", "")
        if reason in reasons_for(from_role=account.owner_role, to_role=form.incoming_role):
            form.initial["reason"] = reason
        if request.htmx:
            return render(
                request,
                "handovers/propose.html#propose-form",
                _propose_context(account, form, user=user),
            )
        return render(request, "handovers/propose.html", _propose_context(account, form, user=user))
    form = ProposeForm(request.POST, **form_kwargs)
    if form.is_valid():
        try:
            handover = propose_handover(
                account=account,
                to_owner=form.cleaned_data["to_owner"],
                to_role=form.cleaned_data["to_role"],
                reason=form.cleaned_data["reason"],
                reason_detail=form.cleaned_data["reason_detail"],
                by=user,
                today=company_today(),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Handover of {account.name} proposed.")
            detail = reverse("handovers:detail", args=[handover.pk])
            if request.htmx:
                return HttpResponseClientRedirect(detail)
            return redirect(detail)
    template = "handovers/propose.html#propose-form" if request.htmx else "handovers/propose.html"
    return render(request, template, _propose_context(account, form, user=user), status=422)


@require_POST
def account_tam_overlay(request: StaffRequest, pk: int) -> HttpResponse:
    user = request.user
    account = get_object_or_404(Account.objects.select_related("owner"), pk=pk)
    form = OverlayForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a TAM.")
    else:
        try:
            add_tam_overlay(
                account=account,
                tam=form.cleaned_data["tam"],
                by=user,
                expansion_note=form.cleaned_data["expansion_note"],
                today=company_today(),
            )
            messages.success(request, f"{form.cleaned_data['tam']} added as TAM overlay.")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    return redirect("accounts:account", pk=account.pk)


# --- the handover page -----------------------------------------------------------------


def _handover_for(request: StaffRequest, pk: int) -> Handover:
    """The handover if the user is a party, a party's team lead or a manager; 404 otherwise."""
    handover = get_object_or_404(
        Handover.objects.select_related(
            "account", "from_owner", "to_owner", "proposed_by", "ownership_change"
        ),
        pk=pk,
    )
    if not can_act(request.user, handover):
        raise PermissionDenied("Only the parties, their team leads and managers see this handover.")
    return handover


def _detail_context(request: StaffRequest, handover: Handover) -> dict[str, Any]:
    user = request.user
    today = company_today()
    account = with_revenue(Account.objects.filter(pk=handover.account_id), today=today).get()
    handover.account = account
    facts = plan_and_invoices(account, today=today)
    flags = (
        receiving_flags(account, today=today, facts=facts)
        if handover.to_role == OwnerRole.CSM
        else []
    )
    prep = [(f"prep:{k}", label, handover.item(f"prep:{k}")) for k, label in PREP_CHECKLIST]
    agenda = [
        (title, [(f"agenda:{k}", label, handover.item(f"agenda:{k}")) for k, label in items])
        for title, items in AGENDA_CHECKLIST
    ]
    steps = available_steps(user, handover)
    transition = transition_for(
        account, from_role=handover.from_role, to_role=handover.to_role, today=today, facts=facts
    )
    onboarding = onboarding_status(account, today=today)
    conditions = preconditions(
        account,
        reason=handover.reason,
        today=today,
        onboarding=onboarding,
        facts=facts,
        transition=(handover.from_role, handover.to_role),
    )
    return {
        "handover": handover,
        "account": account,
        "transition": transition,
        "preconditions": conditions,
        "onboarding": onboarding,
        "flags": flags,
        "flag_count": sum(1 for f in flags if not f.ok),
        "push_back": recommend_push_back(flags),
        "prep": prep,
        "agenda": agenda,
        "events": [
            (event, *timeline_words(action=event.action, to_state=event.to_state))
            for event in handover.events.select_related("actor")
        ],
        "steps": [
            (
                s,
                Step.LABELS[s],
                failing_checks(s, transition_checks=transition.checks, conditions=conditions),
            )
            for s in steps
        ],
        "next_step": NEXT_STEP[handover.state],
        "is_manager": user.is_manager,
        "timing": attribution_timing(from_role=handover.from_role, account=account, today=today),
    }


@require_GET
def handover_detail(request: StaffRequest, pk: int) -> HttpResponse:
    handover = _handover_for(request, pk)
    return render(request, "handovers/detail.html", _detail_context(request, handover))


def _after_post(request: StaffRequest, handover: Handover, partial: str) -> HttpResponse:
    if request.htmx:
        handover = _handover_for(request, handover.pk)
        return render(
            request,
            f"handovers/detail.html#{partial}",
            _detail_context(request, handover),
        )
    return redirect(reverse("handovers:detail", args=[handover.pk]) + f"#{partial}")


@require_POST
def handover_step(request: StaffRequest, pk: int, step: str) -> HttpResponse:
    handover = _handover_for(request, pk)
    form = StepForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(str(e) for errs in form.errors.values() for e in errs))
        return _after_post(request, handover, "workflow")
    call_at = form.cleaned_data["call_at"]
    try:
        advance_handover(
            handover=handover,
            step=step,
            by=request.user,
            today=company_today(),
            note=form.cleaned_data["note"],
            override_reason=form.cleaned_data["override_reason"],
            call_at=call_at,
            intro_sent=form.cleaned_data["intro_sent"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        label = Step.LABELS.get(step, step)
        messages.success(request, f"{label}: done.")
    return _after_post(request, handover, "workflow")


@require_POST
def handover_checklist(request: StaffRequest, pk: int) -> HttpResponse:
    handover = _handover_for(request, pk)
    form = ChecklistItemForm(request.POST)
    if form.is_valid():
        try:
            tick_checklist_item(
                handover=handover,
                key=form.cleaned_data["key"],
                done=form.cleaned_data["done"],
                note=form.cleaned_data["note"],
                by=request.user,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            # The outcome, for the live region: a tick changes no visible text by itself.
            done = "ticked" if form.cleaned_data["done"] else "unticked"
            messages.success(request, f"Checklist item {done}; note saved.")
    else:
        messages.error(request, "Unknown checklist item.")
    return _after_post(request, handover, "checklists")


@require_POST
def handover_notes(request: StaffRequest, pk: int) -> HttpResponse:
    handover = _handover_for(request, pk)
    form = NotesForm(request.POST)
    if form.is_valid():
        save_handover_notes(handover=handover, notes=form.cleaned_data["notes"], by=request.user)
        messages.success(request, "Notes saved.")
    return _after_post(request, handover, "checklists")


def _tick_onboarding_item(request: StaffRequest, account: Account) -> None:
    """Save one onboarding checklist tick from the posted form; errors become messages."""
    form = OnboardingItemForm(request.POST)
    if not form.is_valid():
        return
    try:
        set_onboarding_item(
            account=account,
            section=form.cleaned_data["section"],
            item=form.cleaned_data["item"],
            done=form.cleaned_data["done"],
            by=request.user,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        done = "ticked" if form.cleaned_data["done"] else "unticked"
        messages.success(request, f"Onboarding item {done}.")


@require_POST
def handover_onboarding(request: StaffRequest, pk: int) -> HttpResponse:
    handover = _handover_for(request, pk)
    _tick_onboarding_item(request, handover.account)
    return _after_post(request, handover, "preconditions")


@require_POST
def account_onboarding(request: StaffRequest, pk: int) -> HttpResponse:
    """Tick an onboarding item from the propose page (owner, their lead, managers)."""
    account = _proposable_account(request, pk)
    _tick_onboarding_item(request, account)
    return redirect(reverse("handovers:propose", args=[account.pk]) + "#onboarding")
