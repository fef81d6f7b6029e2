-- The least work the database can do for one intake of a new lead, as one
-- server-side call: the rows issue 4 requires (account, contact, task with its
-- explanation and pool, created + assigned task events, ledger event, counter,
-- ownership history) and the territory's member locks, with none of the app's
-- reads for the explanation and the owner set in the account insert. Not the
-- app's code: a lower bound on what any implementation of the rule must cost,
-- measured by bench/assignment.py with pgbench beside simple-update.
CREATE OR REPLACE FUNCTION bench_minimal_intake(n bigint, terr bigint) RETURNS bigint
LANGUAGE plpgsql AS $fn$
DECLARE
  picked record;
  account_id bigint;
  contact_id bigint;
  task_id bigint;
  ts timestamptz := now();
  why text;
BEGIN
  PERFORM 1 FROM leads_trackermember tm
    JOIN leads_trackermember_territories tt ON tt.trackermember_id = tm.id
   WHERE tt.territory_id = terr AND tm.role = 'TAE'
   ORDER BY tm.id FOR UPDATE OF tm;
  SELECT tm.id, tm.user_id, tm.period,
         (tm.leads_this_month + tm.manual_adjustment) AS count, tm.priority
    INTO picked
    FROM leads_trackermember tm
    JOIN leads_trackermember_territories tt ON tt.trackermember_id = tm.id
   WHERE tt.territory_id = terr AND tm.role = 'TAE' AND tm.is_active
   ORDER BY (tm.leads_this_month + tm.manual_adjustment) * tm.priority,
            tm.last_assigned_at NULLS FIRST, tm.id
   LIMIT 1;
  why := format('round robin, territory %s, TAE: load %s × %s lowest', terr, picked.count, picked.priority);
  INSERT INTO accounts_account (name, domain, organization_id, country, region, business_type, plan,
      credit_balance, has_discount_agreement, health, owner_role, new_owner_trait, am_managed,
      is_lead, created_at, updated_at, owner_id, owner_since, territory_id, employee_count)
    VALUES ('Company ' || n, 'm' || n || '.example.com', 'domain:m' || n || '.example.com', 'DE',
      'EU', '', '', 0, false, '', 'TAE', '', false, false, ts, ts, picked.user_id, current_date,
      terr, 200)
    RETURNING id INTO account_id;
  INSERT INTO accounts_contact (name, email, title, is_champion, created_at, account_id)
    VALUES ('Lead ' || n, 'lead@m' || n || '.example.com', 'engineering', false, ts, account_id)
    RETURNING id INTO contact_id;
  INSERT INTO leads_task (source, lead_type, message, score, score_breakdown, status, assigned_at,
      last_touched_at, reassignment_count, explanation, pool, unassigned_reason,
      disqualification_reason, disqualification_comment, created_at, account_id, assignee_id,
      contact_id, territory_id, idempotency_scope, idempotency_digest)
    VALUES ('contact_form', 'new_business', '', 30,
      '{"employees": 10, "revenue": 0, "role": 10, "sub_role": 0, "country": 10}', 'new', ts, ts,
      0, why,
      jsonb_build_array(jsonb_build_object('member_id', picked.id, 'outcome', 'chosen',
        'reason', 'lowest load', 'load', picked.count * picked.priority)),
      '', '', '', ts, account_id, picked.user_id, contact_id, terr, '', '')
    RETURNING id INTO task_id;
  UPDATE leads_trackermember SET leads_this_month = leads_this_month + 1, last_assigned_at = ts
   WHERE id = picked.id;
  INSERT INTO leads_roundrobinevent (kind, delta, period, old_value, new_value, reason, created_at,
      member_id, task_id)
    VALUES ('assignment', 1, picked.period, '', '', why, ts, picked.id, task_id);
  INSERT INTO accounts_ownershipchange (new_owner_role, changed_at, effective_on, reason, source,
      account_id, new_owner_id)
    VALUES ('TAE', ts, current_date, 'Round robin with task ' || task_id || ': ' || why,
      'round robin', account_id, picked.user_id);
  INSERT INTO leads_taskevent (kind, old_value, new_value, summary, reason, occurred_at, task_id,
      assignee_id)
    VALUES ('created', '', '', 'Created from Contact form', '', ts, task_id, NULL),
           ('assigned', '', picked.user_id::text, 'Assigned', why, ts, task_id, picked.user_id);
  RETURN task_id;
END
$fn$;
