"""The churn app's panels on the role homes (accounts.home): at-risk accounts of
a book or a team, and the company's at-risk ARR with this week's review. Each
context runs a fixed number of queries whatever the row count."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, Sum

from accounts.models import User
from billing.models import MonthlyRevenue
from revopsweb.dates import week_start

from .models import ChurnRiskFlag, FlagStatus, WeeklyStatusUpdate
from .review import scope_owners

HOME_ROWS = 8


def _open_flags() -> Any:
    return ChurnRiskFlag.objects.filter(status=FlagStatus.OPEN).select_related("account__owner")


def _flag_rows(flags: Any, today: dt.date) -> dict[str, Any]:
    rows = list(flags.order_by("-arr_at_flag", "raised_at", "pk")[:HOME_ROWS])
    for flag in rows:
        flag.home_weeks = flag.weeks_at_risk(today)
    return {"flag_count": flags.count(), "flags": rows}


def book_risk_panel(user: User, today: dt.date, month: dt.date) -> dict[str, Any]:
    """Open churn-risk flags on the person's own accounts, largest ARR first: the churn
    review's scope for them (``review_flags``), so the two count alike. Two queries."""
    return _flag_rows(_open_flags().filter(scope_owners(user)), today)


def team_risk_panel(user: User, today: dt.date, month: dt.date) -> dict[str, Any]:
    """Open flags on accounts of the team lead's team (and their own): the churn review's
    scope for a team lead (``review_flags``), so the two count alike. Two queries."""
    return _flag_rows(_open_flags().filter(scope_owners(user)), today)


def company_risk_panel(user: User, today: dt.date, month: dt.date) -> dict[str, Any]:
    """At-risk ARR (12 × MRR of ``month`` of the flagged accounts, dollars) and
    this week's review: open flags, those without this week's 60-second
    update (sales/risk-mitigation-and-churn-prevention). Two queries."""
    this_week = week_start(today)
    mrr = MonthlyRevenue.objects.filter(
        month=month,
        account__churn_flags__status=FlagStatus.OPEN,  # one open flag per account
    ).aggregate(total=Sum("amount"))["total"]
    updated = WeeklyStatusUpdate.objects.filter(flag=OuterRef("pk"), week=this_week)
    review = ChurnRiskFlag.objects.filter(status=FlagStatus.OPEN).aggregate(
        open=Count("pk"),
        missing=Count("pk", filter=~Q(Exists(updated))),
    )
    return {
        "at_risk_arr": (mrr or Decimal(0)) * 12,
        "open_flags": review["open"],
        "missing_updates": review["missing"],
        "this_week": this_week,
        "month": month,
    }
