"""``leads_lock_pool`` counts the members outside the pool by role instead of listing them,
and sends four columns of each member's user instead of the whole row.

The explanation now says how many members were outside the pool and why (in
the territory with another role, or with the role elsewhere), not who each
one was: at 100,000 accounts every decision listed about 240 of them, three
quarters of the 30 KB explanation a task stores, parsed and encoded again by
Python while every other intake of the territory waited for the pool's locks.
Of each member's user only id, name, email and is_active are sent (the
decision reads the name and the login; intake's reply the assignee's id, name
and email): the user's whole row was half of the 40 KB reply Python parses
under the same locks. The locks are as in 0009; the others are still counted
first, before any lock.
"""

from django.db import migrations

SQL = r"""
-- The territory's round-robin pool for one role, locked, as in 0009: its
-- members (SELECT ... FOR UPDATE OF the member rows, in id order, so every
-- writer takes them in the same order), each with the four columns of its
-- user the decision and intake's reply read (id, name, email, is_active) and
-- the two time-off flags leads.round_robin.time_off_annotations defines
-- (on_time_off: switched off by a time off not yet ended; time_off_due: a
-- time off covers p_today but the daily job has not switched the member off
-- yet), and how many members are outside the pool, by role (another role:
-- in the territory; the pool's role: not in the territory; exactly one of the
-- two holds for each member outside it).
-- {"members": [...], "others": [{"role", "members"}, ...]}
--
-- The others are counted first, before any lock: the explanation shows their
-- counts, the decision never reads them, and every other writer of this pool
-- waits for its locks until the commit.
CREATE OR REPLACE FUNCTION leads_lock_pool(p_territory bigint, p_role text, p_today date)
RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  others jsonb;
  members jsonb;
BEGIN
  SELECT coalesce(jsonb_agg(jsonb_build_object('role', o.role, 'members', o.members)
                            ORDER BY o.role), '[]'::jsonb)
    INTO others
    FROM (SELECT m.role, count(*) AS members
            FROM leads_trackermember m
           CROSS JOIN LATERAL (SELECT EXISTS (
             SELECT 1 FROM leads_trackermember_territories t
              WHERE t.trackermember_id = m.id AND t.territory_id = p_territory)) AS here(covers)
           WHERE (m.role = p_role) <> here.covers
           GROUP BY m.role) AS o;
  WITH pool AS (
    SELECT m.id,
           to_jsonb(m) || jsonb_build_object(
             'user', jsonb_build_object('id', u.id, 'name', u.name, 'email', u.email,
                                        'is_active', u.is_active),
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

# 0009's text of the function, put back on the way down.
REVERSE_SQL = r"""
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


class Migration(migrations.Migration):
    dependencies = [("leads", "0010_drop_indexes_covered_by_composites")]

    operations = [migrations.RunSQL(SQL, reverse_sql=REVERSE_SQL)]
