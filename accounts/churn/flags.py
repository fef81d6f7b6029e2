"""Churn risk flags (customer-success "Churn risk", "Weekly at-risk review"):
flagging an account, the weekly 60-second status, escalation, the outcome and
the retro.

Signals (accounts/churn/signals.py) are inputs to people: an account with an
open signal and no open flag is *suggested*; a person flags it, which puts it
in the churn-risk segment (its open ``ChurnRiskFlag``) and, in the same
transaction, queues its note for #customer-churn in the outbox
(accounts/churn/webhook.py), which a worker posts and the sweep re-sends.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import Account, ActivityKind, User
from accounts.permissions import is_owner_lead_or_manager
from billing.models import MonthlyRevenue
from revopsweb.dates import add_months, company_today, latest_complete_month, week_start

from .models import (
    ChurnRetro,
    ChurnRiskFlag,
    ChurnSignal,
    Escalation,
    EscalationTeam,
    FlagStatus,
    Severity,
    SignalKind,
    StatusTrend,
    WeeklyStatusUpdate,
)
from .webhook import queue_flag_note

LEADERSHIP_ARR = Decimal(50_000)
NO_IMPROVEMENT_WEEKS = 4
RECOVERY_CALL_HOURS = 48
RETRO_DUE_DAYS = 7
TREND_WEEKS = 26
RECOVERY_CALL_KINDS = (ActivityKind.CALL, ActivityKind.MEETING)


class ChurnError(ValidationError):
    """A churn action that the rules do not allow (already flagged, already closed, …)."""


def account_arr(account: Account, *, today: dt.date) -> Decimal:
    """ARR as 12 × the account's revenue in its latest complete month of the last three.

    The current month is still being invoiced, so it is left out; an account
    with no revenue in the three months before it has no ARR (0).
    """
    latest_month = latest_complete_month(today)
    rows = (
        MonthlyRevenue.objects.filter(
            account=account, month__gte=add_months(latest_month, -2), month__lte=latest_month
        )
        .values("month")
        .annotate(total=Sum("amount"))
        .order_by("-month")[:1]
    )
    latest = next(iter(rows), None)
    return (latest["total"] * 12) if latest else Decimal(0)


# --- permissions -----------------------------------------------------------


def _require(user: User, account: Account) -> None:
    if not is_owner_lead_or_manager(user, account):
        raise PermissionDenied(
            "Only the owner, their team lead or a manager can change this account's churn risk."
        )


# --- flag ------------------------------------------------------------------


def _open_signal_kinds(account: Account) -> list[str]:
    """The kinds of the account's open signals, in kind order (one query)."""
    return list(
        ChurnSignal.objects.filter(account=account, cleared_on__isnull=True)
        .order_by("kind")
        .values_list("kind", flat=True)
    )


def default_triggers(account: Account) -> str:
    """The open signals of the account as a sentence, to prefill the flag form."""
    labels = dict(SignalKind.choices)
    return "; ".join(str(labels.get(kind, kind)) for kind in _open_signal_kinds(account))


def flag_account(
    *,
    account: Account,
    by: User,
    triggers: str,
    known: str = "",
    help_needed: str = "",
    owner_actions: str = "",
    severity: str = Severity.ELEVATED,
    next_key_date: dt.date | None = None,
    now: dt.datetime | None = None,
) -> ChurnRiskFlag:
    """Put ``account`` in the churn-risk segment and post the note to #customer-churn.

    Records who raised it, when, the ARR then and the signals open then. The
    note is an outbox delivery committed with the flag (none without
    ``CHURN_WEBHOOK_URL``); its post happens after commit, at least once, and
    never blocks or undoes the flag.
    Raises PermissionDenied for someone who may not flag it and ChurnError when
    it is already flagged (one open flag per account). Not idempotent by
    design: each call is a new flag, refused while one is open.
    """
    _require(by, account)
    now = now or timezone.now()
    with transaction.atomic():
        # Lock the account so two people flagging at once get one flag and one refusal.
        Account.objects.select_for_update().filter(pk=account.pk).first()
        if ChurnRiskFlag.objects.filter(account=account, status=FlagStatus.OPEN).exists():
            raise ChurnError("This account is already flagged at risk.")
        flag = ChurnRiskFlag.objects.create(
            account=account,
            raised_by=by,
            raised_at=now,
            arr_at_flag=account_arr(account, today=company_today(now=now)),
            signal_kinds=_open_signal_kinds(account),
            triggers=triggers,
            known=known,
            help_needed=help_needed,
            owner_actions=owner_actions,
            severity=severity,
            next_key_date=next_key_date,
        )
        queue_flag_note(flag)
    return flag


def close_flag(
    *,
    flag: ChurnRiskFlag,
    by: User,
    status: str,
    note: str = "",
    now: dt.datetime | None = None,
) -> ChurnRiskFlag:
    """Close an open flag as resolved (saved), churned, or removed (unflag).

    The row stays as history with who closed it, when and why. Churned flags
    then need a retro within RETRO_DUE_DAYS. Raises ChurnError when the flag is
    not open (so a double submit does nothing twice).
    """
    if status not in {FlagStatus.RESOLVED, FlagStatus.CHURNED, FlagStatus.REMOVED}:
        raise ChurnError(f"{status!r} is not an outcome.")
    _require(by, flag.account)
    now = now or timezone.now()
    with transaction.atomic():
        updated = ChurnRiskFlag.objects.filter(pk=flag.pk, status=FlagStatus.OPEN).update(
            status=status, closed_at=now, closed_by=by, close_note=note
        )
        if updated != 1:
            raise ChurnError("This flag is already closed.")
    flag.refresh_from_db()
    return flag


def unflag(*, flag: ChurnRiskFlag, by: User, note: str, now: dt.datetime | None = None) -> None:
    """Remove a flag raised by mistake (the row stays, status "removed")."""
    close_flag(flag=flag, by=by, status=FlagStatus.REMOVED, note=note, now=now)


# --- weekly status, escalation, retro ----------------------------------------


def post_weekly_status(
    *,
    flag: ChurnRiskFlag,
    by: User,
    tried: str,
    working: str = "",
    help_needed: str = "",
    trend: str = StatusTrend.NO_CHANGE,
    next_key_date: dt.date | None = None,
    now: dt.datetime | None = None,
) -> WeeklyStatusUpdate:
    """Record this week's 60-second update on an open flag.

    One update per flag per week: posting again in the same week replaces the
    text (idempotent for the same input).
    """
    _require(by, flag.account)
    if not flag.is_open:
        raise ChurnError("The flag is closed; there is nothing to update.")
    now = now or timezone.now()
    update, _ = WeeklyStatusUpdate.objects.update_or_create(
        flag=flag,
        week=week_start(company_today(now=now)),
        defaults={
            "author": by,
            "tried": tried,
            "working": working,
            "help_needed": help_needed,
            "trend": trend,
            "next_key_date": next_key_date,
            "posted_at": now,
        },
    )
    return update


def escalate_flag(
    *,
    flag: ChurnRiskFlag,
    by: User,
    team: str,
    person: str = "",
    note: str = "",
    now: dt.datetime | None = None,
) -> Escalation:
    """Record who was pulled in (engineering, product, leadership); ownership is unchanged."""
    _require(by, flag.account)
    if not flag.is_open:
        raise ChurnError("The flag is closed; escalate an open flag.")
    if team not in EscalationTeam.values:
        raise ChurnError(f"{team!r} is not a team to escalate to.")
    return Escalation.objects.create(
        flag=flag,
        team=team,
        person=person,
        note=note,
        escalated_by=by,
        escalated_at=now or timezone.now(),
    )


def write_retro(
    *,
    flag: ChurnRiskFlag,
    by: User,
    what_happened: str,
    root_cause: str,
    learnings: str,
    now: dt.datetime | None = None,
) -> ChurnRetro:
    """Write (or rewrite) the retro of a churned flag."""
    _require(by, flag.account)
    if flag.status != FlagStatus.CHURNED:
        raise ChurnError("Only a churned account gets a retro.")
    retro, _ = ChurnRetro.objects.update_or_create(
        flag=flag,
        defaults={
            "what_happened": what_happened,
            "root_cause": root_cause,
            "learnings": learnings,
            "written_by": by,
            "written_at": now or timezone.now(),
        },
    )
    return retro
