"""The monthly reset of the round robin (revops/lead-assignment-tracker "Monthly reset").

The new month starts with every tracker member's leads this month and manual
adjustment at 0. It is a new period of the round-robin ledger, not a delete:
``leads.ledger.open_period`` zeroes the cached counters and moves every
member's period forward in one statement and appends one RESET event per
member with the old figures, so last month's final figures stay readable
(``period_figures``). The month is the company's (settings.TIME_ZONE).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from revopsweb.dates import company_today, current_month, latest_complete_month

from .ledger import open_period
from .models import LEAD_KINDS, LedgerKind, RoundRobinEvent, Territory


def reset_month(*, now: dt.datetime | None = None) -> int:
    """Open the current company month for every member still in an older one.

    One statement whatever the number of members. Idempotent: members
    already in this month are untouched, so a second run (or the daily
    schedule after the 1st) changes nothing. A late run (the worker was down
    on the 1st) resets once, into the month it runs in; a run that missed
    whole months jumps straight to the current one. Returns members reset.
    """
    now = now or timezone.now()
    return open_period(period=current_month(now=now), now=now)


@dataclass(frozen=True)
class PeriodFigures:
    """One member's final figures for a ledger period."""

    member_id: int
    name: str
    leads: int
    adjustment: int

    @property
    def total(self) -> int:
        return self.leads + self.adjustment


def period_figures(*, period: dt.date, territory: Territory | None = None) -> list[PeriodFigures]:
    """Each member's leads and manual adjustment as ``period``'s ledger events add up;
    with ``territory``, only its members'.

    For the tracker page's history of last month (``last_period_figures``).
    One query whatever the number of members or events.
    """
    events = RoundRobinEvent.objects.filter(period=period)
    if territory is not None:
        events = events.filter(member__territories=territory)
    rows = (
        events.values("member_id", "member__user__name")
        .annotate(
            leads=Coalesce(Sum("delta", filter=Q(kind__in=LEAD_KINDS)), 0),
            adjustment=Coalesce(Sum("delta", filter=Q(kind=LedgerKind.ADJUSTMENT)), 0),
        )
        .order_by("member__user__name", "member_id")
    )
    return [
        PeriodFigures(
            member_id=row["member_id"],
            name=row["member__user__name"],
            leads=row["leads"],
            adjustment=row["adjustment"],
        )
        for row in rows
    ]


def last_period_figures(
    *, today: dt.date | None = None, territory: Territory | None = None
) -> list[PeriodFigures]:
    """Last month's final figures (the month before ``today``'s, company time zone);
    with ``territory``, only its members'."""
    return period_figures(
        period=latest_complete_month(today or company_today()), territory=territory
    )
