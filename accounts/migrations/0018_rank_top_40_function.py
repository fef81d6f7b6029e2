"""The SQL function ``accounts_rank_top_40_if_unranked``, the pages' one statement
that stores a month's Top 40 when the month has none
(``accounts.segments.rank_top_accounts_if_unranked``).

The ranking stays in Python (the ORM's ``_ranked_by_mrr``, passed as the text of a
SELECT): the function only checks that the month is unranked, takes the month's
writer lock, checks again and runs the ranking into the table. It exists so that the
pages' statement is a plain call, prepared once per connection: the INSERT … SELECT
it replaces carried pghistory's context prefix as a write, so it could not be
prepared, and PostgreSQL planned the ranking's subqueries on every request (issue
20). A later change is a new migration with its new text."""

from django.db import migrations

SQL = r"""
-- p_ranking: a SELECT of (pk, mrr) rows, values written in (the caller's compiled
-- ranking, never user input), run only when p_month has no ranking. Returns the
-- rows stored: 0 when the month is ranked, or another writer holds its lock
-- (pg_try_advisory_xact_lock; a session that holds it already, refresh_top_accounts,
-- gets it again). The second check runs after the lock, on a snapshot that sees
-- what that writer committed, so two snapshots' rankings are never mixed.
CREATE OR REPLACE FUNCTION accounts_rank_top_40_if_unranked(
  p_month date, p_ranking text, p_lock_class integer, p_lock_key integer
) RETURNS integer LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  stored integer;
BEGIN
  IF EXISTS (SELECT 1 FROM accounts_topaccount WHERE month = p_month)
     OR NOT pg_try_advisory_xact_lock(p_lock_class, p_lock_key)
     OR EXISTS (SELECT 1 FROM accounts_topaccount WHERE month = p_month) THEN
    RETURN 0;
  END IF;
  EXECUTE format(
    'INSERT INTO accounts_topaccount (month, account_id, rank, arr, computed_at) '
    'SELECT $1, ranked.pk, row_number() OVER (ORDER BY ranked.mrr DESC, ranked.pk), '
    'ranked.mrr * 12, now() FROM (%s) ranked ON CONFLICT DO NOTHING',
    p_ranking
  ) USING p_month;
  GET DIAGNOSTICS stored = ROW_COUNT;
  RETURN stored;
END
$fn$;
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0017_user_ordering_name_id")]

    operations = [
        migrations.RunSQL(
            SQL,
            reverse_sql=(
                "DROP FUNCTION IF EXISTS "
                "accounts_rank_top_40_if_unranked(date, text, integer, integer);"
            ),
        )
    ]
