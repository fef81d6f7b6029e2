"""Demo handovers for `manage.py seed_demo`: a few in each state of the workflow."""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from accounts.demo import DemoContext, DemoStep
from accounts.handovers.checklists import (
    ONBOARDING_CHECKLIST,
    checklist_labels,
    onboarding_sections,
)
from accounts.handovers.checks import reason_fact_check, reasons_for
from accounts.handovers.models import (
    Handover,
    HandoverEvent,
    HandoverReason,
    HandoverState,
    OnboardingCheck,
)
from accounts.handovers.workflow import MOVES
from accounts.models import Account, AccountPlan, OwnerRole, User
from accounts.ownership import change_account_owner
from accounts.plans import plan_title
from accounts.roles import Role
from billing.models import Invoice
from revopsweb.dates import quarter_start

# (state, steps taken after proposing, reason)
_SCENARIOS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (HandoverState.PROPOSED, (), HandoverReason.FULLY_EXPANDED),
    (HandoverState.PROPOSED, (), HandoverReason.ONBOARDED),
    (HandoverState.PUSHED_BACK, ("push_back",), HandoverReason.NO_LEVERS),
    (HandoverState.ACCEPTED, ("accept",), HandoverReason.EXPANSION),
    (HandoverState.CALL_SCHEDULED, ("accept", "schedule_call"), HandoverReason.FULLY_EXPANDED),
    (HandoverState.CALL_HELD, ("accept", "schedule_call", "hold_call"), HandoverReason.ONBOARDED),
    (HandoverState.CANCELLED, ("cancel",), HandoverReason.BOOK_OVER_CAP),
    (
        HandoverState.COMPLETED,
        ("accept", "schedule_call", "hold_call", "complete"),
        HandoverReason.FULLY_EXPANDED,
    ),
)


def _target_role(from_role: str) -> str:
    if from_role == OwnerRole.TAE:
        return OwnerRole.TAM
    if from_role == OwnerRole.TAM:
        return OwnerRole.CSM
    return OwnerRole.TAM


@transaction.atomic
def seed_handovers(
    *, rng: random.Random, today: dt.date, keep_free: frozenset[int] = frozenset()
) -> int:
    """Create one handover per scenario on owned accounts without an open one,
    with their timelines, some ticked checklist items and onboarding checks.
    Bulk inserts; the completed one moves ownership through change_account_owner.
    Returns the number of handovers created. Not idempotent: run on a fresh demo."""
    people: dict[str, list[User]] = {
        role: list(User.objects.filter(is_active=True, groups__name=role).order_by("pk"))
        for role in (Role.TAM, Role.CSM)
    }
    if not people[Role.TAM] or not people[Role.CSM]:
        return 0
    managers = list(User.objects.filter(groups__name=Role.MANAGER).order_by("pk")[:1])
    # One handover per scenario at the quick-start demo (about 400 owned accounts);
    # a larger company has them in proportion, the scenarios in turn.
    count = max(len(_SCENARIOS), Account.objects.filter(owner__isnull=False).count() // 50)
    candidates = list(
        Account.objects.filter(owner__isnull=False, handovers__isnull=True)
        .exclude(pk__in=keep_free)
        .select_related("owner")
        .order_by("pk")[: max(200, count)]
    )
    rng.shuffle(candidates)
    scenarios = [_SCENARIOS[i % len(_SCENARIOS)] for i in range(count)]
    now = timezone.now()
    keys = list(checklist_labels())
    handovers: list[Handover] = []
    plans: list[tuple[Handover, tuple[str, ...]]] = []
    for (state, steps, reason), account in zip(scenarios, candidates, strict=False):
        assert account.owner is not None
        to_role = _target_role(account.owner_role)
        fitting = reasons_for(from_role=account.owner_role, to_role=to_role)
        # A reason that states a fact (a book over 15 at quarter start) only where the
        # demo's data bears it out, as proposing requires; the move's first reason else.
        if reason not in fitting or not (
            reason_fact_check(account, reason=reason, owner=account.owner, today=today).ok
        ):
            reason = fitting[0]
        pool = [p for p in people[to_role] if p.pk != account.owner_id]
        if not pool:
            continue
        proposed_at = now - dt.timedelta(days=rng.randint(len(steps) * 3 + 1, 30))
        handover = Handover(
            account=account,
            from_owner=account.owner,
            from_role=account.owner_role,
            to_owner=rng.choice(pool),
            to_role=to_role,
            reason=reason,
            reason_detail="Demo handover.",
            state=HandoverState.PROPOSED if state == HandoverState.COMPLETED else state,
            proposed_by=account.owner,
            proposed_at=proposed_at,
            state_changed_at=proposed_at + dt.timedelta(days=len(steps) * 2),
            pushback_reasons="Two open invoices and no plan this quarter."
            if state == HandoverState.PUSHED_BACK
            else "",
            call_at=proposed_at + dt.timedelta(days=4) if "schedule_call" in steps else None,
            checklist={k: {"done": True, "note": ""} for k in rng.sample(keys, len(steps) * 3)},
        )
        handovers.append(handover)
        plans.append((handover, steps))
    Handover.objects.bulk_create(handovers)
    events: list[HandoverEvent] = []
    for handover, steps in plans:
        events.append(
            HandoverEvent(
                handover=handover,
                action="propose",
                to_state=HandoverState.PROPOSED,
                actor=handover.from_owner,
                at=handover.proposed_at,
                reason=HandoverReason(handover.reason).label,
            )
        )
        state = HandoverState.PROPOSED
        for i, step in enumerate(steps, start=1):
            to_state = MOVES[step][1]
            actor = handover.to_owner if step in ("accept", "push_back") else handover.from_owner
            events.append(
                HandoverEvent(
                    handover=handover,
                    action=step,
                    from_state=state,
                    to_state=to_state,
                    actor=actor,
                    at=handover.proposed_at + dt.timedelta(days=2 * i),
                    reason=handover.pushback_reasons if step == "push_back" else "",
                )
            )
            state = to_state
        if "complete" in steps:
            change = change_account_owner(
                account=handover.account,
                new_owner=handover.to_owner,
                new_owner_role=handover.to_role,
                changed_by=managers[0] if managers else handover.from_owner,
                reason=f"Handover #{handover.pk} ({handover.transition_label}): "
                f"{HandoverReason(handover.reason).label}",
                source="handover",
                effective_on=today,
            )
            Handover.objects.filter(pk=handover.pk).update(
                state=HandoverState.COMPLETED,
                ownership_change=change,
                completed_at=now,
                intro_sent_at=now,
                attribution_moves_on=today,
            )
    HandoverEvent.objects.bulk_create(events)
    OnboardingCheck.objects.bulk_create(
        (
            OnboardingCheck(account=h.account, section="general", item=key, checked_at=now)
            for h, _ in plans
            for key, _label in ONBOARDING_CHECKLIST["general"][1]
        ),
        ignore_conflicts=True,
    )
    return len(handovers)


@transaction.atomic
def prepare_handover_candidates(*, account_ids: list[int], today: dt.date) -> int:
    """Make the demo logins' handover candidates (accounts.demo_accounts.HANDOVER_CANDIDATES,
    whose revenue already has the core products their transition needs) pass
    the rest: this quarter's plan (TAM accounts documenting no viable levers and
    what was tried, the others expansion objectives), every onboarding item of
    their paid products ticked and, for a TAM's, a discount agreement. An account
    left with an unpaid invoice by the dunning step stays as it is (an override
    case). Idempotent. Returns the number of accounts prepared."""
    this_quarter = quarter_start(today)
    now = timezone.now()
    prepared = 0
    accounts = Account.objects.filter(pk__in=account_ids).select_related("owner")
    for account in accounts:
        if account.invoices.filter(
            status__in=[Invoice.Status.OPEN, Invoice.Status.FAILED]
        ).exists():
            continue
        tam_book = account.owner_role == OwnerRole.TAM
        AccountPlan.objects.update_or_create(
            account=account,
            quarter_start=this_quarter,
            defaults={
                "title": plan_title(account, day=this_quarter),
                "overview": f"{account.name}: ready to hand over.",
                "objectives": "Keep them healthy through renewal."
                if tam_book
                else "Expand into the core products they do not use yet.",
                "no_viable_levers": tam_book,
                "levers_tried": "Pitched surveys and the data warehouse twice; no team wants them."
                if tam_book
                else "",
                "author": account.owner,
            },
        )
        if tam_book and not account.has_discount_agreement:
            Account.objects.filter(pk=account.pk).update(has_discount_agreement=True)
        OnboardingCheck.objects.bulk_create(
            (
                OnboardingCheck(account=account, section=section, item=key, checked_at=now)
                for section in onboarding_sections(account, today=today)
                for key, _label in ONBOARDING_CHECKLIST[section][1]
            ),
            ignore_conflicts=True,
        )
        prepared += 1
    return prepared


def _candidate_ids(ctx: DemoContext) -> list[int]:
    return [p.account_id for p in ctx.profiles if p.core_products is not None]


def demo_steps() -> list[DemoStep]:
    """This app's seed_demo step (found by ``accounts.demo.installed_demo_steps``)."""
    return [
        DemoStep(
            "handovers",
            lambda ctx: {
                "handover rows": seed_handovers(
                    rng=ctx.rng("handovers"),
                    today=ctx.today,
                    keep_free=frozenset(_candidate_ids(ctx)),
                )
            },
            order=80,
        ),
        # After the invoices and dunning (220), which decide who owes money.
        DemoStep(
            "handover candidates",
            lambda ctx: {
                "handover candidates ready": prepare_handover_candidates(
                    account_ids=_candidate_ids(ctx), today=ctx.today
                )
            },
            order=230,
        ),
    ]
