"""How far imported revenue reaches: "revenue data through month M".

Revenue for a month arrives when it has been invoiced and imported, days after
the month ends. Until then the month has no data, which is not the same as
every account paying $0: reading it as zero opens "usage dropped 100%" churn
signals, shows MRR 0 in every book and turns the revenue page's churn to
−100%. So every figure read from monthly revenue (churn signals, segments,
book totals and caps, the round robin's full-book rule, quota, the revenue
page) takes its month from ``revenue_data_through`` and says which months are
not in yet (data truth; sales/how-we-work, revops/lifecycle-analysis).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import Min

from revopsweb.dates import add_months, latest_complete_month, month_range
from revopsweb.sql import prepared_cursor

from .models import MonthlyRevenue


@dataclass(frozen=True)
class RevenueDataThrough:
    """The latest month with imported revenue, and what is still missing.

    ``month``: first day of the latest month with at least one imported revenue
    row, never later than ``expected``; None when nothing is imported.
    ``expected``: the last complete month on the day asked about; months after
    ``month`` up to it are "not imported yet".
    """

    month: dt.date | None
    expected: dt.date

    @property
    def figures_month(self) -> dt.date:
        """The month figures are computed from: ``month``, or ``expected`` when
        nothing is imported at all (every figure is then empty, and says so)."""
        return self.month or self.expected

    @property
    def missing(self) -> list[dt.date]:
        """Complete months with no import yet, oldest first (empty when current)."""
        if self.month is None:
            return [self.expected]
        return month_range(add_months(self.month, 1), self.expected)

    @property
    def is_current(self) -> bool:
        return self.month == self.expected

    def has(self, month: dt.date) -> bool:
        """Whether ``month`` (a month's or a quarter's first day) is imported: a
        report of a later month would read as every account churning."""
        return self.month is not None and month <= self.month

    @property
    def note(self) -> str:
        """What pages say, e.g. "Revenue through October 2026 (November not
        imported yet)."; "" would hide that the figures lag."""
        if self.month is None:
            return "No revenue imported yet."
        if self.is_current:
            return f"Revenue through {self.month:%B %Y}."
        missing = self.missing
        if len(missing) == 1:
            gap = (
                f"{missing[0]:%B}" if missing[0].year == self.month.year else f"{missing[0]:%B %Y}"
            )
            return f"Revenue through {self.month:%B %Y} ({gap} not imported yet)."
        return (
            f"Revenue through {self.month:%B %Y} "
            f"({missing[0]:%B %Y} to {missing[-1]:%B %Y} not imported yet)."
        )


def revenue_data_through(*, today: dt.date) -> RevenueDataThrough:
    """Revenue data through which month, as seen on ``today`` (company time zone).

    One query, and a cheap one: ``max(month)`` over monthly revenue up to the
    last complete month is answered from the ``(month, product)`` index
    (PostgreSQL reads one index entry backwards), never by scanning the revenue
    table, so pages and jobs call it once per request or run. Months after the
    last complete month (a month in progress, or a bad future row) never count.
    Read-only; raises nothing.
    """
    # A month in progress is never "in": at most the month before today's.
    expected = latest_complete_month(today)
    # Prepared on the server and written once: every page runs it, and building the
    # ORM's aggregate cost more Python than the index probe costs the server.
    with prepared_cursor(connection) as cursor:
        cursor.execute(_LATEST_MONTH_SQL, (expected,))
        (month,) = cursor.fetchone()
    return RevenueDataThrough(month=month, expected=expected)


_LATEST_MONTH_SQL = f"SELECT max(month) FROM {MonthlyRevenue._meta.db_table} WHERE month <= %s"  # noqa: S608


def first_revenue_month() -> dt.date | None:
    """The earliest month with any imported revenue (None when nothing is imported).
    One query, answered from the ``(month, product)`` index."""
    first: dt.date | None = MonthlyRevenue.objects.aggregate(first=Min("month"))["first"]
    return first


def revenue_month(*, today: dt.date) -> dt.date:
    """The month revenue figures read on ``today``: ``revenue_data_through``'s
    ``figures_month``. One query; pass the result down rather than calling twice."""
    return revenue_data_through(today=today).figures_month


def first_paid_months(*, account_ids: Iterable[int]) -> dict[int, dt.date]:
    """The first month each account paid anything (a monthly revenue row above
    $0), derived from imported revenue, never a hand-kept field: the "initial
    purchase" the TAE handover timing counts from (sales/account-allocation,
    "typically 3 months after initial credit purchase"). Accounts that never
    paid are absent. One query, on the (account, month, product) index.
    """
    rows = (
        MonthlyRevenue.objects.filter(account_id__in=list(account_ids), amount__gt=0)
        .values("account_id")
        .annotate(first=Min("month"))
        .values_list("account_id", "first")
        .order_by()
    )
    return dict(rows)
