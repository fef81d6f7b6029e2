"""The leads app's panels on the role homes (accounts.home): today's tasks,
round-robin fairness this month, unassigned and stale tasks. Each context runs
a fixed number of queries whatever the row count."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils import timezone

from accounts.models import User

from .models import Task, TaskKind, TrackerMember
from .stale import stale_days

HOME_ROWS = 8


def _lead_tasks() -> Any:
    return Task.objects.filter(kind=TaskKind.LEAD).open().select_related("account", "assignee")


def tasks_panel(user: User, today: dt.date, month: dt.date) -> dict[str, Any]:
    """The person's open lead tasks, oldest first (the queue they work today). Two queries."""
    mine = _lead_tasks().filter(assignee=user)
    return {
        "task_count": mine.count(),
        "tasks": list(mine.order_by("created_at", "id")[:HOME_ROWS]),
    }


@dataclass(frozen=True)
class FairnessRow:
    """One tracker member's leads this month against their priority's share."""

    member: TrackerMember
    leads: int  # leads this month + manual adjustment
    expected: float  # leads they would have at their target share of the role's total

    @property
    def gap(self) -> int:
        """Leads behind (positive) or ahead (negative) of the fair split, rounded."""
        return round(self.expected - self.leads)

    @property
    def ahead(self) -> int:
        return -self.gap


def fairness_panel(user: User, today: dt.date, month: dt.date) -> dict[str, Any]:
    """The team's round-robin members (the team lead's reports and the lead) with
    this month's leads (+ manual adjustment) against the share their
    priority gives among the active members of the same role in the team
    (revops/lead-assignment-tracker: share = 1/priority over the sum). One query."""
    members = list(
        TrackerMember.objects.filter(Q(user__team_lead=user) | Q(user=user))
        .select_related("user")
        .order_by("role", "user__name")
    )
    by_role: dict[str, list[TrackerMember]] = defaultdict(list)
    for member in members:
        by_role[member.role].append(member)
    rows: list[FairnessRow] = []
    for role_members in by_role.values():
        active = [m for m in role_members if m.is_active and m.user.is_active]
        total = sum(m.leads_this_month + m.manual_adjustment for m in role_members)
        weight = sum(1 / m.priority for m in active)
        for m in role_members:
            share = (1 / m.priority) / weight if m in active and weight else 0.0
            leads = m.leads_this_month + m.manual_adjustment
            rows.append(FairnessRow(member=m, leads=leads, expected=total * share))
    return {"fairness": rows}


def unassigned_stale_panel(user: User, today: dt.date, month: dt.date) -> dict[str, Any]:
    """Open tasks nobody holds, and the team's open tasks untouched for
    STALE_TASK_DAYS (the stale job reassigns them at 05:30). Four queries."""
    unassigned = _lead_tasks().filter(assignee__isnull=True)
    days = stale_days()
    stale = _lead_tasks().filter(
        Q(assignee__team_lead=user) | Q(assignee=user),
        last_touched_at__lt=timezone.now() - dt.timedelta(days=days),
    )
    return {
        "unassigned_count": unassigned.count(),
        "unassigned": list(unassigned.order_by("created_at", "id")[:HOME_ROWS]),
        "stale_count": stale.count(),
        "stale": list(stale.order_by("last_touched_at", "id")[:HOME_ROWS]),
        "stale_days": days,
    }
