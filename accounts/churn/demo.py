"""Demo churn data: weekly snapshots with warning patterns, flags with their history.

Wired into ``manage.py seed_demo`` by the lead; it works on the accounts and
users the demo company already has.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.churn.backtest import CONTRACTION_MIN
from accounts.churn.flags import LEADERSHIP_ARR
from accounts.churn.models import (
    ChurnRetro,
    ChurnRiskFlag,
    ChurnSignal,
    Escalation,
    EscalationTeam,
    FlagStatus,
    RootCause,
    Severity,
    StatusTrend,
    WeeklyStatusUpdate,
)
from accounts.churn.signals import detect_churn_signals
from accounts.demo import DemoStep
from accounts.models import Account, AccountSnapshot, Activity, ActivityKind, Health
from billing.models import MonthlyRevenue
from billing.revenue_data import revenue_month
from leads.recommendations import DEFAULT_DUE_DAYS, action_recommendation, give_recommendation
from revopsweb.dates import add_months, week_start

SNAPSHOT_WEEKS = 12
# The quick-start demo's counts, and the share of owned accounts each grows with
# in a larger company (about 400 owned accounts at the default 2,000).
PATTERN_ACCOUNTS, PATTERN_SHARE = 60, 0.15
OPEN_FLAGS, OPEN_FLAG_SHARE = 8, 0.02
CLOSED_FLAGS, CLOSED_FLAG_SHARE = 6, 0.015
RECOMMENDATIONS, RECOMMENDATION_SHARE = 12, 0.03

_TRIGGERS = [
    "Usage down 35% since last month, no seasonal reason",
    "Champion left; no replacement relationship yet",
    "Asked for a full data export",
    "Health poor for 5 weeks; support tickets spiking",
    "Renewal in 60 days and no reply for a month",
    "Payment failed and no response",
]
_TRIED = [
    "Emailed the new engineering lead, offered a config review",
    "Had a call with the champion's replacement",
    "Shared a cost-optimisation plan",
    "Ran a workshop on session replay",
]


def _at(day: dt.date, hour: int = 15) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_current_timezone())


@transaction.atomic
def seed_churn(*, rng: random.Random, today: dt.date) -> int:
    """Create churn demo data for owned accounts; return how many rows were created.

    Snapshots for 12 weeks (some with poor health, ticket spikes, billing
    visits), open flags with weekly updates, escalations and recovery calls,
    and closed flags (saved and churned, one churned without a retro, overdue).
    Not idempotent: run it once on a fresh demo database (existing snapshot
    weeks are left alone).
    """
    owned = Account.objects.filter(owner__isnull=False).count()
    patterns = max(PATTERN_ACCOUNTS, round(owned * PATTERN_SHARE))
    open_flags = max(OPEN_FLAGS, round(owned * OPEN_FLAG_SHARE))
    closed_flags = max(CLOSED_FLAGS, round(owned * CLOSED_FLAG_SHARE))
    recommendations = max(RECOMMENDATIONS, round(owned * RECOMMENDATION_SHARE))
    wanted = max(200, patterns + open_flags + closed_flags + recommendations)
    accounts = list(
        Account.objects.filter(owner__isnull=False).select_related("owner").order_by("id")[:wanted]
    )
    if not accounts:
        return 0
    rng.shuffle(accounts)
    flags_end = patterns + open_flags + closed_flags
    created = 0
    this_monday = week_start(today)

    # Weekly snapshots: most accounts healthy, a few showing the warning patterns
    # (pattern 5, every sixth account: exporting to a warehouse, nobody in the app).
    snapshots = []
    for index, account in enumerate(accounts[:patterns]):
        pattern = index % 6
        for n in range(SNAPSHOT_WEEKS):
            week = this_monday - dt.timedelta(weeks=SNAPSHOT_WEEKS - 1 - n)
            recent = n >= SNAPSHOT_WEEKS - 5
            users = 1 if pattern == 1 else rng.randint(4, 60)
            snapshots.append(
                AccountSnapshot(
                    account=account,
                    week=week,
                    health=Health.POOR if pattern == 0 and recent else rng.choice(["good", "fair"]),
                    active_users_30d=0 if pattern == 5 and recent else users,
                    warehouse_export_rows=(rng.randint(2, 40) * 100_000 if pattern == 5 else None),
                    events=int(
                        rng.randint(80_000, 120_000) * (0.5 if pattern == 2 and recent else 1)
                    ),
                    support_tickets=(
                        12 if pattern == 3 and n == SNAPSHOT_WEEKS - 1 else rng.randint(1, 4)
                    ),
                    billing_page_visits=(5 if pattern == 4 and n == SNAPSHOT_WEEKS - 1 else 0),
                )
            )
    created += len(AccountSnapshot.objects.bulk_create(snapshots, ignore_conflicts=True))

    flagged = accounts[patterns:flags_end]
    mrr = dict(
        MonthlyRevenue.objects.filter(account__in=flagged, month=revenue_month(today=today))
        .values("account")
        .annotate(total=Sum("amount"))
        .values_list("account", "total")
    )

    flags = []
    for index, account in enumerate(flagged):
        is_open = index < open_flags
        raised_on = today - dt.timedelta(
            days=rng.randint(3, 45) if is_open else rng.randint(40, 170)
        )
        arr = (mrr.get(account.pk) or Decimal(rng.randint(1_500, 9_000))) * 12
        closed_at = None
        status = FlagStatus.OPEN
        if not is_open:
            status = FlagStatus.RESOLVED if index % 2 else FlagStatus.CHURNED
            closed_at = _at(min(today, raised_on + dt.timedelta(days=rng.randint(14, 35))))
        if index == open_flags + closed_flags - 2:  # a recent churn whose retro is overdue
            status, closed_at = FlagStatus.CHURNED, _at(today - dt.timedelta(days=10))
        flags.append(
            ChurnRiskFlag(
                account=account,
                raised_by=account.owner,
                raised_at=_at(raised_on, 10),
                arr_at_flag=arr,
                triggers=rng.choice(_TRIGGERS),
                known="Customer mentioned budget review in the last call.",
                help_needed="An exec sponsor call" if arr > LEADERSHIP_ARR else "",
                owner_actions="Booked a recovery call; preparing an optimisation plan.",
                severity=Severity.SERIOUS if index % 3 == 0 else Severity.ELEVATED,
                status=status,
                closed_at=closed_at,
                closed_by=account.owner if closed_at else None,
            )
        )
    flags = ChurnRiskFlag.objects.bulk_create(flags)
    created += len(flags)

    updates, escalations, calls, retros = [], [], [], []
    for index, flag in enumerate(flags):
        raised_on = flag.raised_at.date()
        end = flag.closed_at.date() if flag.closed_at else today
        week = week_start(raised_on) + dt.timedelta(weeks=1)
        # Skip this week's update on some open flags, so the review shows "missing".
        while week <= end and not (flag.is_open and week == this_monday and index % 2):
            updates.append(
                WeeklyStatusUpdate(
                    flag=flag,
                    author=flag.raised_by,
                    week=week,
                    tried=rng.choice(_TRIED),
                    working="They joined the call; usage steady this week.",
                    trend=rng.choice(list(StatusTrend.values)),
                    posted_at=_at(week + dt.timedelta(days=1)),
                )
            )
            week += dt.timedelta(weeks=1)
        if index % 2 == 0:
            calls.append(
                Activity(
                    account=flag.account,
                    kind=ActivityKind.CALL,
                    author=flag.raised_by,
                    occurred_at=flag.raised_at + dt.timedelta(hours=rng.randint(4, 40)),
                    summary="Recovery call",
                )
            )
        if index % 3 == 0:
            escalations.append(
                Escalation(
                    flag=flag,
                    team=EscalationTeam.LEADERSHIP
                    if flag.arr_at_flag > LEADERSHIP_ARR
                    else EscalationTeam.PRODUCT,
                    person="Simon" if flag.arr_at_flag > LEADERSHIP_ARR else "Replay PM",
                    escalated_by=flag.raised_by,
                    escalated_at=flag.raised_at + dt.timedelta(days=3),
                    note="Joined the customer call.",
                )
            )
        if (
            flag.status == FlagStatus.CHURNED
            and flag.closed_at
            and flag.closed_at.date() < today - dt.timedelta(days=14)
        ):
            retros.append(
                ChurnRetro(
                    flag=flag,
                    what_happened="Moved analytics in-house after a budget cut.",
                    root_cause=rng.choice(list(RootCause.values)),
                    learnings="Multi-thread earlier; we only knew one engineer.",
                    written_by=flag.raised_by,
                    written_at=flag.closed_at + dt.timedelta(days=3),
                )
            )
    created += len(WeeklyStatusUpdate.objects.bulk_create(updates))
    created += len(Escalation.objects.bulk_create(escalations))
    created += len(Activity.objects.bulk_create(calls))
    created += len(ChurnRetro.objects.bulk_create(retros))
    created += _seed_signal_history(rng=rng, today=today)
    created += _seed_recommendations(
        accounts[flags_end:], count=recommendations, rng=rng, today=today
    )
    created += detect_churn_signals(now=_at(today, 12))
    return created


# The demo's signal history: a year of nightly runs, written directly (the demo
# has 12 weeks of snapshots, so replaying the job could not produce it). Before
# each churn or 20%+ contraction in the demo revenue, a signal of each kind
# appears with its own chance, 2 to 24 weeks earlier; every kind also fires on
# accounts that then do fine. The chances differ by kind so the backtest page
# has something to tell apart; its figures are computed, never seeded.
HISTORY_DAYS = 365
_BEFORE_A_LOSS: dict[str, float] = {
    "usage_drop": 0.55,
    "health_poor": 0.35,
    "payment_failed": 0.30,
    "no_customer_message": 0.30,
    "champion_left": 0.25,
    "single_product": 0.30,
    "renewal_negative": 0.20,
    "few_active_users": 0.20,
    "recommendation_stale": 0.15,
    "billing_visits": 0.15,
    "data_export": 0.12,
    "warehouse_only": 0.10,
    "support_spike": 0.08,
}
_ON_ANY_ACCOUNT: dict[str, float] = {
    "usage_drop": 0.06,
    "health_poor": 0.05,
    "payment_failed": 0.03,
    "no_customer_message": 0.20,
    "champion_left": 0.03,
    "single_product": 0.25,
    "renewal_negative": 0.06,
    "few_active_users": 0.10,
    "recommendation_stale": 0.04,
    "billing_visits": 0.05,
    "data_export": 0.02,
    "warehouse_only": 0.02,
    "support_spike": 0.08,
}


def _loss_months(*, first: dt.date, through: dt.date) -> dict[int, list[dt.date]]:
    """Each account's months in (first, through] with churn or a 20%+ contraction."""
    totals: dict[int, dict[dt.date, Decimal]] = {}
    for account_id, month, total in (
        MonthlyRevenue.objects.filter(month__gte=add_months(first, -1), month__lte=through)
        .values("account", "month")
        .annotate(total=Sum("amount"))
        .values_list("account", "month", "total")
    ):
        totals.setdefault(account_id, {})[month] = total
    losses: dict[int, list[dt.date]] = {}
    for account_id, by_month in totals.items():
        for month, prev in by_month.items():
            nxt = add_months(month, 1)
            if (
                prev > 0
                and first < nxt <= through
                and by_month.get(nxt, Decimal(0)) <= prev * (1 - CONTRACTION_MIN)
            ):
                losses.setdefault(account_id, []).append(nxt)
    return losses


def _seed_signal_history(*, rng: random.Random, today: dt.date) -> int:
    """Cleared ChurnSignal rows over the last year (see ``_BEFORE_A_LOSS``)."""
    start = today - dt.timedelta(days=HISTORY_DAYS)
    through = revenue_month(today=today)
    losses = _loss_months(first=start, through=through)
    signals: list[ChurnSignal] = []
    taken: set[tuple[int, str, dt.date]] = set()

    def add(account_id: int, kind: str, detected: dt.date) -> None:
        if detected < start or detected >= today - dt.timedelta(days=2):
            return
        if (account_id, kind, detected) in taken:
            return
        taken.add((account_id, kind, detected))
        cleared = min(today - dt.timedelta(days=1), detected + dt.timedelta(rng.randint(7, 60)))
        signals.append(
            ChurnSignal(
                account_id=account_id,
                kind=kind,
                evidence={"demo": "history"},
                detected_on=detected,
                cleared_on=cleared,
            )
        )

    for account_id in sorted(losses):
        for month in losses[account_id][:2]:
            for kind, chance in _BEFORE_A_LOSS.items():
                if rng.random() < chance:
                    add(account_id, kind, month - dt.timedelta(days=rng.randint(14, 170)))
    for account_id in Account.objects.order_by("id").values_list("id", flat=True):
        for kind, chance in _ON_ANY_ACCOUNT.items():
            if rng.random() < chance:
                add(account_id, kind, start + dt.timedelta(days=rng.randint(0, HISTORY_DAYS - 3)))
    return len(ChurnSignal.objects.bulk_create(signals, batch_size=2000))


_RECOMMENDATIONS = [
    "Move the warehouse export to a daily batch and build the funnel in PostHog",
    "Turn on session replay for the checkout flow",
    "Replace the homegrown flags with feature flags for the next release",
    "Set up a survey on the onboarding drop-off",
]


def _seed_recommendations(
    accounts: list[Account], *, count: int, rng: random.Random, today: dt.date
) -> int:
    """Recommendations on a dozen accounts: some actioned, some waiting past their
    due date (the "not actioned 2+ weeks" signal), some not due yet."""
    created = 0
    for index, account in enumerate(accounts[:count]):
        if account.owner is None:
            continue
        given = today - dt.timedelta(days=rng.randint(3, 40))
        task = give_recommendation(
            account=account,
            by=account.owner,
            text=rng.choice(_RECOMMENDATIONS),
            due_on=max(today, given + dt.timedelta(days=DEFAULT_DUE_DAYS)),
            now=_at(given, 11),
        )
        created += 1
        if index % 3 == 0:
            action_recommendation(
                task=task, by=account.owner, note="Done on their side.", now=_at(today, 9)
            )
    return created


def demo_steps() -> list[DemoStep]:
    """This app's seed_demo step (found by ``accounts.demo.installed_demo_steps``)."""
    return [
        DemoStep(
            "churn",
            lambda ctx: {"churn rows": seed_churn(rng=ctx.rng("churn"), today=ctx.today)},
            order=50,
        )
    ]
