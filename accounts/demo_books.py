"""Demo data for books: account plans, notes and 12 weeks of health snapshots."""

from __future__ import annotations

import datetime as dt
import random

from django.db import connection, transaction
from django.utils import timezone

from revopsweb.dates import add_months, quarter_start, week_start

from .demo import history_off, insert_rows
from .imports import set_health_from_latest_snapshot
from .models import Account, AccountPlan, AccountSnapshot, Activity, ActivityKind, Health
from .plans import plan_title
from .segments import refresh_top_accounts

WEEKS = 12
SNAPSHOT_FIELDS = ("account_id", "week", *AccountSnapshot.MEASURES)
NOTES = (
    "Quarterly check-in: usage steady, asked about session replay sampling",
    "Champion intro'd their data team; follow up on warehouse sources",
    "Shared feature flag cost tips after the spike",
    "Renewal conversation started; wants multi-year pricing",
    "Error tracking trial set up with the mobile team",
)


@transaction.atomic
def seed_books(*, rng: random.Random, today: dt.date) -> int:
    """Bulk-create plans (this and last quarter for about two thirds of owned
    accounts), a few notes per owned account and 12 weekly snapshots for every
    account, then set each account's health and active users from its latest
    snapshot, and rank the Top 40 cache. Re-running adds notes again but skips
    existing plans and weeks.
    Returns the number of rows created."""
    accounts = list(Account.objects.select_related("owner").order_by("pk"))
    owned = [a for a in accounts if a.owner_id]
    this_quarter = quarter_start(today)
    last_quarter = add_months(this_quarter, -3)
    plans = [
        AccountPlan(
            account=account,
            quarter_start=start,
            title=plan_title(account, day=start),
            overview=f"{account.name} ({account.domain or 'no domain'}), {account.country or '–'}",
            objectives="Grow into a second core product; secure an annual plan.",
            stakeholders="Champion: head of product. Economic buyer: CTO.",
            products_cross_sell="Session replay → error tracking for the mobile team.",
            risks="Budget review next quarter.",
            action_items="Book a roadmap call; share the error tracking case study.",
            plan_above_20k=rng.random() < 0.3,
            author=account.owner,
        )
        for account in owned
        for start in (last_quarter, this_quarter)
        if rng.random() < 0.66
    ]
    now = timezone.now()
    notes = [
        Activity(
            account=account,
            kind=ActivityKind.NOTE,
            author=account.owner,
            occurred_at=now - dt.timedelta(days=rng.randint(1, 80), hours=rng.randint(0, 8)),
            summary=rng.choice(NOTES),
        )
        for account in owned
        for _ in range(rng.randint(1, 3))
    ]
    monday = week_start(today)
    levels = [Health.GOOD, Health.FAIR, Health.POOR]
    snapshots = []
    for account in accounts:
        level = rng.choice([0, 0, 1, 1, 2])
        users = rng.randint(3, 150)
        for week in range(WEEKS, 0, -1):
            level = min(2, max(0, level + rng.choice([-1, 0, 0, 0, 1])))
            users = max(1, users + rng.randint(-5, 5))
            snapshots.append(
                (
                    account.pk,
                    monday - dt.timedelta(weeks=week),
                    levels[level],
                    users,
                    users * rng.randint(500, 5000),
                    rng.randint(0, 3),
                    rng.randint(0, 2),
                    None,  # warehouse exports: the churn demo seeds those
                )
            )
    created = len(AccountPlan.objects.bulk_create(plans, ignore_conflicts=True, batch_size=1000))
    created += len(Activity.objects.bulk_create(notes, batch_size=1000))
    # Weeks the churn step (or an earlier run) already wrote are skipped here,
    # so the million-odd rows can go through COPY, which cannot skip conflicts.
    existing = set(AccountSnapshot.objects.values_list("account_id", "week"))
    created += insert_rows(
        model=AccountSnapshot,
        fields=SNAPSHOT_FIELDS,
        rows=(row for row in snapshots if (row[0], row[1]) not in existing),
    )
    _health_from_latest_snapshot()
    # Rank the Top 40 from the demo revenue (run after the billing demo).
    created += refresh_top_accounts(today=today)
    return created


def _health_from_latest_snapshot() -> int:
    """Each seeded account's health and active users from its latest weekly
    snapshot (``accounts.imports.set_health_from_latest_snapshot`` for every
    account); returns the accounts changed.

    Without django-pghistory's row trigger (a seeded value is nobody's change)
    and after ANALYZE (the COPYed tables have no statistics yet in the seed's
    transaction).
    """
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accounts_accountsnapshot")
        cursor.execute("ANALYZE accounts_account")
    with history_off(Account):
        return set_health_from_latest_snapshot(account_ids=None)
