"""``leads_lock_pool`` reads the members outside the pool before it locks the pool's members.

Those rows (who is in the territory with another role, or has the role
elsewhere) are only shown in the explanation. Read after the lock, as 0008 did,
their aggregate ran while every other intake of the territory waited: at
100,000 accounts (about 65 members in a pool and 240 outside it) it was most
of the function's time. Same arguments, same result; the locks are taken in
the same order."""

from django.db import migrations

SQL = r"""
-- The territory's round-robin pool for one role, locked, as in 0008: its
-- members (SELECT ... FOR UPDATE OF the member rows, in id order, so every
-- writer takes them in the same order), each with its user (no password) and
-- the two time-off flags leads.round_robin.time_off_annotations defines
-- (on_time_off: switched off by a time off not yet ended; time_off_due: a
-- time off covers p_today but the daily job has not switched the member off
-- yet), and the members outside the pool shown in the explanation (in the
-- territory with another role, or with the role elsewhere: exactly one of the
-- two holds).
-- {"members": [...], "others": [{"pk", "name", "role"}, ...]}
--
-- The others are read first, before any lock: the explanation lists them,
-- the decision never reads them, and every other writer of this pool waits
-- for its locks until the commit.
CREATE OR REPLACE FUNCTION leads_lock_pool(p_territory bigint, p_role text, p_today date)
RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  others jsonb;
  members jsonb;
BEGIN
  SELECT coalesce(jsonb_agg(jsonb_build_object('pk', m.id, 'name', u.name, 'role', m.role)
                            ORDER BY m.id), '[]'::jsonb)
    INTO others
    FROM leads_trackermember m JOIN accounts_user u ON u.id = m.user_id
   CROSS JOIN LATERAL (SELECT EXISTS (
     SELECT 1 FROM leads_trackermember_territories t
      WHERE t.trackermember_id = m.id AND t.territory_id = p_territory)) AS here(covers)
   WHERE (m.role = p_role) <> here.covers;
  WITH pool AS (
    SELECT m.id,
           to_jsonb(m) || jsonb_build_object(
             'user', to_jsonb(u) - 'password',
             'on_time_off', EXISTS (
               SELECT 1 FROM leads_timeoff o
                WHERE o.member_id = m.id AND o.deactivated_at IS NOT NULL
                  AND o.reactivated_at IS NULL),
             'time_off_due', EXISTS (
               SELECT 1 FROM leads_timeoff o
                WHERE o.member_id = m.id AND o.deactivated_at IS NULL
                  AND o.leave_on <= p_today AND o.ends_on >= p_today)) AS row
      FROM leads_trackermember m
      JOIN leads_trackermember_territories t
        ON t.trackermember_id = m.id AND t.territory_id = p_territory
      JOIN accounts_user u ON u.id = m.user_id
     WHERE m.role = p_role
     ORDER BY m.id
       FOR UPDATE OF m
  )
  SELECT coalesce(jsonb_agg(row ORDER BY id), '[]'::jsonb) INTO members FROM pool;
  RETURN jsonb_build_object('members', members, 'others', others);
END
$fn$;
"""

# 0008's text of the function, put back on the way down.
REVERSE_SQL = r"""
CREATE OR REPLACE FUNCTION leads_lock_pool(p_territory bigint, p_role text, p_today date)
RETURNS jsonb LANGUAGE sql VOLATILE AS $fn$
  WITH pool AS (
    SELECT m.id,
           to_jsonb(m) || jsonb_build_object(
             'user', to_jsonb(u) - 'password',
             'on_time_off', EXISTS (
               SELECT 1 FROM leads_timeoff o
                WHERE o.member_id = m.id AND o.deactivated_at IS NOT NULL
                  AND o.reactivated_at IS NULL),
             'time_off_due', EXISTS (
               SELECT 1 FROM leads_timeoff o
                WHERE o.member_id = m.id AND o.deactivated_at IS NULL
                  AND o.leave_on <= p_today AND o.ends_on >= p_today)) AS row
      FROM leads_trackermember m
      JOIN leads_trackermember_territories t
        ON t.trackermember_id = m.id AND t.territory_id = p_territory
      JOIN accounts_user u ON u.id = m.user_id
     WHERE m.role = p_role
     ORDER BY m.id
       FOR UPDATE OF m
  )
  SELECT jsonb_build_object(
    'members', coalesce((SELECT jsonb_agg(row ORDER BY id) FROM pool), '[]'::jsonb),
    'others', (
      SELECT coalesce(jsonb_agg(jsonb_build_object('pk', m.id, 'name', u.name, 'role', m.role)
                                ORDER BY m.id), '[]'::jsonb)
        FROM leads_trackermember m JOIN accounts_user u ON u.id = m.user_id
       CROSS JOIN LATERAL (SELECT EXISTS (
         SELECT 1 FROM leads_trackermember_territories t
          WHERE t.trackermember_id = m.id AND t.territory_id = p_territory)) AS here(covers)
       WHERE (m.role = p_role) <> here.covers))
$fn$;
"""


class Migration(migrations.Migration):
    dependencies = [("leads", "0008_intake_functions")]

    operations = [migrations.RunSQL(SQL, reverse_sql=REVERSE_SQL)]
