"""Churn risk: the churn-risk segment, flags, weekly status, escalation, outcome, retro.

Signals are computed nightly by ``detect_churn_signals`` (accounts/churn_signals.py).
Signals are inputs to people: an account with an open signal and no open flag
is *suggested*; a person flags it, which puts it in the churn-risk segment
(its open ``ChurnRiskFlag``) and posts the note to the #customer-churn webhook.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

import httpx
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from billing.models import MonthlyRevenue
from billing.months import add_months

from .books import is_owner_lead_or_manager
from .churn_models import (
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
from .churn_signals import detect_churn_signals
from .models import Account, Activity, ActivityKind, User
from .segments import latest_complete_month

__all__ = [
    "ChurnError",
    "TransientWebhookError",
    "churn_risk_account_ids",
    "close_flag",
    "deliver_flag_webhook",
    "detect_churn_signals",
    "escalate_flag",
    "flag_account",
    "post_weekly_status",
    "suggested_account_ids",
    "write_retro",
]

logger = logging.getLogger(__name__)

LEADERSHIP_ARR = Decimal(50_000)
NO_IMPROVEMENT_WEEKS = 4
RECOVERY_CALL_HOURS = 48
RETRO_DUE_DAYS = 7
TREND_WEEKS = 26
RECOVERY_CALL_KINDS = (ActivityKind.CALL, ActivityKind.MEETING)


class ChurnError(ValidationError):
    """A churn action that the rules do not allow (already flagged, already closed, …)."""


class TransientWebhookError(Exception):
    """The webhook could not be reached or answered 5xx/429: worth retrying."""


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


# --- the segment -----------------------------------------------------------


def _flagged() -> Exists:
    return Exists(ChurnRiskFlag.objects.filter(account=OuterRef("pk"), status=FlagStatus.OPEN))


def _suggested(queryset: QuerySet[Account]) -> QuerySet[Account]:
    """The accounts of ``queryset`` with an open signal but no open flag."""
    signals = ChurnSignal.objects.filter(account=OuterRef("pk"), cleared_on__isnull=True)
    return queryset.filter(Exists(signals), ~_flagged())


def churn_risk_account_ids(queryset: QuerySet[Account]) -> set[int]:
    """Ids of the accounts in ``queryset`` that are in the churn-risk segment (one query)."""
    return set(queryset.filter(_flagged()).values_list("pk", flat=True))


def suggested_account_ids(queryset: QuerySet[Account]) -> set[int]:
    """Ids of accounts in ``queryset`` with an open signal but no open flag (one query)."""
    return set(_suggested(queryset).values_list("pk", flat=True))


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
    webhook post is enqueued after commit and never blocks or undoes the flag.
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
            arr_at_flag=account_arr(account, today=timezone.localdate(now)),
            signal_kinds=_open_signal_kinds(account),
            triggers=triggers,
            known=known,
            help_needed=help_needed,
            owner_actions=owner_actions,
            severity=severity,
            next_key_date=next_key_date,
        )
        from .tasks import post_churn_flag_to_webhook

        # robust: a broker outage must not turn a saved flag into an error page.
        transaction.on_commit(
            partial(post_churn_flag_to_webhook.delay, flag_id=flag.pk), robust=True
        )
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
        week=monday(timezone.localdate(now)),
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


def retro_due_at(flag: ChurnRiskFlag) -> dt.datetime | None:
    return flag.closed_at + dt.timedelta(days=RETRO_DUE_DAYS) if flag.closed_at else None


def overdue_retro_flags(
    queryset: QuerySet[ChurnRiskFlag], *, now: dt.datetime
) -> QuerySet[ChurnRiskFlag]:
    """Churned flags without a retro more than RETRO_DUE_DAYS after the churn."""
    return queryset.filter(
        status=FlagStatus.CHURNED,
        retro__isnull=True,
        closed_at__lt=now - dt.timedelta(days=RETRO_DUE_DAYS),
    )


# --- the weekly review -------------------------------------------------------


def review_accounts(user: User) -> QuerySet[Account]:
    """Accounts the churn pages show the user: team leads and managers all; others their own."""
    accounts = Account.objects.all()
    return accounts if user.is_team_lead_or_manager else accounts.filter(owner=user)


def visible_flags(user: User) -> QuerySet[ChurnRiskFlag]:
    """Flags the user sees: team leads and managers see all; others their own accounts."""
    flags = ChurnRiskFlag.objects.all()
    return flags if user.is_team_lead_or_manager else flags.filter(account__owner=user)


@dataclass
class ReviewRow:
    flag: ChurnRiskFlag
    weeks_at_risk: int
    latest_update: WeeklyStatusUpdate | None
    missing_update: bool
    recovery_call: str  # "held", "due" (still inside 48 h) or "missed"
    next_key_date: dt.date | None
    escalate_or_accept: bool
    leadership_marker: str  # "", "needed" or "involved"
    escalations: list[Escalation]
    can_manage: bool


@dataclass
class OwnerGroup:
    owner: User | None
    rows: list[ReviewRow] = field(default_factory=list)

    @property
    def arr(self) -> Decimal:
        return sum((r.flag.arr_at_flag for r in self.rows), Decimal(0))


def _recovery_call_state(flag: Any, now: dt.datetime) -> str:
    if flag.has_recovery_call:
        return "held"
    if now < flag.raised_at + dt.timedelta(hours=RECOVERY_CALL_HOURS):
        return "due"
    return "missed"


def review_groups(
    *, user: User, now: dt.datetime, flag_ids: Iterable[int] | None = None
) -> list[OwnerGroup]:
    """Open flags the user may see, grouped by owner (by name), rows by ARR (largest first).

    Fixed query count whatever the number of flags: the flags with account and
    owner, their status updates, their escalations. ``flag_ids`` narrows it
    (one row re-rendered after an htmx post).
    """
    today = timezone.localdate(now)
    this_week = monday(today)
    recovery_calls = Activity.objects.filter(
        account=OuterRef("account"),
        kind__in=RECOVERY_CALL_KINDS,
        occurred_at__gte=OuterRef("raised_at"),
        occurred_at__lte=OuterRef("raised_at") + dt.timedelta(hours=RECOVERY_CALL_HOURS),
    )
    flags_qs = visible_flags(user).filter(status=FlagStatus.OPEN)
    if flag_ids is not None:
        flags_qs = flags_qs.filter(pk__in=list(flag_ids))
    flags = list(
        flags_qs.select_related("account", "account__owner", "raised_by")
        .annotate(has_recovery_call=Exists(recovery_calls))
        .prefetch_related("status_updates", "escalations")
        .order_by("account__owner__name", "account__owner_id", "-arr_at_flag", "account__name")
    )
    groups: dict[int | None, OwnerGroup] = {}
    for flag in flags:
        updates = list(flag.status_updates.all())  # ordered newest week first
        latest = updates[0] if updates else None
        escalations = list(flag.escalations.all())
        weeks = flag.weeks_at_risk(today)
        improving = latest is not None and latest.trend == StatusTrend.IMPROVING
        leadership = ""
        if flag.arr_at_flag > LEADERSHIP_ARR and flag.severity == Severity.SERIOUS:
            leadership = (
                "involved"
                if any(e.team == EscalationTeam.LEADERSHIP for e in escalations)
                else "needed"
            )
        key_dates = [
            d
            for d in (
                latest.next_key_date if latest else None,
                flag.next_key_date,
                flag.account.renewal_date,
            )
            if d is not None and d >= today
        ]
        row = ReviewRow(
            flag=flag,
            weeks_at_risk=weeks,
            latest_update=latest,
            missing_update=(latest is None or latest.week < this_week)
            and flag.raised_at.date() < this_week,
            recovery_call=_recovery_call_state(flag, now),
            next_key_date=min(key_dates) if key_dates else None,
            escalate_or_accept=weeks >= NO_IMPROVEMENT_WEEKS and not improving,
            leadership_marker=leadership,
            escalations=escalations,
            can_manage=is_owner_lead_or_manager(user, flag.account),
        )
        owner_id = flag.account.owner_id
        groups.setdefault(owner_id, OwnerGroup(owner=flag.account.owner)).rows.append(row)
    return list(groups.values())


def suggested_accounts(*, user: User) -> QuerySet[Account]:
    """Accounts with an open signal and no flag, scoped like the review (one query)."""
    return _suggested(review_accounts(user)).select_related("owner").order_by("owner__name", "name")


@dataclass
class TrendWeek:
    week: dt.date
    at_risk: int
    arr_at_risk: Decimal
    saved: int
    churned: int


def weekly_trend(*, today: dt.date, weeks: int = TREND_WEEKS) -> list[TrendWeek]:
    """Per week of the last ``weeks``: flags open at the week's end, their ARR, saved and churned.

    One query (the flags overlapping the period); the weekly buckets are summed here.
    """
    first = monday(today) - dt.timedelta(weeks=weeks - 1)
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(first, dt.time.min, tzinfo=tz)
    rows = list(
        ChurnRiskFlag.objects.filter(Q(closed_at__isnull=True) | Q(closed_at__gte=start))
        .exclude(status=FlagStatus.REMOVED)
        .values_list("raised_at", "closed_at", "status", "arr_at_flag")
    )
    result = []
    for index in range(weeks):
        week = first + dt.timedelta(weeks=index)
        week_end = dt.datetime.combine(week + dt.timedelta(days=7), dt.time.min, tzinfo=tz)
        week_start = week_end - dt.timedelta(days=7)
        at_risk = [r for r in rows if r[0] < week_end and (r[1] is None or r[1] >= week_end)]
        closed = [r for r in rows if r[1] is not None and week_start <= r[1] < week_end]
        result.append(
            TrendWeek(
                week=week,
                at_risk=len(at_risk),
                arr_at_risk=sum((r[3] for r in at_risk), Decimal(0)),
                saved=sum(1 for r in closed if r[2] == FlagStatus.RESOLVED),
                churned=sum(1 for r in closed if r[2] == FlagStatus.CHURNED),
            )
        )
    return result


# --- the #customer-churn webhook ---------------------------------------------


def webhook_message(flag: ChurnRiskFlag) -> dict[str, str]:
    """The Slack-style message for a new flag: account, ARR, trigger, what's known, help, actions."""
    account = flag.account
    lines = [
        f":rotating_light: *{account.name}* flagged at risk by {flag.raised_by}",
        f"ARR: ${flag.arr_at_flag:,.0f} · severity: {flag.get_severity_display()}",
        f"Owner: {account.owner or 'none'}",
        f"Triggered by: {flag.triggers}",
    ]
    if flag.known:
        lines.append(f"What we know: {flag.known}")
    if flag.help_needed:
        lines.append(f"Help needed: {flag.help_needed}")
    if flag.owner_actions:
        lines.append(f"What we're doing: {flag.owner_actions}")
    return {"text": "\n".join(lines)}


def deliver_flag_webhook(*, flag_id: int) -> str:
    """Post a flag's note to CHURN_WEBHOOK_URL once; return what happened.

    "delivered", "already delivered", "disabled" (no URL) or "rejected" (a 4xx
    other than 429, not retried; the error is kept on the flag). Raises
    TransientWebhookError for network errors, timeouts, 429 and 5xx, which
    the task retries. Idempotent: a delivered flag is not posted again.
    """
    flag = ChurnRiskFlag.objects.select_related("account__owner", "raised_by").get(pk=flag_id)
    if flag.webhook_delivered_at is not None:
        return "already delivered"
    url = settings.CHURN_WEBHOOK_URL
    if not url:
        return "disabled"
    try:
        response = httpx.post(
            url, json=webhook_message(flag), timeout=settings.OUTBOUND_HTTP_TIMEOUT_SECONDS
        )
    except httpx.TransportError as exc:
        _note_webhook_error(flag_id, f"{type(exc).__name__}: {exc}")
        raise TransientWebhookError(str(exc)) from exc
    if response.status_code == 429 or response.status_code >= 500:
        _note_webhook_error(flag_id, f"HTTP {response.status_code}")
        raise TransientWebhookError(f"HTTP {response.status_code}")
    if response.status_code >= 400:
        _note_webhook_error(flag_id, f"HTTP {response.status_code} (not retried)")
        logger.warning("Churn webhook refused flag %s: HTTP %s", flag_id, response.status_code)
        return "rejected"
    ChurnRiskFlag.objects.filter(pk=flag_id).update(
        webhook_delivered_at=timezone.now(), webhook_error=""
    )
    return "delivered"


def _note_webhook_error(flag_id: int, error: str) -> None:
    ChurnRiskFlag.objects.filter(pk=flag_id).update(webhook_error=error[:300])
