import django.db.models.deletion
from django.db import migrations, models

# billing_accountmonthmrr mirrors SUM(amount), COUNT(*) of billing_monthlyrevenue
# GROUP BY account_id, month. Statement-level triggers apply each statement's
# rows as signed deltas: ON CONFLICT ... DO UPDATE adds them under the row's
# lock, so two concurrent imports of one account's month both count, and keys
# are written in one order so two such statements cannot deadlock. A month
# whose last revenue row went is deleted; a TRUNCATE empties the summary too.
# revenue_rows has no CHECK (>= 0): an update's delta for the key it leaves is
# negative, and PostgreSQL checks the proposed row before it finds the conflict.
# PL/pgSQL plans a statement when it first runs it, and a transition table
# exists only for the events that define it, hence one function per event.
TRIGGERS = """
CREATE FUNCTION billing_account_month_mrr_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO billing_accountmonthmrr AS s (account_id, month, mrr, revenue_rows)
    SELECT account_id, month, sum(amount), count(*) FROM new_rows
    GROUP BY account_id, month ORDER BY account_id, month
    ON CONFLICT (account_id, month) DO UPDATE
        SET mrr = s.mrr + excluded.mrr, revenue_rows = s.revenue_rows + excluded.revenue_rows;
    RETURN NULL;
END
$$;
CREATE FUNCTION billing_account_month_mrr_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE billing_accountmonthmrr AS s
    SET mrr = s.mrr - d.mrr, revenue_rows = s.revenue_rows - d.revenue_rows
    FROM (
        SELECT account_id, month, sum(amount) AS mrr, count(*) AS revenue_rows FROM old_rows
        GROUP BY account_id, month ORDER BY account_id, month
    ) AS d
    WHERE s.account_id = d.account_id AND s.month = d.month;
    DELETE FROM billing_accountmonthmrr AS s
    USING (SELECT DISTINCT account_id, month FROM old_rows) AS d
    WHERE s.account_id = d.account_id AND s.month = d.month AND s.revenue_rows = 0;
    RETURN NULL;
END
$$;
CREATE FUNCTION billing_account_month_mrr_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO billing_accountmonthmrr AS s (account_id, month, mrr, revenue_rows)
    SELECT account_id, month, sum(amount), sum(n) FROM (
        SELECT account_id, month, amount, 1 AS n FROM new_rows
        UNION ALL
        SELECT account_id, month, -amount, -1 FROM old_rows
    ) AS changed
    GROUP BY account_id, month ORDER BY account_id, month
    ON CONFLICT (account_id, month) DO UPDATE
        SET mrr = s.mrr + excluded.mrr, revenue_rows = s.revenue_rows + excluded.revenue_rows;
    DELETE FROM billing_accountmonthmrr AS s
    USING (SELECT DISTINCT account_id, month FROM old_rows) AS d
    WHERE s.account_id = d.account_id AND s.month = d.month AND s.revenue_rows = 0;
    RETURN NULL;
END
$$;
CREATE FUNCTION billing_account_month_mrr_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- DELETE, not TRUNCATE: a TRUNCATE naming both tables (Django's flush)
    -- still has the summary open when this runs.
    DELETE FROM billing_accountmonthmrr;
    RETURN NULL;
END
$$;
CREATE TRIGGER account_month_mrr_insert AFTER INSERT ON billing_monthlyrevenue
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION billing_account_month_mrr_insert();
CREATE TRIGGER account_month_mrr_delete AFTER DELETE ON billing_monthlyrevenue
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION billing_account_month_mrr_delete();
CREATE TRIGGER account_month_mrr_update AFTER UPDATE ON billing_monthlyrevenue
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION billing_account_month_mrr_update();
CREATE TRIGGER account_month_mrr_truncate AFTER TRUNCATE ON billing_monthlyrevenue
    FOR EACH STATEMENT EXECUTE FUNCTION billing_account_month_mrr_truncate();
INSERT INTO billing_accountmonthmrr (account_id, month, mrr, revenue_rows)
SELECT account_id, month, sum(amount), count(*) FROM billing_monthlyrevenue
GROUP BY account_id, month;
"""
DROP = """
DROP TRIGGER account_month_mrr_insert ON billing_monthlyrevenue;
DROP TRIGGER account_month_mrr_delete ON billing_monthlyrevenue;
DROP TRIGGER account_month_mrr_update ON billing_monthlyrevenue;
DROP TRIGGER account_month_mrr_truncate ON billing_monthlyrevenue;
DROP FUNCTION billing_account_month_mrr_insert();
DROP FUNCTION billing_account_month_mrr_delete();
DROP FUNCTION billing_account_month_mrr_update();
DROP FUNCTION billing_account_month_mrr_truncate();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_account_plan_scale"),
        ("billing", "0005_billing_terms_from_accounts"),
    ]

    operations = [
        migrations.CreateModel(
            name="AccountMonthMrr",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("month", models.DateField(help_text="First day of the month.")),
                ("mrr", models.DecimalField(decimal_places=2, help_text="Dollars.", max_digits=14)),
                (
                    "revenue_rows",
                    models.IntegerField(
                        help_text="MonthlyRevenue rows summed (the row is deleted at 0)."
                    ),
                ),
                (
                    "account",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="monthly_mrr",
                        to="accounts.account",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        models.F("month"),
                        models.OrderBy(models.F("mrr"), descending=True),
                        models.F("account"),
                        name="account_month_mrr_rank",
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("account", "month"), name="account_month_mrr_unique"
                    )
                ],
            },
        ),
        migrations.RunSQL(TRIGGERS, DROP),
    ]
