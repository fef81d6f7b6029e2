"""Account handovers (sales/account-allocation "Handing over customers", "Account
handover checklist", "Receiving an account as a CSM", "Pushing back", "High
potential customers", "Top 40"; sales/how-we-work "Handing off customers").

A handover moves an account from its owner to a new owner through these states::

    proposed ─┬─ accept ──→ accepted ─ schedule_call → call_scheduled ─ hold_call → call_held ─ complete → completed
              └─ push_back → pushed_back ─ resubmit → proposed
    (any open state) ─ cancel → cancelled

Each step writes a HandoverEvent (who, when, note). Accepting is blocked while a
transition condition or precondition fails, and completing while a precondition
fails; a manager may do a blocked step anyway with a written reason, recorded on
the event. Ownership changes only at completion, through
accounts.ownership.change_account_owner, so the account's history shows it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, OwnerRole, User
from accounts.ownership import change_account_owner
from accounts.permissions import is_owner_lead_or_manager
from revopsweb.dates import quarter_end

from .checks import (
    INVALID_REASON_EXPLANATION,
    Check,
    _revenue,
    is_handover_transition,
    needs_a_manager,
    plan_and_invoices,
    preconditions,
    reason_check,
    reason_fact_check,
    transition_for,
)
from .models import OPEN_STATES, Handover, HandoverEvent, HandoverReason, HandoverState
from .permissions import _incoming_side, _outgoing_side, can_act


def role_of(user: User) -> str:
    """The role a person takes an account in (TAE, TAM or CSM)."""
    for role in (OwnerRole.TAM, OwnerRole.CSM, OwnerRole.TAE):
        if user.has_role(role):
            return role
    return ""


@transaction.atomic
def propose_handover(
    *,
    account: Account,
    to_owner: User,
    to_role: str,
    reason: str,
    reason_detail: str,
    by: User,
    today: dt.date,
) -> Handover:
    """Open a handover of ``account`` from its owner to ``to_owner``.

    Refuses (ValidationError) an unowned account, handing to the current owner,
    an invalid reason (with the handbook's explanation), a reason whose stated fact
    the data contradicts (``reason_fact_check``, on the reason field), a second open handover
    of the same account; PermissionDenied for anyone but the owner, their team
    lead or a manager, and for a non-manager on a Top 40 account. Conditions and
    preconditions may still fail: they block accepting, not proposing.
    """
    if account.owner is None:
        raise ValidationError(
            "This account has no owner: it is assigned at allocation, not handed over."
        )
    if not is_owner_lead_or_manager(by, account):
        raise PermissionDenied("Only the owner, their team lead or a manager proposes a handover.")
    if needs_a_manager(account, by=by, today=today):
        raise PermissionDenied("Top 40 account: only a manager proposes or approves a handover.")
    if to_owner.pk == account.owner_id:
        raise ValidationError("The incoming owner already owns the account.")
    if to_role not in (OwnerRole.TAE, OwnerRole.TAM, OwnerRole.CSM):
        raise ValidationError("The incoming role must be TAE, TAM or CSM.")
    if not is_handover_transition(from_role=account.owner_role, to_role=to_role):
        raise ValidationError(
            f"{account.owner_role} → {to_role} is not one of the handbook's handovers."
        )
    if not to_owner.has_role(to_role):
        raise ValidationError(f"{to_owner} does not work as a {to_role}.")
    check = reason_check(reason, transition=(account.owner_role, to_role))
    if not check.ok:
        raise ValidationError(check.why)
    facts = reason_fact_check(account, reason=reason, owner=account.owner, today=today)
    if not facts.ok:
        raise ValidationError({"reason": [facts.why]})
    locked = Account.objects.select_for_update().get(pk=account.pk)
    if locked.owner_id is None or locked.owner_id != account.owner_id:
        raise ValidationError("The account's owner changed meanwhile; reload and propose again.")
    if Handover.objects.filter(account=locked, state__in=OPEN_STATES).exists():
        raise ValidationError("This account already has an open handover.")
    now = timezone.now()
    handover = Handover.objects.create(
        account=locked,
        from_owner_id=locked.owner_id,
        from_role=locked.owner_role,
        to_owner=to_owner,
        to_role=to_role,
        reason=reason,
        reason_detail=reason_detail,
        proposed_by=by,
        proposed_at=now,
        state_changed_at=now,
    )
    HandoverEvent.objects.create(
        handover=handover,
        action="propose",
        to_state=HandoverState.PROPOSED,
        actor=by,
        at=now,
        reason=f"{HandoverReason(reason).label}. {reason_detail}".strip(),
    )
    return handover


# --- steps ----------------------------------------------------------------------------


class Step:
    ACCEPT = "accept"
    PUSH_BACK = "push_back"
    RESUBMIT = "resubmit"
    SCHEDULE_CALL = "schedule_call"
    HOLD_CALL = "hold_call"
    COMPLETE = "complete"
    CANCEL = "cancel"

    LABELS: dict[str, str] = {  # noqa: RUF012
        ACCEPT: "Accept",
        PUSH_BACK: "Push back",
        RESUBMIT: "Resubmit",
        SCHEDULE_CALL: "Schedule the handover call",
        HOLD_CALL: "Call held",
        COMPLETE: "Complete (intro sent)",
        CANCEL: "Cancel",
    }


MOVES: dict[str, tuple[tuple[str, ...], str]] = {
    Step.ACCEPT: ((HandoverState.PROPOSED,), HandoverState.ACCEPTED),
    Step.PUSH_BACK: ((HandoverState.PROPOSED, HandoverState.ACCEPTED), HandoverState.PUSHED_BACK),
    Step.RESUBMIT: ((HandoverState.PUSHED_BACK,), HandoverState.PROPOSED),
    Step.SCHEDULE_CALL: (
        (HandoverState.ACCEPTED, HandoverState.CALL_SCHEDULED),
        HandoverState.CALL_SCHEDULED,
    ),
    Step.HOLD_CALL: ((HandoverState.CALL_SCHEDULED,), HandoverState.CALL_HELD),
    Step.COMPLETE: ((HandoverState.CALL_HELD,), HandoverState.COMPLETED),
    Step.CANCEL: (tuple(OPEN_STATES), HandoverState.CANCELLED),
}

NEXT_STEP: dict[str, str] = {
    HandoverState.PROPOSED: "Incoming owner accepts or pushes back",
    HandoverState.PUSHED_BACK: "Outgoing owner fixes the issues and resubmits",
    HandoverState.ACCEPTED: "Schedule the 15–30 minute handover call",
    HandoverState.CALL_SCHEDULED: "Hold the handover call",
    HandoverState.CALL_HELD: "Send the intro and complete",
    HandoverState.COMPLETED: "Done",
    HandoverState.CANCELLED: "–",
}


def available_steps(user: User, handover: Handover) -> list[str]:
    """Steps the user may try from the handover's current state."""
    if not can_act(user, handover):
        return []
    steps = [s for s, (sources, _) in MOVES.items() if handover.state in sources]
    allowed = []
    for step in steps:
        if step in (Step.ACCEPT, Step.PUSH_BACK) and not _incoming_side(user, handover):
            continue
        if step in (Step.RESUBMIT, Step.CANCEL) and not _outgoing_side(user, handover):
            continue
        allowed.append(step)
    return allowed


BLOCKABLE_STEPS = (Step.ACCEPT, Step.COMPLETE)


def failing_checks(
    step: str, *, transition_checks: list[Check], conditions: list[Check]
) -> list[Check]:
    """The failing checks that block ``step``: accepting needs the transition's
    conditions and every precondition; completing needs the preconditions.
    Pure: give it what ``transition_for`` and ``preconditions`` returned."""
    if step not in BLOCKABLE_STEPS:
        return []
    checks = [*transition_checks, *conditions] if step == Step.ACCEPT else conditions
    return [c for c in checks if not c.ok]


def blockers(handover: Handover, *, step: str, today: dt.date) -> list[Check]:
    """``failing_checks`` for ``step``, computing only the checks the step needs."""
    if step not in BLOCKABLE_STEPS:
        return []
    facts = plan_and_invoices(handover.account, today=today)
    transition_checks = (
        transition_for(
            handover.account,
            from_role=handover.from_role,
            to_role=handover.to_role,
            today=today,
            facts=facts,
        ).checks
        if step == Step.ACCEPT
        else []
    )
    return failing_checks(
        step,
        transition_checks=transition_checks,
        conditions=preconditions(
            handover.account,
            reason=handover.reason,
            today=today,
            facts=facts,
            transition=(handover.from_role, handover.to_role),
        ),
    )


@transaction.atomic
def advance_handover(
    *,
    handover: Handover,
    step: str,
    by: User,
    today: dt.date,
    note: str = "",
    override_reason: str = "",
    call_at: dt.datetime | None = None,
    intro_sent: bool = False,
) -> Handover:
    """Take one step of the workflow and record it as a HandoverEvent.

    Raises PermissionDenied for anyone but the parties, their team leads and
    managers (accept/push back: the incoming side; Top 40 accept: managers
    only), ValidationError for a step the state does not allow, a push back
    without reasons, a call without a time, completion without the intro, or a
    blocked step (failing conditions or preconditions) unless a manager gives
    ``override_reason``. Completing sets the new owner through
    change_account_owner (the outgoing owner is unassigned; quota attribution
    moves at quarter end for TAM managed books). A step already taken by a
    concurrent request fails on the state check, so a retry cannot complete twice.
    """
    locked = (
        Handover.objects.select_for_update()
        .select_related("account", "from_owner", "to_owner")
        .get(pk=handover.pk)
    )
    _require_step_allowed(locked, step=step, by=by)
    if step == Step.ACCEPT:
        # One revenue read serves the Top 40 rule here and the transition's conditions below.
        locked.account = _revenue(locked.account, today=today)
        if needs_a_manager(locked.account, by=by, today=today):
            raise PermissionDenied("Top 40 account: only a manager approves a handover.")
    override_reason = _override_needed(locked, step=step, by=by, today=today, given=override_reason)
    now = timezone.now()
    effect = STEP_EFFECTS.get(step)
    if effect is not None:
        effect(
            StepInput(
                handover=locked,
                by=by,
                today=today,
                now=now,
                note=note,
                call_at=call_at,
                intro_sent=intro_sent,
            )
        )
    previous = locked.state
    locked.state = MOVES[step][1]
    locked.state_changed_at = now
    locked.save()
    HandoverEvent.objects.create(
        handover=locked,
        action=step,
        from_state=previous,
        to_state=locked.state,
        actor=by,
        at=now,
        reason=note.strip(),
        override_reason=override_reason,
    )
    return locked


def _require_step_allowed(handover: Handover, *, step: str, by: User) -> None:
    """Refuse an unknown step, an outsider, and a step this person or state does not allow."""
    if step not in MOVES:
        raise ValidationError(f"Unknown step {step!r}.")
    if not can_act(by, handover):
        raise PermissionDenied("Only the parties, their team leads and managers act on a handover.")
    if step in available_steps(by, handover):
        return
    if handover.state in MOVES[step][0]:
        raise PermissionDenied(
            f"{Step.LABELS[step]} is for the incoming owner's side or a manager."
        )
    raise ValidationError(
        f"Cannot {Step.LABELS[step].lower()} a handover that is "
        f"{handover.get_state_display().lower()}."
    )


def _override_needed(handover: Handover, *, step: str, by: User, today: dt.date, given: str) -> str:
    """The override reason to record: the manager's reason when the step is blocked,
    "" when nothing blocks it. Raises ValidationError for a blocked step without a
    reason or blocked by an invalid handover reason (never overridable), and
    PermissionDenied when someone other than a manager overrides."""
    given = given.strip()
    failing = blockers(handover, step=step, today=today)
    if not failing:
        return ""  # nothing was blocked: nothing to override
    if not given:
        raise ValidationError("Blocked: " + " ".join(f"{c.label}: {c.why}" for c in failing))
    if not by.is_manager:
        raise PermissionDenied("Only a manager overrides a blocked step.")
    if any(c.key == "reason" for c in failing):
        raise ValidationError(INVALID_REASON_EXPLANATION)
    return given


# Timeline actions that are not steps, in words.
_OTHER_ACTIONS = {"propose": "Proposed", "checklist": "Checklist"}


def action_label(action: str) -> str:
    """A timeline action in words: a step's button label, "Proposed", "Checklist";
    an unknown action with its underscores as spaces."""
    return Step.LABELS.get(action) or _OTHER_ACTIONS.get(action) or action.replace("_", " ")


def state_label(state: str) -> str:
    """A handover state in words ("call_scheduled" → "Call scheduled"); "" stays ""."""
    return HandoverState(state).label if state in HandoverState.values else state


def timeline_words(*, action: str, to_state: str) -> tuple[str, str]:
    """A timeline entry in words: its action and the state it led to, the state ""
    when it reads the same as the action. So the proposal, which creates the
    handover, reads "Proposed" rather than the no-op "Proposed → Proposed" (and
    "Call held" likewise), while "Accept → Accepted" keeps its state."""
    words, state = action_label(action), state_label(to_state)
    return words, "" if state == words else state


@dataclass(frozen=True)
class StepInput:
    """What a step's effect reads: the locked handover and the form's fields."""

    handover: Handover
    by: User
    today: dt.date
    now: dt.datetime
    note: str
    call_at: dt.datetime | None
    intro_sent: bool


def _push_back(step: StepInput) -> None:
    if not step.note.strip():
        raise ValidationError("Say why you push back (which flags, what needs fixing).")
    step.handover.pushback_reasons = step.note.strip()


def _schedule_call(step: StepInput) -> None:
    if step.call_at is None:
        raise ValidationError("Give the call's date and time.")
    step.handover.call_at = step.call_at


def _complete(step: StepInput) -> None:
    """Hand the account over: new owner through change_account_owner, overlay and
    new-owner trait cleared, attribution timing and the intro recorded."""
    if not step.intro_sent:
        raise ValidationError("Record the introduction to the customer before completing.")
    handover = step.handover
    account = handover.account
    effective_on, waited_for = attribution_timing(
        from_role=handover.from_role, account=account, today=step.today
    )
    change = change_account_owner(
        account=account,
        new_owner=handover.to_owner,
        new_owner_role=handover.to_role,
        changed_by=step.by,
        reason=f"Handover #{handover.pk} ({handover.transition_label}): "
        f"{HandoverReason(handover.reason).label}",
        source="handover",
        effective_on=effective_on,
    )
    fields: dict[str, object] = {"new_owner_trait": ""}
    if account.tam_overlay_id in (handover.to_owner_id, handover.from_owner_id):
        fields["tam_overlay"] = None
    Account.objects.filter(pk=account.pk).update(**fields)
    handover.ownership_change = change
    handover.attribution_moves_on = effective_on
    handover.quarter_end = waited_for
    handover.intro_sent_at = step.now
    handover.intro_note = step.note.strip()[:300]
    handover.completed_at = step.now


# What a step does besides moving the state (which every step does): checked
# after the blockers, in this order of steps' needs.
STEP_EFFECTS: dict[str, Callable[[StepInput], None]] = {
    Step.PUSH_BACK: _push_back,
    Step.SCHEDULE_CALL: _schedule_call,
    Step.COMPLETE: _complete,
}


def attribution_timing(
    *, from_role: str, account: Account, today: dt.date
) -> tuple[dt.date, dt.date | None]:
    """When quota attribution moves: removals from a TAM's managed (AM-managed)
    book wait for quarter end (effective the day after); TAE and other handovers
    take effect today. Returns (effective day, quarter end waited for or None)."""
    if from_role == OwnerRole.TAM and account.am_managed:
        end = quarter_end(today)
        return end + dt.timedelta(days=1), end
    return today, None


@transaction.atomic
def save_handover_notes(*, handover: Handover, notes: str, by: User) -> Handover:
    if not can_act(by, handover):
        raise PermissionDenied("Only the parties, their team leads and managers edit the notes.")
    Handover.objects.filter(pk=handover.pk).update(notes=notes)
    handover.notes = notes
    return handover
