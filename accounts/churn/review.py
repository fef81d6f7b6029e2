"""The churn-risk segment and the weekly at-risk review (customer-success
"Churn risk", "Weekly at-risk review"): which accounts are flagged or
suggested, the review grouped by owner, overdue retros, the trend chart.
Read-only; each function a fixed number of queries.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.models import Account, Activity, User
from accounts.permissions import is_owner_lead_or_manager
from accounts.roles import Role
from revopsweb.dates import company_today, week_start

from .flags import (
    LEADERSHIP_ARR,
    NO_IMPROVEMENT_WEEKS,
    RECOVERY_CALL_HOURS,
    RECOVERY_CALL_KINDS,
    RETRO_DUE_DAYS,
    TREND_WEEKS,
)
from .models import (
    ChurnRiskFlag,
    ChurnSignal,
    Escalation,
    EscalationTeam,
    FlagStatus,
    Severity,
    StatusTrend,
    WeeklyStatusUpdate,
)


def _flagged() -> Exists:
    return Exists(ChurnRiskFlag.objects.filter(account=OuterRef("pk"), status=FlagStatus.OPEN))


def churn_risk_mark() -> Exists:
    """Whether the row's account is in the churn-risk segment (an open flag): the
    "churn_risk" account mark (``accounts.extensions``), a column of the pages'
    own statements."""
    return _flagged()


def suggested_mark() -> Q:
    """Whether the row's account has an open signal but no open flag: the
    "churn_suggested" account mark (``accounts.extensions``)."""
    signals = ChurnSignal.objects.filter(account=OuterRef("pk"), cleared_on__isnull=True)
    return Q(Exists(signals)) & ~Q(_flagged())


def _suggested(queryset: QuerySet[Account]) -> QuerySet[Account]:
    """The accounts of ``queryset`` with an open signal but no open flag."""
    return queryset.filter(suggested_mark())


def churn_risk_account_ids(queryset: QuerySet[Account]) -> set[int]:
    """Ids of the accounts in ``queryset`` that are in the churn-risk segment (one query)."""
    return set(queryset.filter(churn_risk_mark()).values_list("pk", flat=True))


def suggested_account_ids(queryset: QuerySet[Account]) -> set[int]:
    """Ids of accounts in ``queryset`` with an open signal but no open flag (one query)."""
    return set(_suggested(queryset).values_list("pk", flat=True))


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


class ReviewScope(StrEnum):
    """Whose flags the weekly review counts, lists and charts for a viewer."""

    BOOK = "book"
    TEAM = "team"
    COMPANY = "company"


# The review's heading names its scope in the viewer's words.
SCOPE_LABELS = {
    ReviewScope.BOOK: "your book",
    ReviewScope.TEAM: "your team",
    ReviewScope.COMPANY: "the company",
}


def review_scope(user: User) -> ReviewScope:
    """The review's scope for ``user``, as their home's (accounts.home.home_of): managers,
    RevOps and superusers the company, team leads their team (with their own accounts),
    everyone else their own book."""
    if user.is_manager:
        return ReviewScope.COMPANY
    if user.has_role(Role.TEAM_LEAD):
        return ReviewScope.TEAM
    return ReviewScope.BOOK


def scope_owners(user: User, *, to_owner: str = "account__owner") -> Q:
    """``review_scope(user)`` as a filter on ``to_owner`` (the path to the account's
    owner; "" for a filter on the people themselves): an empty filter for the company
    (unowned accounts included), the team lead's team and their own for a team, the
    owner alone for a book. The same people each may flag for (``is_owner_lead_or_manager``)."""
    scope = review_scope(user)
    if scope == ReviewScope.COMPANY:
        return Q()
    mine = Q(**{to_owner: user}) if to_owner else Q(pk=user.pk)
    if scope == ReviewScope.TEAM:
        return mine | Q(**{f"{to_owner}__team_lead" if to_owner else "team_lead": user})
    return mine


def review_flags(user: User) -> QuerySet[ChurnRiskFlag]:
    """The flags the review (its header, owners, cards, retros, CSV and trend) and the
    viewer's home at-risk panel count: those of ``review_scope(user)``. A subset of
    ``visible_flags``, which stays what the user may open."""
    return ChurnRiskFlag.objects.filter(scope_owners(user))


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
    # Whether the viewer may open the account (a team lead sees every flag, and
    # opens only their team's accounts): set by the view, which asks once a page.
    account_openable: bool = True


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
    flags_qs = review_flags(user).filter(status=FlagStatus.OPEN)
    if flag_ids is not None:
        flags_qs = flags_qs.filter(pk__in=list(flag_ids))
    groups: dict[int | None, OwnerGroup] = {}
    for row in _review_rows(flags_qs, user=user, now=now):
        owner_id = row.flag.account.owner_id
        groups.setdefault(owner_id, OwnerGroup(owner=row.flag.account.owner)).rows.append(row)
    return list(groups.values())


# The URL's word for the group of flags on accounts without an owner.
NO_OWNER_KEY = "none"


@dataclass
class OwnerSummary:
    """One owner's open flags on the review, counted; their cards load on demand."""

    owner_id: int | None
    name: str
    count: int
    arr: Decimal

    @property
    def key(self) -> str:
        """The owner's value in the review's ``?owner=`` (``none`` for no owner)."""
        return NO_OWNER_KEY if self.owner_id is None else str(self.owner_id)


def review_owner_summaries(*, user: User) -> list[OwnerSummary]:
    """The owners with open flags in the user's review scope (``review_flags``), by name:
    how many flags, their ARR at flagging (dollars). One query, one row per owner
    whatever the number of flags."""
    rows = (
        review_flags(user)
        .filter(status=FlagStatus.OPEN)
        .values("account__owner_id", "account__owner__name", "account__owner__email")
        .annotate(count=Count("pk"), arr=Sum("arr_at_flag"))
        .order_by("account__owner__name", "account__owner_id")
    )
    return [
        OwnerSummary(
            owner_id=r["account__owner_id"],
            # As the owner is shown everywhere else (User.__str__): the name, the
            # e-mail address only for a user without one.
            name=(
                (r["account__owner__name"] or r["account__owner__email"])
                if r["account__owner_id"] is not None
                else "No owner"
            ),
            count=r["count"],
            arr=r["arr"] or Decimal(0),
        )
        for r in rows
    ]


@dataclass
class GroupPage:
    """One page of one owner's flag cards (``number`` from 1)."""

    owner_key: str
    rows: list[ReviewRow]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def review_group_page(
    *, user: User, now: dt.datetime, owner_key: str, number: int, per_page: int
) -> GroupPage:
    """Page ``number`` (from 1; below 1 reads as 1) of the open flags of one owner
    (``owner_key``: a user id or ``none``), ordered as in ``review_groups``, ``per_page``
    cards a page. Three queries whatever the owner's number of flags (one more row
    than the page is read to know whether a next page exists)."""
    number = max(number, 1)
    flags_qs = review_flags(user).filter(status=FlagStatus.OPEN)
    if owner_key == NO_OWNER_KEY:
        flags_qs = flags_qs.filter(account__owner__isnull=True)
    else:
        flags_qs = flags_qs.filter(account__owner_id=int(owner_key))
    start = (number - 1) * per_page
    rows = _review_rows(flags_qs, user=user, now=now, window=(start, start + per_page + 1))
    return GroupPage(
        owner_key=owner_key,
        rows=rows[:per_page],
        number=number,
        has_next=len(rows) > per_page,
    )


def _review_rows(
    flags_qs: QuerySet[ChurnRiskFlag],
    *,
    user: User,
    now: dt.datetime,
    window: tuple[int, int] | None = None,
) -> list[ReviewRow]:
    """The review's rows of ``flags_qs`` in review order (owner name, ARR largest first),
    ``window`` (start, stop) of them when given. Three queries."""
    today = company_today(now=now)
    this_week = week_start(today)
    recovery_calls = Activity.objects.filter(
        account=OuterRef("account"),
        kind__in=RECOVERY_CALL_KINDS,
        occurred_at__gte=OuterRef("raised_at"),
        occurred_at__lte=OuterRef("raised_at") + dt.timedelta(hours=RECOVERY_CALL_HOURS),
    )
    ordered = (
        flags_qs.select_related("account", "account__owner", "raised_by")
        .annotate(has_recovery_call=Exists(recovery_calls))
        .prefetch_related("status_updates", "escalations")
        .order_by(
            "account__owner__name", "account__owner_id", "-arr_at_flag", "account__name", "pk"
        )
    )
    flags = list(ordered[window[0] : window[1]] if window else ordered)
    rows = []
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
        rows.append(
            ReviewRow(
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
        )
    return rows


def flag_group_page(*, flag: ChurnRiskFlag, per_page: int) -> int:
    """The page (from 1) of its owner's group on which ``flag`` (open) shows, ``per_page``
    cards a page. One query."""
    ahead = ChurnRiskFlag.objects.filter(
        status=FlagStatus.OPEN, account__owner_id=flag.account.owner_id
    ).filter(
        Q(arr_at_flag__gt=flag.arr_at_flag)
        | Q(arr_at_flag=flag.arr_at_flag, account__name__lt=flag.account.name)
        | Q(arr_at_flag=flag.arr_at_flag, account__name=flag.account.name, pk__lt=flag.pk)
    )
    return ahead.count() // per_page + 1


def suggested_accounts(*, user: User) -> QuerySet[Account]:
    """Accounts with an open signal and no flag that the user may flag (one query), by
    owner name (unowned last), then account name; the ids break ties, so its pages
    never share or skip a row."""
    return (
        _suggested(Account.objects.filter(scope_owners(user, to_owner="owner")))
        .select_related("owner")
        .order_by("owner__name", "name", "pk")
    )


def suggested_window(*, user: User, start: int, stop: int) -> QuerySet[Account]:
    """Rows ``start`` to ``stop`` (from 0, ``stop`` excluded) of ``suggested_accounts``,
    in its order. One query, which reads only what the window needs (issue 20).

    Sorted by owner name across the account and user tables, the list was every
    suggested account read and sorted for each page: a scan of the 100,000 accounts
    and a sort of the 41,000 suggested, 60-70 ms (EXPLAIN ANALYZE on the seed clone).
    Here the ids are chosen first, in two ordered parts: the owned accounts, walked
    owner by owner in name order through the owner index (the first page reads a
    few owners' accounts), then, for managers, the unowned ones in name order from
    the (owner, name) index. Each part stops at ``stop`` rows; the accounts are then
    read by id with ``suggested_accounts``' filter and order."""
    owners_sql, owners_params = (
        User.objects.filter(scope_owners(user, to_owner=""))
        # In the window's order: with it, PostgreSQL walks the owners in turn and
        # stops once it has the window (an incremental sort), rather than reading
        # every owner's accounts and sorting them all.
        .order_by("name", "pk")
        .values("pk", "name")
        .query.sql_with_params()
    )
    owned_sql, owned_params = (
        _suggested(Account.objects.filter(owner_id=RawSQL("o.pk", ())))
        .order_by()
        .values("pk", "name")
        .query.sql_with_params()
    )
    parts = [
        f"""(SELECT 0 AS part, o.name AS owner_name, a.name, a.pk AS id
            FROM ({owners_sql}) o CROSS JOIN LATERAL ({owned_sql}) a
            ORDER BY o.name, a.name, a.pk LIMIT %s)"""
    ]
    params: list[Any] = [*owners_params, *owned_params, stop]
    if user.is_manager:
        # Ordered by owner too (all NULL here), so the (owner, name) index gives the order.
        unowned_sql, unowned_params = (
            _suggested(Account.objects.filter(owner__isnull=True))
            .order_by("owner_id", "name", "pk")
            .values("name", "pk")[:stop]
            .query.sql_with_params()
        )
        parts.append(f"(SELECT 1, NULL, u.name, u.pk FROM ({unowned_sql}) u)")
        params += unowned_params
    window = f"""SELECT p.id FROM ({" UNION ALL ".join(parts)}) p
        ORDER BY p.part, p.owner_name, p.name, p.id LIMIT %s OFFSET %s"""
    return suggested_accounts(user=user).filter(
        pk__in=RawSQL(window, (*params, stop - start, start))
    )


def suggested_count(*, user: User) -> int:
    """How many accounts ``suggested_accounts`` lists for ``user``. One query, read from
    the open signals' index (with the flags' anti-join) rather than from every account:
    at 100,000 accounts the count over accounts took about 70 ms (issue 20)."""
    signals = ChurnSignal.objects.filter(scope_owners(user), cleared_on__isnull=True).exclude(
        Exists(ChurnRiskFlag.objects.filter(account=OuterRef("account"), status=FlagStatus.OPEN))
    )
    return signals.order_by().values("account").distinct().count()


@dataclass
class TrendWeek:
    week: dt.date
    at_risk: int
    arr_at_risk: Decimal
    saved: int
    churned: int


def weekly_trend(
    *, today: dt.date, weeks: int = TREND_WEEKS, flags: QuerySet[ChurnRiskFlag] | None = None
) -> list[TrendWeek]:
    """Per week of the last ``weeks``: flags open at the week's end, their ARR, saved and churned,
    of ``flags`` (default: every flag; the review passes ``review_flags(viewer)``).

    One query (the flags overlapping the period); the weekly buckets are summed here,
    each flag placed by a binary search of the weeks' bounds (company midnights) rather
    than tested against every week: 26 weeks × the flags twice was about 10 ms of the
    review's Python at the 100,000-account seed's 336 flags (cProfile; issue 20).
    """
    first = week_start(today) - dt.timedelta(weeks=weeks - 1)
    tz = timezone.get_current_timezone()
    # Week i runs from bounds[i] (included) to bounds[i + 1], its end.
    bounds = [
        dt.datetime.combine(first + dt.timedelta(weeks=index), dt.time.min, tzinfo=tz)
        for index in range(weeks + 1)
    ]
    ends = bounds[1:]
    rows = (
        (ChurnRiskFlag.objects.all() if flags is None else flags)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=bounds[0]))
        .exclude(status=FlagStatus.REMOVED)
    )
    # At risk at a week's end: raised before it and not closed before it. A flag is so
    # for a run of weeks, counted as +1 where the run starts and -1 after it ends.
    at_risk = [0] * (weeks + 1)
    arr_at_risk = [Decimal(0)] * (weeks + 1)
    saved, churned = [0] * weeks, [0] * weeks
    for raised_at, closed_at, status, arr in rows.values_list(
        "raised_at", "closed_at", "status", "arr_at_flag"
    ):
        start = bisect_right(ends, raised_at)
        stop = weeks if closed_at is None else bisect_right(ends, closed_at)
        if start < stop:
            at_risk[start] += 1
            at_risk[stop] -= 1
            arr_at_risk[start] += arr
            arr_at_risk[stop] -= arr
        if closed_at is not None:
            week = bisect_right(bounds, closed_at) - 1
            if 0 <= week < weeks and status == FlagStatus.RESOLVED:
                saved[week] += 1
            elif 0 <= week < weeks and status == FlagStatus.CHURNED:
                churned[week] += 1
    result = []
    open_flags, open_arr = 0, Decimal(0)
    for index in range(weeks):
        open_flags += at_risk[index]
        open_arr += arr_at_risk[index]
        result.append(
            TrendWeek(
                week=first + dt.timedelta(weeks=index),
                at_risk=open_flags,
                arr_at_risk=open_arr,
                saved=saved[index],
                churned=churned[index],
            )
        )
    return result
