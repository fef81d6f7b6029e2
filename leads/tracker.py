"""The Lead Assignment Tracker page: member edits, rows, preview of the next picks, history.

Every member edit writes ledger events (``leads.ledger``) in the same
transaction as the change. Time off lives in ``leads.time_off``.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from itertools import groupby
from typing import Any, NamedTuple

from django.contrib.postgres.expressions import ArraySubquery
from django.db import transaction
from django.db.models import F, OuterRef
from django.utils import timezone

from accounts.models import User
from revopsweb.dates import company_today, current_month, month_start
from revopsweb.sql import CompiledOnce

from .ledger import NOTHING_TO_RESET, ledger_event, open_period
from .models import (
    LEAD_KINDS,
    LedgerKind,
    RoundRobinEvent,
    Territory,
    TerritoryLeads,
    TrackerMember,
    TrackerRole,
    round_robin_load,
)
from .round_robin import (
    Candidate,
    away,
    away_by,
    pick_next,
    skip_reason,
    time_off_annotations,
    time_off_due,
    to_candidate,
)

PREVIEW_SIZE = 20
# A manual adjustment counts as leads a member already received this month; a
# team lead evens out a few weeks' imbalance with it, never switches someone
# off (that is "active") or floods them. Bounded both ways, in leads.
MAX_MANUAL_ADJUSTMENT = 500


def check_manual_adjustment(value: int) -> None:
    """Raise ValueError unless ``value`` is within ±MAX_MANUAL_ADJUSTMENT leads."""
    if abs(value) > MAX_MANUAL_ADJUSTMENT:
        raise ValueError(
            f"A manual adjustment is between -{MAX_MANUAL_ADJUSTMENT} and "
            f"{MAX_MANUAL_ADJUSTMENT} leads."
        )


# --- Members ----------------------------------------------------------------


def level_count(*, loads: Sequence[int], priority: int) -> int:
    """The count (leads this month + manual adjustment) at which a member of
    ``priority`` is level with colleagues whose loads are ``loads``.

    Load is count × priority and the round robin picks the lowest, so a member
    is level when their count × priority equals the colleagues' average load:
    count = average load ÷ priority, rounded half up (as PostgreSQL's ROUND,
    which ``leads.time_off`` uses for the same rule). A priority-3 joiner
    beside colleagues at 30 starts at 10 and then gets one lead for every
    three each colleague gets; at 30 they would get nothing for a long while.
    Zero when there is nobody to be level with.
    """
    if not loads:
        return 0
    average = Decimal(sum(loads)) / len(loads)
    return int((average / priority).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def present_colleague_loads(
    *, role: str, territories: Iterable[Territory], today: dt.date
) -> list[int]:
    """Loads of the members of ``role`` in ``territories`` present this period:
    active in the tracker, login on, not away on time off, counting this month.
    One query."""
    in_territories = TrackerMember.objects.filter(territories__in=list(territories)).values("pk")
    members = (
        TrackerMember.objects.filter(
            role=role,
            is_active=True,
            user__is_active=True,
            pk__in=in_territories,
            period=month_start(today),
        )
        .select_related("user")
        .annotate(**time_off_annotations(today))
    )
    return _present_loads(
        ((m.role, m.is_active and m.user.is_active, m.period, away(m), m.load) for m in members),
        role=role,
        today=today,
    )


def row_colleague_loads(rows: Iterable[TrackerRow], *, role: str, today: dt.date) -> list[int]:
    """``present_colleague_loads``' rule on the tracker's rows (members read as
    values once for the page), so the add form's prefill costs no query."""
    return _present_loads(
        ((r.role, r.is_active and r.login_on, r.period, r.away, r.load) for r in rows),
        role=role,
        today=today,
    )


def _present_loads(
    members: Iterable[tuple[str, bool, dt.date, bool, int]], *, role: str, today: dt.date
) -> list[int]:
    """The rule of ``present_colleague_loads`` over (role, active with login on,
    period, away, load) of each member."""
    period = month_start(today)
    return [
        load
        for member_role, active, member_period, is_away, load in members
        if member_role == role and active and member_period == period and not is_away
    ]


def level_prefill(*, loads: Sequence[int], priority: int = 1) -> int:
    """``level_count`` within the bound a team lead could type (±MAX_MANUAL_ADJUSTMENT)."""
    level = level_count(loads=loads, priority=priority)
    # Within the bound a team lead could type (a colleague may stand beyond it).
    return max(-MAX_MANUAL_ADJUSTMENT, min(MAX_MANUAL_ADJUSTMENT, level))


def prefill_adjustment(
    *, role: str, territories: Iterable[Territory], priority: int = 1, today: dt.date | None = None
) -> int:
    """The mid-month manual adjustment for a new member of ``priority``: the
    count at which they start level with the colleagues present this month
    (``level_count`` of ``present_colleague_loads``), so they are neither
    flooded nor starved (revops/lead-assignment-tracker: others have 50 → add
    50; at priority 3 beside colleagues at 30, add 10), within
    ±MAX_MANUAL_ADJUSTMENT. One query.
    """
    loads = present_colleague_loads(
        role=role, territories=territories, today=today or company_today()
    )
    return level_prefill(loads=loads, priority=priority)


@transaction.atomic
def add_member(
    *,
    user: User,
    role: str,
    territories: Sequence[Territory],
    author: User | None,
    priority: int = 1,
    manual_adjustment: int = 0,
    reason: str = "",
    now: dt.datetime | None = None,
) -> TrackerMember:
    """Add a person to the round robin with a JOINED (and ADJUSTMENT) ledger event.

    Raises ValueError for an adjustment beyond ±MAX_MANUAL_ADJUSTMENT leads.
    """
    check_manual_adjustment(manual_adjustment)
    now = now or timezone.now()
    member = TrackerMember.objects.create(
        user=user,
        role=role,
        priority=priority,
        manual_adjustment=manual_adjustment,
        period=current_month(now=now),
    )
    member.territories.set(territories)
    names = ", ".join(t.name for t in territories)
    why = reason or "added on the tracker page"
    events = [
        ledger_event(
            member=member,
            kind=LedgerKind.JOINED,
            author=author,
            reason=why,
            now=now,
            new=f"{member.get_role_display()}, priority {priority}, {names}",
        )
    ]
    if manual_adjustment:
        events.append(
            ledger_event(
                member=member,
                kind=LedgerKind.ADJUSTMENT,
                author=author,
                reason=f"{why} (mid-month level)",
                now=now,
                old=0,
                new=manual_adjustment,
                delta=manual_adjustment,
            )
        )
    RoundRobinEvent.objects.bulk_create(events)
    return member


@transaction.atomic
def update_member(
    *,
    member: TrackerMember,
    author: User | None,
    reason: str,
    priority: int | None = None,
    manual_adjustment: int | None = None,
    is_active: bool | None = None,
    territories: Sequence[Territory] | None = None,
    now: dt.datetime | None = None,
) -> list[RoundRobinEvent]:
    """Change a member's weights; one ledger event per changed field (old → new, why).

    Locks the member row so a concurrent assignment cannot interleave with the
    adjustment. Passing the current values records nothing. Raises ValueError
    for an adjustment beyond ±MAX_MANUAL_ADJUSTMENT leads or without a reason, and
    for a change of priority, of active or of the territories without a reason.
    """
    if manual_adjustment is not None:
        check_manual_adjustment(manual_adjustment)
    now = now or timezone.now()
    locked = TrackerMember.objects.select_for_update().get(pk=member.pk)
    if locked.period < current_month(now=now):
        open_period(period=current_month(now=now), member_ids=[locked.pk], now=now)
        locked.refresh_from_db()
    weighed = (priority is not None and priority != locked.priority) or (
        is_active is not None and is_active != locked.is_active
    )
    if (
        not reason.strip()
        and manual_adjustment is not None
        and manual_adjustment != locked.manual_adjustment
    ):
        raise ValueError("A manual adjustment needs a reason.")
    if territories is not None and not reason.strip():
        weighed = weighed or {t.pk for t in territories} != set(
            locked.territories.values_list("pk", flat=True)
        )
    if weighed and not reason.strip():
        raise ValueError("A change of priority, of active or of the territories needs a reason.")
    events: list[RoundRobinEvent] = []
    fields: list[str] = []
    if priority is not None and priority != locked.priority:
        if priority < 1:
            raise ValueError("Priority is at least 1.")
        events.append(
            ledger_event(
                member=locked,
                kind=LedgerKind.WEIGHT,
                author=author,
                reason=reason,
                now=now,
                old=locked.priority,
                new=priority,
            )
        )
        locked.priority = priority
        fields.append("priority")
    if manual_adjustment is not None and manual_adjustment != locked.manual_adjustment:
        events.append(
            ledger_event(
                member=locked,
                kind=LedgerKind.ADJUSTMENT,
                author=author,
                reason=reason,
                now=now,
                old=locked.manual_adjustment,
                new=manual_adjustment,
                delta=manual_adjustment - locked.manual_adjustment,
            )
        )
        locked.manual_adjustment = manual_adjustment
        fields.append("manual_adjustment")
    if is_active is not None and is_active != locked.is_active:
        events.append(
            ledger_event(
                member=locked,
                kind=LedgerKind.ACTIVATION,
                author=author,
                reason=reason,
                now=now,
                old="active" if locked.is_active else "inactive",
                new="active" if is_active else "inactive",
            )
        )
        locked.is_active = is_active
        fields.append("is_active")
    if territories is not None:
        old = sorted(locked.territories.values_list("name", flat=True))
        new = sorted(t.name for t in territories)
        if old != new:
            locked.territories.set(territories)
            events.append(
                ledger_event(
                    member=locked,
                    kind=LedgerKind.TERRITORIES,
                    author=author,
                    reason=reason,
                    now=now,
                    old=", ".join(old),
                    new=", ".join(new),
                )
            )
    if fields:
        locked.save(update_fields=fields)
    RoundRobinEvent.objects.bulk_create(events)
    for name in ("priority", "manual_adjustment", "is_active"):
        setattr(member, name, getattr(locked, name))
    return events


# --- Tracker page -------------------------------------------------------------


# The member's columns and their user's, in the order ``tracker_rows`` reads them.
_MEMBER_FIELDS = (
    "id",
    "user_id",
    "role",
    "priority",
    "manual_adjustment",
    "is_active",
    "leads_this_month",
    "period",
    "last_assigned_at",
)
_USER_FIELDS = ("name", "is_active", "team_lead_id")


@dataclass
class TrackerRow:
    """One member's row of the tracker: what the page, the pick and the permission
    rules read of the member and their user, as values (a member and a user model
    instance per row cost about as much as the rest of the rows; issue 20), and
    their figures in the territory. ``member`` builds the model instance when one
    is needed (the row being edited)."""

    member_id: int
    user_id: int
    name: str
    role: str
    priority: int
    manual_adjustment: int
    is_active: bool
    leads_this_month: int
    period: dt.date
    last_assigned_at: dt.datetime | None
    # The user's login, and the team lead they report to (id and name; None: nobody).
    login_on: bool
    team_lead_id: int | None
    team_lead_name: str | None
    # ``time_off_annotations``: within a time off the daily job has not applied yet,
    # and switched off by the job for one (``round_robin.away`` reads both).
    time_off_due: bool
    time_off_applied: bool
    # Leads this member received in this territory this period, and their
    # share of the role's leads here (a member covering several territories
    # counts only this one's).
    leads_here: int = 0
    share: float = 0.0
    target_share: float = 0.0
    next_in_line: bool = False
    # The member's territories (ids, and names in the territories' order), read as
    # an array of ids with the member rather than as Territory instances prefetched.
    territory_ids: list[int] = field(default_factory=list)
    territory_names: list[str] = field(default_factory=list)
    # Filled by the view: whether the viewer may edit the row (and its "Edit"
    # link), then, for the one row being edited, its form and paths.
    editable: bool = False
    edit_path: str = ""
    edit_href: str = ""
    form: Any = None
    options: list[tuple[Territory, bool]] = field(default_factory=list)
    preview_path: str = ""
    update_path: str = ""
    # The read-only row's HTML, for the rows of the groups the page opens.
    html: str = ""

    @property
    def load(self) -> int:
        """``TrackerMember.load`` of the row's values."""
        return round_robin_load(
            leads_this_month=self.leads_this_month,
            manual_adjustment=self.manual_adjustment,
            priority=self.priority,
        )

    @property
    def on_time_off(self) -> bool:
        """The "time off" badge: within a time off, or switched off for one."""
        return self.time_off_due or self.time_off_applied

    @property
    def away(self) -> bool:
        """Skipped for time off (``round_robin.away``'s rule)."""
        return away_by(
            due=self.time_off_due, on_time_off=self.time_off_applied, active=self.is_active
        )

    @cached_property
    def member(self) -> TrackerMember:
        """The member as a model instance with its user, built from the row's values
        (no query; the user's other fields are deferred, as ``only()`` leaves them)."""
        # from_db takes a partial row's values in the model's field order.
        values = {name: getattr(self, name) for name in _MEMBER_FIELDS[1:]}
        values["id"] = self.member_id
        names = [f.attname for f in TrackerMember._meta.concrete_fields if f.attname in values]
        member = TrackerMember.from_db(None, names, [values[name] for name in names])
        known = {
            "id": self.user_id,
            "name": self.name,
            "is_active": self.login_on,
            "team_lead_id": self.team_lead_id,
        }
        names = [f.attname for f in User._meta.concrete_fields if f.attname in known]
        member.user = User.from_db(None, names, [known[name] for name in names])
        member.on_time_off = self.time_off_applied  # type: ignore[attr-defined]
        member.time_off_due = self.time_off_due  # type: ignore[attr-defined]
        return member

    @property
    def share_percent(self) -> int:
        """``share`` in whole percent, rounded as ``widthratio`` did."""
        return round(self.share * 100)

    @property
    def target_percent(self) -> int:
        return round(self.target_share * 100)


@dataclass
class TeamGroup:
    """One team's members of one role in a territory (the people who report to one
    team lead, ``User.team_lead``; ``team_id`` None for those who report to nobody):
    the tracker page shows each as a group with its count and summary, its rows
    only when it is open."""

    role: str
    team_id: int | None
    team_name: str
    rows: list[TrackerRow]
    # Set by the view: whether the page shows the group's rows, its header row's HTML,
    # and, for an open group with no row being edited, its read-only rows' HTML in one piece.
    open: bool = False
    header: str = ""
    html: str = ""

    @property
    def template_rows(self) -> list[TrackerRow]:
        """The rows the template writes one by one: every row when one is edited (its
        form is a partial of the template), none when ``html`` has them in one piece."""
        return [] if self.html else self.rows

    @property
    def key(self) -> str:
        """The group's id in the page and in ``?group=``: role and team lead id (0: none)."""
        return group_key(role=self.role, team_id=self.team_id)

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def active(self) -> int:
        return sum(1 for row in self.rows if row.target_share)

    @property
    def leads_here(self) -> int:
        return sum(row.leads_here for row in self.rows)

    @property
    def next_name(self) -> str | None:
        return _next_in_line_name(self.rows)


@dataclass
class RoleGroup:
    """A territory's members of one role (one round robin): whose turn it is, and its teams."""

    role: str
    label: str
    next_name: str | None
    teams: list[TeamGroup]


def _next_in_line_name(rows: Sequence[TrackerRow]) -> str | None:
    """The name of the member of ``rows`` who is next in line, or None (not among them)."""
    return next((row.name for row in rows if row.next_in_line), None)


def group_key(*, role: str, team_id: int | None) -> str:
    """The key of a team's group of one role: ``"<role>-<team lead id, 0 for none>"``."""
    return f"{role}-{team_id or 0}"


def tracker_groups(rows: Sequence[TrackerRow]) -> list[RoleGroup]:
    """``rows`` (``tracker_rows``' order: by role, then name) grouped by role, then by
    team: teams by their lead's name, those who report to nobody last. Rows keep
    their order inside a team. No query (``team_lead_name`` comes with the rows)."""
    groups: list[RoleGroup] = []
    for role, role_rows in groupby(rows, key=lambda row: row.role):
        members = list(role_rows)
        teams: dict[int | None, list[TrackerRow]] = defaultdict(list)
        for row in members:
            teams[row.team_lead_id].append(row)
        names = {team_id: team[0].team_lead_name or "" for team_id, team in teams.items()}
        ordered = sorted(teams, key=lambda team_id: (team_id is None, names[team_id], team_id or 0))
        groups.append(
            RoleGroup(
                role=role,
                label=TrackerRole(role).label,
                next_name=_next_in_line_name(members),
                teams=[
                    TeamGroup(
                        role=role,
                        team_id=team_id,
                        team_name=f"{names[team_id]}'s team" if team_id else "No team lead",
                        rows=teams[team_id],
                    )
                    for team_id in ordered
                ],
            )
        )
    return groups


def tracker_rows(
    *,
    territory: Territory,
    today: dt.date | None = None,
    territories: Sequence[Territory] | None = None,
) -> list[TrackerRow]:
    """The territory's members with load, share of leads vs target share, next in line.

    The share counts the ledger's lead events of each member's current period
    whose task is in this territory (``TerritoryLeads``). Target share is 1/priority over the sum
    of 1/priority of the active members of the same role. Two queries (members
    with their user's values, team lead's name and territory ids, then their
    counters here), read as values; the members' territories are named and ordered from
    ``territories`` (every territory, which the tracker's pages read for their
    pickers), or from a third query when it is not given.
    """
    today = today or company_today()
    members = _MEMBERS.tuples(
        today, lambda territory_pk: _members(territory_pk, today), territory_pk=territory.pk
    )
    known = {t.pk for t in territories} if territories is not None else set()
    if territories is None or any(not known.issuperset(row[-1]) for row in members):
        # Not given, or one created since the caller read them.
        territories = list(Territory.objects.all())
    # The territories' order (``Territory.Meta.ordering``): a member's badges follow it.
    ordered = sorted(territories, key=lambda t: (t.sort_order, t.name))
    rank = {t.pk: position for position, t in enumerate(ordered)}
    names = {t.pk: t.name for t in ordered}
    rows = []
    for (
        pk,
        user_id,
        role,
        priority,
        adjustment,
        is_active,
        leads,
        period,
        last_assigned_at,
        name,
        login_on,
        team_lead_id,
        team_lead_name,
        due,
        applied,
        territory_ids,
    ) in members:
        territory_ids.sort(key=rank.__getitem__)
        rows.append(
            TrackerRow(
                member_id=pk,
                user_id=user_id,
                role=role,
                priority=priority,
                manual_adjustment=adjustment,
                is_active=is_active,
                leads_this_month=leads,
                period=period,
                last_assigned_at=last_assigned_at,
                name=name,
                login_on=login_on,
                team_lead_id=team_lead_id,
                team_lead_name=team_lead_name,
                time_off_due=due,
                time_off_applied=applied,
                territory_ids=territory_ids,
                territory_names=[names[t_id] for t_id in territory_ids],
            )
        )
    if not rows:
        return rows
    leads_here = territory_leads(territory=territory)
    for _, role_rows in groupby(rows, key=lambda row: row.role):
        members_of_role = list(role_rows)
        # A login switched off takes no share, whatever the member row says.
        weight = sum(1 / row.priority for row in members_of_role if row.is_active and row.login_on)
        total_leads = sum(leads_here.get(row.member_id, 0) for row in members_of_role)
        chosen = pick_next(
            [
                Candidate(
                    member_id=row.member_id,
                    user_id=row.user_id,
                    name=row.name,
                    leads=row.leads_this_month,
                    adjustment=row.manual_adjustment,
                    priority=row.priority,
                    last_assigned_at=row.last_assigned_at,
                    skip_reason=skip_reason(
                        login_on=row.login_on, away=row.away, active=row.is_active
                    ),
                )
                for row in members_of_role
            ]
        )
        for row in members_of_role:
            here = leads_here.get(row.member_id, 0)
            row.leads_here = here
            row.share = here / total_leads if total_leads else 0.0
            row.target_share = (
                (1 / row.priority) / weight if row.is_active and row.login_on and weight else 0.0
            )
            row.next_in_line = chosen is not None and chosen.member_id == row.member_id
    return rows


def territory_leads(*, territory: Territory) -> dict[int, int]:
    """Leads each member of ``territory`` received in it in their current period, as
    the ledger adds them up (``TerritoryLeads``; members with none are absent). One
    query, whatever the number of events."""
    return dict(_LEADS.tuples("leads", _territory_leads, territory_pk=territory.pk))


# The tracker rows' two statements, compiled once per process and run with the
# territory's id (revopsweb.sql.CompiledOnce; the members' per day, for their time-off
# flags): compiling them was about a third of the rows' time, for the same SQL (issue 20).
_MEMBERS = CompiledOnce(TrackerMember)
_LEADS = CompiledOnce(TerritoryLeads)


def _members(territory_pk: int, today: dt.date) -> Any:
    """The territory's members, by role then name, as ``tracker_rows`` reads them: the
    member's and their user's columns, the team lead's name, the time-off flags, and
    the ids of the member's territories, in no order (an array from the link table's
    unique index: a statement of (member, territory) pairs and a Python loop over some
    600 of them before; issue 20)."""
    links = TrackerMember.territories.through.objects.filter(trackermember_id=OuterRef("pk"))
    return (
        TrackerMember.objects.filter(territories=territory_pk)
        .annotate(
            team_lead_name=F("user__team_lead__name"),
            territory_ids=ArraySubquery(links.values("territory_id")),
            **time_off_annotations(today),
        )
        .order_by("role", "user__name")
        .values_list(
            *_MEMBER_FIELDS,
            *(f"user__{name}" for name in _USER_FIELDS),
            "team_lead_name",
            "time_off_due",
            "on_time_off",
            "territory_ids",
        )
    )


def _territory_leads(territory_pk: int) -> Any:
    """(member id, leads) of ``territory_leads``: the members' counters of their own
    period (``TerritoryLeads``, kept by the ledger's trigger)."""
    return TerritoryLeads.objects.filter(
        territory=territory_pk,
        member__territories=territory_pk,
        period=F("member__period"),
    ).values_list("member_id", "leads")


def preview_next(
    *,
    territory: Territory,
    role: str,
    overrides: dict[int, dict[str, Any]] | None = None,
    count: int = PREVIEW_SIZE,
    now: dt.datetime | None = None,
) -> list[str]:
    """Who would receive the next ``count`` round-robin tasks in the territory.

    ``overrides`` maps member id to unsaved values (priority,
    manual_adjustment, is_active), so a team lead sees the effect of a weight
    change before saving it. Runs the same pick as ``assign_task`` on a copy;
    writes nothing. One query.
    """
    return preview_change(
        territory=territory, role=role, overrides=overrides or {}, count=count, now=now
    )[1]


def preview_change(
    *,
    territory: Territory,
    role: str,
    overrides: dict[int, dict[str, Any]],
    count: int = PREVIEW_SIZE,
    now: dt.datetime | None = None,
) -> tuple[list[str], list[str]]:
    """``preview_next`` as things stand and with ``overrides``: (current, proposed).

    The tracker's preview shows both, from one query.
    """
    now = now or timezone.now()
    members = list(
        TrackerMember.objects.filter(territories=territory, role=role)
        .select_related("user")
        .annotate(time_off_due=time_off_due(company_today(now=now)))
    )
    return (
        _next_names(members, overrides={}, count=count, now=now),
        _next_names(members, overrides=overrides, count=count, now=now),
    )


def _next_names(
    members: Sequence[TrackerMember],
    *,
    overrides: dict[int, dict[str, Any]],
    count: int,
    now: dt.datetime,
) -> list[str]:
    """Replay ``count`` picks on candidates of ``members`` (with their unsaved values)."""
    candidates = [to_candidate(_with_values(m, overrides.get(m.pk))) for m in members]
    names: list[str] = []
    for step in range(count):
        chosen = pick_next(candidates)
        if chosen is None:
            break
        names.append(chosen.name)
        chosen.leads += 1
        chosen.last_assigned_at = now + dt.timedelta(microseconds=step + 1)
    return names


def _with_values(member: TrackerMember, values: dict[str, Any] | None) -> TrackerMember:
    """An unsaved copy of ``member`` with ``values`` set (the member itself when none)."""
    if not values:
        return member
    changed = copy.copy(member)
    for name, value in values.items():
        setattr(changed, name, value)
    return changed


class HistoryEntry(NamedTuple):
    """One tracker change as the page's history shows it (``history``)."""

    at: dt.datetime
    kind: str
    delta: int
    old_value: str
    new_value: str
    reason: str
    member_name: str
    actor_name: str | None

    @property
    def kind_label(self) -> str:
        """The kind as ``get_kind_display`` says it."""
        return _KIND_LABELS.get(self.kind, self.kind)


_KIND_LABELS: dict[str, str] = dict(LedgerKind.choices)


def history(*, territory: Territory | None = None, limit: int = 50) -> list[HistoryEntry]:
    """Recent tracker changes (not assignments, nor resets of nothing), newest first. One query.

    Each change as the values the history shows (when, kind, delta, old → new, why,
    the member's and the author's names), read as tuples rather than as events with
    their member, user and author instances (four model instances a row; issue 20).
    """
    if territory is None:
        found = _HISTORY.tuples(("all", limit), lambda: _history(None, limit))
    else:
        found = _HISTORY.tuples(
            ("territory", limit),
            lambda territory_pk: _history(territory_pk, limit),
            territory_pk=territory.pk,
        )
    return [HistoryEntry(*values) for values in found]


# Compiled once per process (revopsweb.sql.CompiledOnce), as the tracker's rows are, with
# its kinds and pattern written in as the ledger sums' are.
_HISTORY = CompiledOnce(RoundRobinEvent)


def _history(territory_pk: int | None, limit: int) -> Any:
    """``history``'s statement: every territory's changes for ``territory_pk`` None.

    A monthly reset of a member who had nothing to reset is left out: every month it
    wrote one "leads 0, adjustment 0 → leads 0, adjustment 0" line per member, which
    buried the changes people made."""
    events = RoundRobinEvent.objects.exclude(kind__in=LEAD_KINDS).exclude(
        kind=LedgerKind.RESET, old_value__startswith=NOTHING_TO_RESET
    )
    if territory_pk is not None:
        # A subquery, not a join: each event once, without DISTINCT over every column.
        events = events.filter(member__in=TrackerMember.objects.filter(territories=territory_pk))
    return events.order_by("-at", "-id").values_list(
        "at",
        "kind",
        "delta",
        "old_value",
        "new_value",
        "reason",
        "member__user__name",
        "actor__name",
    )[:limit]
