"""Each role's home (issue 19): the page ``/`` answers the role's first question.

- "book": a TAM, CSM, TAE (and anyone without a lead role): their book and today's tasks;
- "team": a team lead: their team's books against the caps, round-robin fairness
  this month, unassigned and stale tasks, handovers waiting, at-risk accounts;
- "company": a manager (or a superuser): at-risk ARR, this week's review, the
  allocation queue, revenue through the latest month;
- "data": RevOps: the data's freshness, the job runs, failed deliveries.

The core's own panels live here; the apps above it (leads, billing, handovers,
churn) register theirs in their ``AppConfig.ready()`` (``accounts.extensions``).
Every panel's context runs a fixed number of queries, whatever the row count.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from django.db.models import Count, F, Max

from revopsweb.models import JobRun
from revopsweb.outbox import failed_delivery_count

from .books import (
    Queue,
    allocation_queue_page,
    book_rows,
    book_totals,
    team_book_totals,
)
from .models import Account, AccountSnapshot, User
from .roles import Role

# Rows a home panel lists; the full lists are one click away.
HOME_ROWS = 8


class Home(StrEnum):
    BOOK = "book"
    TEAM = "team"
    COMPANY = "company"
    DATA = "data"


HOME_TITLES = {
    Home.BOOK: "Your book today",
    Home.TEAM: "Your team",
    Home.COMPANY: "The company",
    Home.DATA: "The data",
}


def home_of(user: User) -> Home:
    """Which home ``user`` lands on: a manager's (or superuser's) is the company,
    RevOps' the data, a team lead's their team, everyone else's their book."""
    if user.is_superuser or user.has_role(Role.MANAGER):
        return Home.COMPANY
    if user.has_role(Role.REVOPS):
        return Home.DATA
    if user.has_role(Role.TEAM_LEAD):
        return Home.TEAM
    return Home.BOOK


# --- the core's panels ---------------------------------------------------------------


def book_panel(user: User, today: dt.date, month: dt.date) -> dict[str, Any]:
    """The person's book totals against targets and their largest accounts. Four queries."""
    rows = book_rows(user, today=today, month=month)
    accounts = list(rows.order_by(F("arr").desc(nulls_last=True), "name", "pk")[:HOME_ROWS])
    return {"totals": book_totals(user, today=today, month=month), "accounts": accounts}


def team_books_panel(user: User, today: dt.date, month: dt.date) -> dict[str, Any]:
    """The team's books against targets and caps. Four queries."""
    return {"team_books": team_book_totals(user, today=today, month=month)}


def allocation_panel(user: User, today: dt.date, month: dt.date) -> dict[str, Any]:
    """The allocation queue: how many accounts wait, the largest first. Four queries."""
    page = allocation_queue_page(today=today, month=month, per_page=HOME_ROWS)
    return {"queue_count": page.total, "queue": page.rows, "labels": Queue.LABELS}


def data_panel(user: User, today: dt.date, month: dt.date) -> dict[str, Any]:
    """Freshness of the data RevOps feeds in, each job's latest run and failed
    outbound deliveries. Three queries."""
    snapshots = AccountSnapshot.objects.aggregate(latest=Max("week"))
    accounts = Account.objects.aggregate(count=Count("pk"))
    runs = list(JobRun.objects.order_by("job", "-started_at", "-id").distinct("job"))
    return {
        "latest_snapshot_week": snapshots["latest"],
        "account_count": accounts["count"],
        "job_runs": runs,
        "failed_deliveries": failed_delivery_count(),
    }
