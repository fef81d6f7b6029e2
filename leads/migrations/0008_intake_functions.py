"""Intake's one-round-trip reads and locks: the SQL functions ``leads_lock_pool``
and ``leads_intake_open`` (read by ``leads.round_robin.lock_pool`` and
``leads.intake``). They find, insert, lock and read rows; the decision stays in
Python. A later change to either function is a new migration with its new text."""

from django.db import migrations

SQL = r"""
-- Intake's reads and locks before a decision, in one round trip.
--
-- These functions only find, insert, lock and read rows. They decide nothing:
-- who gets the lead (the owner, or the round robin's pick with its
-- explanation) is decided in Python, by leads.assignment and
-- leads.round_robin, from what they return.

-- The territory's round-robin pool for one role, locked: its members
-- (SELECT ... FOR UPDATE OF the member rows, in id order, so every writer
-- takes them in the same order), each with its user (no password) and the two
-- time-off flags leads.round_robin.time_off_annotations defines (on_time_off:
-- switched off by a time off not yet ended; time_off_due: a time off covers
-- p_today but the daily job has not switched the member off yet), and the
-- members outside the pool shown in the explanation (in the territory with
-- another role, or with the role elsewhere: exactly one of the two holds).
-- {"members": [...], "others": [{"pk", "name", "role"}, ...]}
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

-- One inbound lead's account, locked, with everything the decision reads.
-- p: {"organization_id", "domain", "email" (lower-cased), "slug" (the
-- territory of the lead's country and state), "lead_has_country",
-- "account" and "contact" (the new rows as leads.intake builds them, without
-- ids, territory or account), "role" (the pool's), "today"}.
-- The account is found and locked (SELECT ... FOR UPDATE: by organization id,
-- else the lowest id with the company domain, else the account the person
-- wrote from before), or inserted with its contact (a lost race on the
-- organization id raises unique_violation; the caller retries). The pool is
-- locked after the account, and only for an account without an active owner
-- (the only case in which the decision reads it; the caller locks it itself
-- if this did not). Returns, as JSON text (numbers exact):
-- {"account", "created", "territory", "territory_unknown" (an existing
-- account without territory, a lead without country: the caller finds it
-- from the account's country), "contact", "owner", "pool"}.
CREATE OR REPLACE FUNCTION leads_intake_open(p jsonb) RETURNS text
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  acc accounts_account;
  con accounts_contact;
  terr leads_territory;
  own accounts_user;
  created boolean := false;
  territory_unknown boolean := false;
  pool jsonb;
BEGIN
  IF p->>'organization_id' <> '' THEN
    SELECT * INTO acc FROM accounts_account
     WHERE organization_id = p->>'organization_id' FOR UPDATE;
  ELSIF p->>'domain' <> '' THEN
    SELECT * INTO acc FROM accounts_account
     WHERE lower(domain) = p->>'domain' ORDER BY id LIMIT 1 FOR UPDATE;
  ELSE
    SELECT * INTO acc FROM accounts_account
     WHERE id = (SELECT c.account_id FROM accounts_contact c
                  WHERE lower(c.email) = p->>'email' ORDER BY c.account_id LIMIT 1)
       FOR UPDATE;
  END IF;
  IF FOUND THEN
    IF acc.territory_id IS NOT NULL THEN
      SELECT * INTO terr FROM leads_territory WHERE id = acc.territory_id;
    ELSIF (p->>'lead_has_country')::boolean THEN
      SELECT * INTO terr FROM leads_territory WHERE slug = p->>'slug';
    ELSIF acc.country <> '' THEN
      territory_unknown := true;
    END IF;
    SELECT * INTO con FROM accounts_contact
     WHERE account_id = acc.id AND lower(email) = p->>'email' LIMIT 1;
    IF NOT FOUND THEN
      INSERT INTO accounts_contact
      SELECT r.* FROM jsonb_populate_record(NULL::accounts_contact, p->'contact'
        || jsonb_build_object('id', nextval(pg_get_serial_sequence('accounts_contact', 'id')),
                              'account_id', acc.id)) AS r
      RETURNING * INTO con;
    END IF;
  ELSE
    SELECT * INTO terr FROM leads_territory WHERE slug = p->>'slug';
    INSERT INTO accounts_account
    SELECT r.* FROM jsonb_populate_record(NULL::accounts_account, p->'account'
      || jsonb_build_object('id', nextval(pg_get_serial_sequence('accounts_account', 'id')),
                            'territory_id', terr.id)) AS r
    RETURNING * INTO acc;
    INSERT INTO accounts_contact
    SELECT r.* FROM jsonb_populate_record(NULL::accounts_contact, p->'contact'
      || jsonb_build_object('id', nextval(pg_get_serial_sequence('accounts_contact', 'id')),
                            'account_id', acc.id)) AS r
    RETURNING * INTO con;
    created := true;
  END IF;
  IF acc.owner_id IS NOT NULL THEN
    SELECT * INTO own FROM accounts_user WHERE id = acc.owner_id;
  END IF;
  IF terr.id IS NOT NULL AND (own.id IS NULL OR NOT own.is_active) THEN
    pool := leads_lock_pool(terr.id, p->>'role', (p->>'today')::date);
  END IF;
  RETURN jsonb_build_object(
    'account', to_jsonb(acc),
    'created', created,
    'territory', CASE WHEN terr.id IS NULL THEN NULL ELSE to_jsonb(terr) END,
    'territory_unknown', territory_unknown,
    'contact', to_jsonb(con),
    'owner', CASE WHEN own.id IS NULL THEN NULL ELSE to_jsonb(own) - 'password' END,
    'pool', pool)::text;
END
$fn$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0007_ledger_entry"),
        ("accounts", "0015_snapshot_week_churn_index"),
    ]

    operations = [
        migrations.RunSQL(
            SQL,
            reverse_sql="DROP FUNCTION IF EXISTS leads_intake_open(jsonb); "
            "DROP FUNCTION IF EXISTS leads_lock_pool(bigint, text, date);",
        )
    ]
