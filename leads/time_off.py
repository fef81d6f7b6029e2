"""Time off in the round robin: members off from the day they leave, back with a calibration.

Set-based: two statements (switch off, switch back) whatever the number of
members, each writing its ledger events with INSERT … SELECT.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from .ledger import EVENT_COLUMNS
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
           m.period, m.role, m.manual_adjustment
    FROM leads_timeoff t JOIN leads_trackermember m ON m.id = t.member_id
    WHERE t.deactivated_at IS NOT NULL AND t.reactivated_at IS NULL AND t.ends_on < %(today)s
      AND NOT EXISTS (
          SELECT 1 FROM leads_timeoff o
          WHERE o.member_id = t.member_id AND o.id <> t.id AND o.deactivated_at IS NOT NULL
            AND o.reactivated_at IS NULL AND o.ends_on >= %(today)s)
    ORDER BY t.member_id, t.id
    FOR UPDATE OF t, m
), colleagues AS (
    SELECT DISTINCT due.time_off_id, c.id AS colleague_id
    FROM due
    JOIN leads_trackermember_territories mt ON mt.trackermember_id = due.member_id
    JOIN leads_trackermember_territories ct
      ON ct.territory_id = mt.territory_id AND ct.trackermember_id <> due.member_id
    JOIN leads_trackermember c ON c.id = ct.trackermember_id AND c.role = due.role
    WHERE due.switch_back
), received AS (
    SELECT col.time_off_id, col.colleague_id, COALESCE(SUM(e.delta), 0) AS leads
    FROM colleagues col
    JOIN due ON due.time_off_id = col.time_off_id
    LEFT JOIN leads_roundrobinevent e
      ON e.member_id = col.colleague_id AND e.kind = ANY(%(lead_kinds)s)
     AND e.created_at >= due.deactivated_at AND e.created_at < %(now)s
    GROUP BY col.time_off_id, col.colleague_id
), calibration AS (
    SELECT due.time_off_id,
           CASE WHEN due.switch_back
                THEN COALESCE((SELECT ROUND(AVG(r.leads))::int FROM received r
                               WHERE r.time_off_id = due.time_off_id), 0)
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
                     THEN ': +' || marked.calibration
                          || ', the average leads territory colleagues received meanwhile'
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
      (``assignment.time_off_due``); this makes it visible as inactive.
    - On the day they return (``ends_on + 1``) they are active again and their
      manual adjustment rises by the leads their territory colleagues (same
      role, sharing a territory) received meanwhile, on average, so they are
      not flooded.
    - Only members the job switched off are switched back on; a member who was
      already inactive stays as the team lead left them. Each step is marked
      on the TimeOff row, so running twice in a day changes nothing.

    Issue 5 schedules it daily. Two statements whatever the number of members.
    """
    now = now or timezone.now()
    params: dict[str, Any] = {
        "today": today,
        "now": now,
        "activation": LedgerKind.ACTIVATION.value,
        "adjustment": LedgerKind.ADJUSTMENT.value,
        "lead_kinds": [str(k) for k in LEAD_KINDS],
    }
    with connection.cursor() as cursor:
        cursor.execute(_DEACTIVATE_SQL, params)
        off = cursor.fetchone()
        cursor.execute(_REACTIVATE_SQL, params)
        back = cursor.fetchone()
    return TimeOffResult(
        deactivated=int(off[0]) if off else 0, reactivated=int(back[0]) if back else 0
    )
