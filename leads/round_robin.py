"""Who is next in a territory's round robin, and why (steps 2-4 of ``leads.assignment``).

Locks the territory's members of the lead type's role and decides: the
candidates (with why each is skipped: login switched off, on time off,
inactive, full book), the weighted pick (lowest load = (leads this month +
manual adjustment) × priority, ties to the oldest last assignment, then the
lowest member id) and its explanation. It only brings the locked rows up to
date (a month's period opened late, a login switched off outside the admin);
``leads.assignment`` writes the outcome. The stale job, the tracker page and the preview read the same
candidates, so they skip the same members (revops/lead-assignment-tracker).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.books import full_book_reasons
from accounts.models import User
from revopsweb.dates import month_start
from revopsweb.sql import from_row_json

from .ledger import open_period
from .models import (
    LEAD_TYPE_ROLE,
    LeadType,
    Territory,
    TimeOff,
    TrackerMember,
    TrackerRole,
)
from .people import LOGIN_OFF, switch_off_members_without_login

# Why the current assignee is passed over when a task is reassigned away from them.
REASSIGNING_AWAY = "current assignee (reassigning away)"

# The fields a candidate's sort key and pool row are made of: setting any of
# them drops both cached values (``Candidate.__setattr__``).
_STATE_FIELDS = frozenset(
    {"member_id", "name", "leads", "adjustment", "priority", "last_assigned_at"}
)

# The pool is stored as jsonb, which keeps no whitespace: the compact form
# costs less to build and to send.
_json = json.JSONEncoder(separators=(",", ":"), check_circular=False, ensure_ascii=False).encode
# A string alone: the encoder's own C function, without its per-call setup
# (a pool row encodes a name per member of the pool, about 65 per decision).
_json_str = json.encoder.encode_basestring


@dataclass(init=False)
class Candidate:
    """A member's round-robin state at decision time (also used by the preview).

    Its sort key and its pool row are computed once and kept until one of the
    fields they are made of changes, so a job that decides many tasks with the
    same candidates (the stale job: 100,000 in one run) pays for them once per
    pick, not once per task. ``skip_reason`` is not part of either.
    """

    member_id: int
    name: str
    leads: int
    adjustment: int
    priority: int
    last_assigned_at: dt.datetime | None
    user_id: int = 0
    skip_reason: str = ""
    _key: tuple[int, int, float, int] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    _row: str | None = field(default=None, init=False, repr=False, compare=False)

    def __init__(
        self,
        member_id: int,
        name: str,
        leads: int,
        adjustment: int,
        priority: int,
        last_assigned_at: dt.datetime | None,
        user_id: int = 0,
        skip_reason: str = "",
    ) -> None:
        # One dict update, not ten calls of __setattr__ below: a decision builds
        # a candidate per member of the pool (about 65 at 100,000 accounts)
        # while it holds the pool's locks.
        self.__dict__.update(
            member_id=member_id,
            name=name,
            leads=leads,
            adjustment=adjustment,
            priority=priority,
            last_assigned_at=last_assigned_at,
            user_id=user_id,
            skip_reason=skip_reason,
            _key=None,
            _row=None,
        )

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name in _STATE_FIELDS:
            object.__setattr__(self, "_key", None)
            object.__setattr__(self, "_row", None)

    @property
    def count(self) -> int:
        return self.leads + self.adjustment

    @property
    def load(self) -> int:
        return self.count * self.priority

    def sort_key(self) -> tuple[int, int, float, int]:
        key = self._key
        if key is None:
            # Never assigned sorts first among equal loads: its last
            # assignment is "oldest".
            stamp = self.last_assigned_at
            key = (
                self.load,
                0 if stamp is None else 1,
                stamp.timestamp() if stamp is not None else float("-inf"),
                self.member_id,
            )
            object.__setattr__(self, "_key", key)
        return key

    def pool_row(self) -> str:
        """The JSON text of the candidate's pool row up to its outcome (an open object)."""
        row = self._row
        if row is None:
            stamp = self.last_assigned_at
            # ISO 8601 is plain ASCII: quoted, nothing to escape.
            stamp_json = f'"{stamp.isoformat()}"' if stamp is not None else "null"
            row = (
                f'{{"member_id":{self.member_id},"name":{_json_str(self.name)},'
                f'"leads":{self.leads},"adjustment":{self.adjustment},'
                f'"priority":{self.priority},"load":{self.load},'
                f'"last_assigned_at":{stamp_json},'
            )
            object.__setattr__(self, "_row", row)
        return row


def pick_next(candidates: Sequence[Candidate]) -> Candidate | None:
    """The eligible candidate with the lowest load; ties by oldest last assignment."""
    eligible = [c for c in candidates if not c.skip_reason]
    return min(eligible, key=Candidate.sort_key) if eligible else None


class Decision:
    """The outcome of one assignment decision, stored on the task.

    ``pool``: ``explain_pool``'s rows, or ``pool_json``, the same rows as JSON
    text; either one is given, and the other is made from it on first use. The
    round robin gives the text and intake writes it as it is: at 100,000
    accounts decoding it for the task's instance and encoding it again for the
    write cost about 0.6 ms of Python per decision under the pool's locks.
    """

    __slots__ = ("_pool", "_pool_json", "assignee", "explanation", "member", "unassigned_reason")

    def __init__(
        self,
        *,
        assignee: User | None,
        member: TrackerMember | None,
        explanation: str,
        pool: list[dict[str, Any]] | None = None,
        pool_json: str | None = None,
        unassigned_reason: str = "",
    ) -> None:
        self.assignee = assignee
        self.member = member
        self.explanation = explanation
        self.unassigned_reason = unassigned_reason
        self._pool = pool if pool is not None or pool_json is not None else []
        self._pool_json = pool_json

    @property
    def pool(self) -> list[dict[str, Any]]:
        """Each member considered and why (``explain_pool``'s rows)."""
        if self._pool is None:
            self._pool = json.loads(self._pool_json or "[]")
        return self._pool

    @pool.setter
    def pool(self, rows: list[dict[str, Any]]) -> None:
        self._pool, self._pool_json = rows, None

    @property
    def pool_json(self) -> str:
        """``pool`` as compact JSON text (a jsonb value)."""
        if self._pool_json is None:
            self._pool_json = _json(self._pool)
        return self._pool_json

    def __repr__(self) -> str:
        return (
            f"Decision(assignee={self.assignee!r}, member={self.member!r}, "
            f"explanation={self.explanation!r}, unassigned_reason={self.unassigned_reason!r})"
        )


def explain_pool(
    *, candidates: Sequence[Candidate], chosen: Candidate | None, others: Iterable[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each member considered and why they were chosen or passed over.

    Rows in pool order (``Candidate.sort_key``) with ``member_id``, ``name``,
    ``leads``, ``adjustment``, ``priority``, ``load``, ``last_assigned_at``
    (ISO 8601 or None), ``outcome`` and ``reason``; then ``others`` as given (for
    a round-robin decision, the members outside the pool counted by reason:
    ``members``, ``outcome``, ``reason``).
    The rows are ``explain_pool_json``'s, decoded (one renderer for both).
    """
    rows: list[dict[str, Any]] = json.loads(
        explain_pool_json(candidates=candidates, chosen=chosen, others=others)
    )
    return rows


def explain_pool_json(
    *,
    candidates: Sequence[Candidate],
    chosen: Candidate | None,
    others: Iterable[dict[str, Any]] = (),
) -> str:
    """``explain_pool`` as compact JSON text (a jsonb value), for writers that send text.

    Each candidate's row comes from its cached ``pool_row`` and the outcome
    texts are encoded once per process, so the stale job can call it for
    every task it reassigns (revops/lead-assignment-tracker: the pool shown on
    the task); ``others`` (the members outside the pool, counted) follow them.
    """
    # Keys are unique (the member id is their last part): candidates are never compared.
    ranked = sorted([(c.sort_key(), c) for c in candidates], key=itemgetter(0))
    chosen_id = chosen.member_id if chosen is not None else None
    chosen_load = chosen.load if chosen is not None else 0
    rows: list[str] = []
    for (load, _, _, member_id), c in ranked:
        if member_id == chosen_id:
            tie = any(
                key[3] != chosen_id and not o.skip_reason and key[0] == load for key, o in ranked
            )
            outcome = _CHOSEN_TIE if tie else _CHOSEN
        elif c.skip_reason:
            outcome = _passed_over(c.skip_reason)
        elif chosen_id is not None and load > chosen_load:
            outcome = _passed_over(f"higher load ({load} vs {chosen_load})")
        else:
            outcome = _SAME_LOAD
        rows.append(c.pool_row() + outcome)
    rows.extend(_json(row) for row in others)
    return "[" + ",".join(rows) + "]"


_CHOSEN = '"outcome":"chosen","reason":"lowest load"}'
_CHOSEN_TIE = '"outcome":"chosen","reason":"lowest load; tie broken by oldest last assignment"}'
_SAME_LOAD = '"outcome":"passed over","reason":"same load, assigned more recently"}'


@functools.lru_cache(maxsize=1024)
def _passed_over(reason: str) -> str:
    """The closing of a passed-over row (few distinct reasons: encoded once each)."""
    return f'"outcome":"passed over","reason":{_json(reason)}}}'


@contextmanager
def passing_over(candidates: Sequence[Candidate], *, user_id: int) -> Iterator[None]:
    """Skip ``user_id``'s candidates (as ``REASSIGNING_AWAY``) while deciding, then restore them.

    For callers that keep candidates across decisions (the stale job): each
    task skips its own current assignee only.
    """
    saved = [(c, c.skip_reason) for c in candidates if c.user_id == user_id]
    for c, _ in saved:
        c.skip_reason = REASSIGNING_AWAY
    try:
        yield
    finally:
        for c, skip in saved:
            c.skip_reason = skip


def explain_no_pick(*, territory: Territory, role: str, candidates: Sequence[Candidate]) -> str:
    """Why the round robin picked nobody, as stored on the task left unassigned."""
    return f"no eligible {TrackerRole(role).label} in {territory.name}: " + (
        "; ".join(f"{c.name} {c.skip_reason}" for c in candidates)
        if candidates
        else "nobody with that role covers the territory"
    )


def explain_pick(
    *, territory: Territory, role: str, chosen: Candidate, candidates: Sequence[Candidate]
) -> str:
    """The one-line why of a round-robin pick, as stored on the task."""
    eligible = [c for c in candidates if not c.skip_reason]
    explanation = (
        f"round robin, {territory.name}, {TrackerRole(role).label}: load {chosen.count} × "
        f"{chosen.priority} lowest of {len(eligible)} active"
    )
    load = chosen.sort_key()[0]
    if any(c.member_id != chosen.member_id and c.sort_key()[0] == load for c in eligible):
        explanation += " (tie: oldest last assignment)"
    return explanation


def on_time_off() -> Exists:
    """Annotation: the member (``pk``) is deactivated by a time off not yet ended."""
    return Exists(
        TimeOff.objects.filter(
            member=OuterRef("pk"),
            deactivated_at__isnull=False,
            reactivated_at__isnull=True,
        )
    )


def time_off_due(today: dt.date) -> Exists:
    """Annotation: a time off of the member covers ``today`` but the daily job
    has not switched them off yet (it runs at 05:00, or is late)."""
    return Exists(
        TimeOff.objects.filter(
            member=OuterRef("pk"),
            deactivated_at__isnull=True,
            leave_on__lte=today,
            ends_on__gte=today,
        )
    )


def time_off_annotations(today: dt.date) -> dict[str, Exists]:
    """Both time-off annotations, read by ``away``."""
    return {"on_time_off": on_time_off(), "time_off_due": time_off_due(today)}


def away(member: TrackerMember) -> bool:
    """Skipped for time off: within its dates before the daily job switched the
    member off, or switched off by it. A team lead who switches them back on
    by hand wins over the job's switch."""
    return away_by(
        due=bool(getattr(member, "time_off_due", False)),
        on_time_off=bool(getattr(member, "on_time_off", False)),
        active=member.is_active,
    )


def away_by(*, due: bool, on_time_off: bool, active: bool) -> bool:
    """``away`` from the flags themselves (a member read as values): ``due``, the
    ``time_off_due`` annotation; ``on_time_off``, the ``on_time_off`` one."""
    return due or (on_time_off and not active)


@dataclass
class LockedPool:
    """A territory's pool for one role, locked by the caller's transaction, as
    ``leads_lock_pool`` returns it: ``rows``, its member rows as parsed JSON
    (each with the time-off flags ``away`` reads and its ``user``'s id, name,
    email and login: the user's other fields are deferred), and how
    many members are outside the pool, by role (``_others_rows``' input:
    ``role``, ``members``).

    The decision reads the rows themselves; ``member`` builds the model
    instance of the one member it acts on. A pool at 100,000 accounts has
    about 65 members, and building all of them (member and user) took more
    Python time than the rest of the decision while every other intake of
    the territory waited for the pool's locks.
    """

    rows: list[dict[str, Any]]
    others: list[dict[str, Any]]
    _members: dict[int, TrackerMember] = field(default_factory=dict, repr=False)

    def member(self, member_id: int) -> TrackerMember:
        """The locked member ``member_id`` (``user`` loaded: id, name, email and
        ``is_active``; time-off flags set), built once."""
        member = self._members.get(member_id)
        if member is None:
            row = next(r for r in self.rows if r["id"] == member_id)
            member = from_row_json(TrackerMember, row)
            member.user = from_row_json(User, row["user"])
            member.on_time_off = row["on_time_off"]  # type: ignore[attr-defined]
            member.time_off_due = row["time_off_due"]  # type: ignore[attr-defined]
            self._members[member_id] = member
        return member


def lock_pool(*, territory: Territory, role: str, today: dt.date) -> LockedPool:
    """Lock the territory's members of ``role`` in id order, with the time-off
    flags, and read the members outside the pool: one statement, the SQL
    function ``leads_lock_pool`` (migrations leads 0008 and 0009), which intake
    also calls inside its first statement."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT leads_lock_pool(%s, %s, %s)::text", [territory.pk, role, today])
        return pool_from_json(json.loads(cursor.fetchone()[0], parse_float=Decimal))


def pool_from_json(pool: dict[str, Any]) -> LockedPool:
    """``leads_lock_pool``'s JSON (numbers parsed exactly) as a ``LockedPool``."""
    return LockedPool(rows=pool["members"], others=pool["others"])


def skip_reason(*, login_on: bool, away: bool, active: bool, book_reason: str = "") -> str:
    """Why a member is passed over before the pick ("": eligible): a login switched
    off, then time off, then an inactive member; an active one for ``book_reason``."""
    if not login_on:
        return LOGIN_OFF  # whatever the member row says: nobody can work the lead
    if away:
        return "on time off"
    return book_reason if active else "inactive"


def to_candidate(member: TrackerMember, *, book_reason: str = "") -> Candidate:
    """A member's candidate: those whose login is switched off (``member.user``
    loaded), away on time off (``away``) or inactive skip, active ones for
    ``book_reason``. The round robin, the stale job, the tracker page and
    the preview all build candidates by ``skip_reason``, so they skip the
    same members."""
    return Candidate(
        member_id=member.pk,
        user_id=member.user_id,
        name=member.user.name,
        leads=member.leads_this_month,
        adjustment=member.manual_adjustment,
        priority=member.priority,
        last_assigned_at=member.last_assigned_at,
        skip_reason=skip_reason(
            login_on=member.user.is_active,
            away=away(member),
            active=member.is_active,
            book_reason=book_reason,
        ),
    )


@functools.lru_cache(maxsize=4096)
def _row_state(
    member_id: int,
    user_id: int,
    name: str,
    leads: int,
    adjustment: int,
    priority: int,
    stamp: str | None,
    login_on: bool,
    on_time_off: bool,
    time_off_due: bool,
    active: bool,
    book_reason: str,
) -> dict[str, Any]:
    """The attributes of a pool row's candidate, with its sort key and pool row
    (``Candidate``'s own), made once per distinct row in the process; never
    changed (``_row_candidate`` copies them).

    A decision changes one member of its pool; the next decision of the
    territory finds the other 60-odd as they were, and made their candidates
    again while it held the pool's locks.
    """
    candidate = Candidate(
        member_id=member_id,
        user_id=user_id,
        name=name,
        leads=leads,
        adjustment=adjustment,
        priority=priority,
        last_assigned_at=dt.datetime.fromisoformat(stamp) if stamp is not None else None,
        skip_reason=skip_reason(
            login_on=login_on,
            away=away_by(due=time_off_due, on_time_off=on_time_off, active=active),
            active=active,
            book_reason=book_reason,
        ),
    )
    candidate.sort_key()
    candidate.pool_row()
    return candidate.__dict__


def _row_candidate(row: dict[str, Any], *, book_reason: str) -> Candidate:
    """``to_candidate`` of a member row of ``leads_lock_pool`` (its JSON, parsed)."""
    user = row["user"]
    state = _row_state(
        row["id"],
        row["user_id"],
        user["name"],
        row["leads_this_month"],
        row["manual_adjustment"],
        row["priority"],
        row["last_assigned_at"],
        user["is_active"],
        row["on_time_off"],
        row["time_off_due"],
        row["is_active"],
        book_reason,
    )
    candidate = Candidate.__new__(Candidate)
    candidate.__dict__.update(state)
    return candidate


def build_candidates(
    *,
    pool: LockedPool,
    role: str,
    lead_type: str,
    today: dt.date,
    exclude_user_ids: Sequence[int] = (),
) -> list[Candidate]:
    """Turn a locked pool's member rows into candidates with their skip reasons (books
    as of ``today``), by ``to_candidate``'s rule."""
    book_reasons: dict[int, str] = {}
    if lead_type == LeadType.PRODUCT_LED and role == TrackerRole.TAM:
        book_reasons = full_book_reasons(
            [r["user_id"] for r in pool.rows if r["is_active"]], today=today
        )
    candidates = []
    for row in pool.rows:
        candidate = _row_candidate(row, book_reason=book_reasons.get(row["user_id"], ""))
        if row["user_id"] in exclude_user_ids:
            candidate.skip_reason = REASSIGNING_AWAY
        candidates.append(candidate)
    return candidates


def _others_rows(rows: Iterable[dict[str, Any]], *, role: str) -> list[dict[str, Any]]:
    """The pool explanation's rows for the members outside the pool, one per reason
    (``leads_lock_pool``'s counts by role: ``role``, ``members``): ``members`` (how
    many), ``outcome`` and ``reason``.

    Counted, not named: a team lead reads why the lead went where it did from
    the pool's own rows, and at 100,000 accounts about 240 members are outside
    each pool; naming each one made three quarters of every task's 30 KB
    explanation, built while the pool's locks were held.
    """
    return [
        {
            "members": row["members"],
            "outcome": "passed over",
            "reason": _outside_reason(row["role"], role),
        }
        for row in rows
    ]


@functools.lru_cache(maxsize=64)
def _outside_reason(member_role: str, pool_role: str) -> str:
    """Why members outside the pool were not in it (few distinct texts: built once each)."""
    if member_role != pool_role:
        return f"wrong role ({TrackerRole(member_role).label})"
    return "not in this territory"


def refresh_period(members: Iterable[TrackerMember], *, today: dt.date) -> None:
    """Open this month's period for locked members still counting last month's leads.

    The monthly reset job does this for everyone at the start of the month;
    doing it here too means a task arriving before the job ran is still
    counted in the right month. One statement when any member is behind.
    """
    period = month_start(today)
    behind = [m for m in members if m.period < period]
    if behind:
        open_period(period=period, member_ids=[m.pk for m in behind])
        for member in behind:
            member.leads_this_month = 0
            member.manual_adjustment = 0
            member.period = period


def _refresh_pool_period(pool: LockedPool, *, today: dt.date) -> None:
    """``refresh_period`` for a locked pool's rows (the common case, no member
    behind, reads the rows and builds nothing)."""
    period = month_start(today)
    # ISO dates (YYYY-MM-DD) sort as text.
    first_day = period.isoformat()
    behind = [r for r in pool.rows if r["period"] < first_day]
    if behind:
        refresh_period([pool.member(r["id"]) for r in behind], today=today)
        for row in behind:
            row.update(leads_this_month=0, manual_adjustment=0, period=period.isoformat())


def _switch_off_pool_members_without_login(pool: LockedPool) -> None:
    """``switch_off_members_without_login`` for a locked pool (no instance built, no
    query, when every active member's login is on)."""
    stale = [r["id"] for r in pool.rows if r["is_active"] and not r["user"]["is_active"]]
    if stale:
        switch_off_members_without_login(
            [pool.member(member_id) for member_id in stale], now=timezone.now()
        )
        for row in pool.rows:
            if row["id"] in stale:
                row["is_active"] = False


def decide_round_robin(
    *,
    territory: Territory,
    lead_type: str,
    today: dt.date,
    exclude_user_ids: Sequence[int] = (),
    locked: LockedPool | None = None,
) -> tuple[TrackerMember | None, Decision]:
    """Lock the pool and decide (must run inside a transaction).

    ``locked``: the pool of this territory and the lead type's role, already
    locked by the caller's transaction (intake locks it in its first
    statement); else it is locked here.
    """
    role = LEAD_TYPE_ROLE[lead_type]
    if locked is None:
        locked = lock_pool(territory=territory, role=role, today=today)
    others = _others_rows(locked.others, role=role)
    _refresh_pool_period(locked, today=today)
    # A login switched off outside the admin: record it in the ledger now.
    _switch_off_pool_members_without_login(locked)
    candidates = build_candidates(
        pool=locked,
        role=role,
        lead_type=lead_type,
        today=today,
        exclude_user_ids=exclude_user_ids,
    )
    chosen = pick_next(candidates)
    pool = explain_pool_json(candidates=candidates, chosen=chosen, others=others)
    if chosen is None:
        reason = explain_no_pick(territory=territory, role=role, candidates=candidates)
        return None, Decision(
            assignee=None,
            member=None,
            explanation=f"unassigned: {reason}",
            pool_json=pool,
            unassigned_reason=reason,
        )
    member = locked.member(chosen.member_id)
    explanation = explain_pick(territory=territory, role=role, chosen=chosen, candidates=candidates)
    return member, Decision(
        assignee=member.user, member=member, explanation=explanation, pool_json=pool
    )
