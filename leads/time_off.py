"""Time off in the round robin: members off from the day they leave, back with a calibration.

Set-based: three statements (open the current period for members behind,
switch off, switch back) whatever the number of members, each writing its
ledger events with INSERT … SELECT.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from revopsweb.dates import month_start

from .ledger import EVENT_COLUMNS, open_period
from .models import LEAD_KINDS, LedgerKind


@dataclass(frozen=True)
class TimeOffResult:
    deactivated: int
    reactivated: int


_DEACTIVATE_SQL = f"""
WITH due AS (
    SELECT t.id AS time_off_id, t.member_id, m.is_active, m.period, t.starts_on, t.ends_on
    FROM leads_timeoff t JOIN leads_trackermember m ON m.id = t.member_id
    WHERE t.deactivated_at IS NULL
      AND t.ends_on >= %(today)s
      AND t.leave_on <= %(today)s
    ORDER BY t.member_id, t.id
    FOR UPDATE OF t, m
), marked AS (
    UPDATE leads_timeoff t
    SET deactivated_at = %(now)s, deactivated_member = due.is_active
    FROM due WHERE t.id = due.time_off_id
    RETURNING t.id, t.member_id, t.deactivated_member
), switched AS (
    UPDATE leads_trackermember m SET is_active = false
    FROM (SELECT DISTINCT member_id FROM marked WHERE deactivated_member) d
    WHERE m.id = d.member_id
    RETURNING m.id
), ins AS (
    INSERT INTO leads_roundrobinevent ({EVENT_COLUMNS})
    SELECT due.member_id, %(activation)s, NULL, 0, due.period, 'active', 'inactive', NULL,
           'time off ' || due.starts_on || ' – ' || due.ends_on || ': off from today', NULL,
           %(now)s
    FROM due JOIN marked ON marked.id = due.time_off_id
    WHERE marked.deactivated_member
    RETURNING member_id
)
SELECT count(DISTINCT member_id) FROM ins
"""

_REACTIVATE_SQL = f"""
WITH due AS (
    SELECT t.id AS time_off_id, t.member_id, t.deactivated_at, t.starts_on, t.ends_on,
           t.deactivated_member AND NOT m.is_active AS switch_back,
           m.period, m.role, m.manual_adjustment, m.leads_this_month, m.priority
    FROM leads_timeoff t JOIN leads_trackermember m ON m.id = t.member_id
    WHERE t.deactivated_at IS NOT NULL AND t.reactivated_at IS NULL AND t.ends_on < %(today)s
      AND NOT EXISTS (
          SELECT 1 FROM leads_timeoff o
          WHERE o.member_id = t.member_id AND o.id <> t.id AND o.deactivated_at IS NOT NULL
            AND o.reactivated_at IS NULL AND o.ends_on >= %(today)s)
    ORDER BY t.member_id, t.id
    FOR UPDATE OF t, m
), colleagues AS (
    -- Colleagues present in the current period, as for a joiner's prefill
    -- (leads.tracker.present_colleague_loads): same role, sharing a territory,
    -- active in the tracker with their login on, counting this month, and not
    -- away (leads.round_robin.away: an active member is away only while a time
    -- off is due and not yet applied; one switched back on by hand takes leads
    -- again). Their load is (leads + adjustment) × priority.
    SELECT DISTINCT due.time_off_id, c.id AS colleague_id,
           (c.leads_this_month + c.manual_adjustment) * c.priority AS load
    FROM due
    JOIN leads_trackermember_territories mt ON mt.trackermember_id = due.member_id
    JOIN leads_trackermember_territories ct
      ON ct.territory_id = mt.territory_id AND ct.trackermember_id <> due.member_id
    JOIN leads_trackermember c
      ON c.id = ct.trackermember_id AND c.role = due.role AND c.is_active
     AND c.period = %(period)s
    JOIN accounts_user u ON u.id = c.user_id AND u.is_active
    WHERE due.switch_back
      AND NOT EXISTS (
          SELECT 1 FROM leads_timeoff o
          WHERE o.member_id = c.id AND o.deactivated_at IS NULL
            AND o.leave_on <= %(today)s AND o.ends_on >= %(today)s)
), calibration AS (
    -- Level with them at the member's own rate: count = average load ÷
    -- priority (leads.tracker.level_count), minus what the member counts now.
    SELECT due.time_off_id,
           CASE WHEN due.switch_back
                THEN COALESCE(
                    (SELECT ROUND(AVG(col.load) / due.priority)::int FROM colleagues col
                     WHERE col.time_off_id = due.time_off_id)
                    - (due.leads_this_month + due.manual_adjustment), 0)
           END AS leads
    FROM due
), marked AS (
    UPDATE leads_timeoff t SET reactivated_at = %(now)s, calibration = cal.leads
    FROM calibration cal WHERE t.id = cal.time_off_id
    RETURNING t.id, t.member_id, t.calibration
), back AS (
    UPDATE leads_trackermember m
    SET is_active = true, manual_adjustment = m.manual_adjustment + marked.calibration
    FROM marked WHERE m.id = marked.member_id AND marked.calibration IS NOT NULL
    RETURNING m.id
), ins AS (
    INSERT INTO leads_roundrobinevent ({EVENT_COLUMNS})
    SELECT due.member_id, k.kind, NULL,
           CASE WHEN k.kind = %(adjustment)s THEN marked.calibration ELSE 0 END,
           due.period,
           CASE WHEN k.kind = %(adjustment)s THEN due.manual_adjustment::text ELSE 'inactive' END,
           CASE WHEN k.kind = %(adjustment)s
                THEN (due.manual_adjustment + marked.calibration)::text ELSE 'active' END,
           NULL,
           'back from time off ' || due.starts_on || ' – ' || due.ends_on
             || CASE WHEN k.kind = %(adjustment)s
                     THEN ': ' || CASE WHEN marked.calibration > 0 THEN '+' ELSE '' END
                          || marked.calibration
                          || ', level with the colleagues present this month'
                          || ' (their average load ÷ priority ' || due.priority || ')'
                     ELSE '' END,
           NULL, %(now)s
    FROM due
    JOIN marked ON marked.id = due.time_off_id
    CROSS JOIN (VALUES (%(activation)s), (%(adjustment)s)) AS k(kind)
    WHERE marked.calibration IS NOT NULL
      AND (k.kind = %(activation)s OR marked.calibration <> 0)
    RETURNING member_id
)
SELECT count(DISTINCT member_id) FROM ins
"""


@transaction.atomic
def apply_time_off(*, today: dt.date, now: dt.datetime | None = None) -> TimeOffResult:
    """Switch members off and on by their recorded time off. Set-based, idempotent.

    - A member is inactive from the day they leave (``TimeOff.leave_on``:
      ``starts_on``, or two days earlier when the absence is longer than five
      days). The round robin already skips them from that day
      (``round_robin.time_off_due``); this makes it visible as inactive.
    - On the day they return (``ends_on + 1``) they are active again and their
      manual adjustment brings them level with the colleagues present this
      month (same role, sharing a territory, active, login on, not away): their
      count becomes the colleagues' average load ÷ their own priority
      (``leads.tracker.level_count``), so they are neither flooded nor starved
      (revops/lead-assignment-tracker, "Calibration after time off"). Within
      one month that is what colleagues received meanwhile; across the 1st it
      is only this month's leads, since the reset zeroed everyone's count (away
      23 Nov – 4 Dec, colleagues at 2 on 5 Dec: +2, not the 12 they received).
      The current period is opened first for members still in an older one, so
      the calibration is not wiped by a late monthly reset.
    - Only members the job switched off are switched back on; a member who was
      already inactive stays as the team lead left them. Each step is marked
      on the TimeOff row, so running twice in a day changes nothing.

    Issue 5 schedules it daily. Three statements whatever the number of members.
    """
    now = now or timezone.now()
    params: dict[str, Any] = {
        "today": today,
        "now": now,
        "activation": LedgerKind.ACTIVATION.value,
        "adjustment": LedgerKind.ADJUSTMENT.value,
        "lead_kinds": [str(k) for k in LEAD_KINDS],
    }
    params["period"] = month_start(today)
    open_period(period=params["period"], now=now)
    with connection.cursor() as cursor:
        cursor.execute(_DEACTIVATE_SQL, params)
        off = cursor.fetchone()
        cursor.execute(_REACTIVATE_SQL, params)
        back = cursor.fetchone()
    return TimeOffResult(
        deactivated=int(off[0]) if off else 0, reactivated=int(back[0]) if back else 0
    )
