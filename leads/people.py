"""Work goes only to people who can do it: a switched-off login leaves the round robin.

A person whose login is switched off (``User.is_active`` false, in the admin or
anywhere else) cannot work a lead, so:

- ``remove_from_round_robins`` switches off their tracker member row (one
  per person, covering all their territories) with an ACTIVATION ledger event (the admin calls it when the box is
  unticked);
- whatever way the login was switched off, the round robin, the stale job's
  reassignment and the preview pass such a member over (``LOGIN_OFF``, see
  ``leads.round_robin.to_candidate``), and the first assignment that locks
  them writes the same ledger event (``switch_off_members_without_login``);
- a task on an account whose owner's login is off is routed as if the account
  were unowned: the territory's round robin picks (``leads.assignment``).

Switching the login back on does not put anyone back in a round robin: a team
lead ticks "active" on the tracker page (with a manual adjustment if needed),
as after any pause (revops/lead-assignment-tracker, "Is Active").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from accounts.models import User

from .models import LedgerKind, RoundRobinEvent, TrackerMember

LOGIN_OFF = "login switched off"


def _switch_off(
    members: Sequence[TrackerMember], *, author: User | None, reason: str, now: dt.datetime
) -> list[RoundRobinEvent]:
    """Set ``members`` (locked by the caller) inactive with one ACTIVATION event each."""
    if not members:
        return []
    TrackerMember.objects.filter(pk__in=[m.pk for m in members]).update(is_active=False)
    events = RoundRobinEvent.objects.bulk_create(
        RoundRobinEvent(
            member=m,
            kind=LedgerKind.ACTIVATION,
            delta=0,
            period=m.period,
            old_value="active",
            new_value="inactive",
            actor=author,
            reason=reason,
            at=now,
        )
        for m in members
    )
    for m in members:
        m.is_active = False
    return events


@transaction.atomic
def remove_from_round_robins(
    *, user: User, author: User | None, reason: str = "", now: dt.datetime | None = None
) -> list[RoundRobinEvent]:
    """Take ``user`` out of every round robin they are in (their tracker member
    row covers all their territories): an active row goes inactive with an ACTIVATION ledger event
    (who, when, why). Locks the rows, so a concurrent assignment either sees
    them active before or inactive after. Idempotent: rows already inactive
    are left alone and a second call returns [].
    """
    now = now or timezone.now()
    members = list(
        TrackerMember.objects.select_for_update()
        .filter(user=user, is_active=True)
        .order_by("pk")  # the round robin's lock order
    )
    why = f"{LOGIN_OFF}: {reason}" if reason else LOGIN_OFF
    return _switch_off(members, author=author, reason=why, now=now)


def switch_off_members_without_login(
    members: Sequence[TrackerMember], *, now: dt.datetime
) -> list[RoundRobinEvent]:
    """For members the caller holds locked (with ``user`` loaded): record the
    switch-off of those still active whose login was turned off elsewhere
    than in the admin (shell, bulk update). No query when there are none."""
    stale = [m for m in members if m.is_active and not m.user.is_active]
    return _switch_off(
        stale, author=None, reason=f"{LOGIN_OFF} (found by the round robin)", now=now
    )
