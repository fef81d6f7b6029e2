from django.db import migrations, models

# A statement writing monthly revenue rows (a correction, an admin edit, an API
# call, a batch of an import) records each row's key and its amount before in
# billing_revenuesummarychange, so the refresh recomputes those accounts alone
# (billing.summary), as long as the recorded rows stay within
# billing.revenue_change_rows (10,000 unless set: the tests SET LOCAL it); past
# that (a month's import, 2,000 rows a statement) a statement marks its first
# month for every account in billing_revenuesummarydirty, as before.
CHANGE_SQL = """
CREATE FUNCTION billing_revenue_change_fits(statement_rows bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT statement_rows + (
        SELECT COUNT(*) FROM (SELECT 1 FROM billing_revenuesummarychange LIMIT limits.n + 1) c
    ) <= limits.n
    FROM (SELECT COALESCE(
        NULLIF(current_setting('billing.revenue_change_rows', true), '')::bigint, 10000
    ) AS n) limits
$$;
CREATE OR REPLACE FUNCTION billing_revenue_dirty_new() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF billing_revenue_change_fits((SELECT COUNT(*) FROM new_rows)) THEN
        INSERT INTO billing_revenuesummarychange (account_id, product_id, month, old_amount)
        SELECT account_id, product_id, month, NULL FROM new_rows
        ON CONFLICT DO NOTHING;
    ELSE
        INSERT INTO billing_revenuesummarydirty (month)
        SELECT MIN(month) FROM new_rows HAVING MIN(month) IS NOT NULL
        ON CONFLICT (month) DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION billing_revenue_dirty_old() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF billing_revenue_change_fits((SELECT COUNT(*) FROM old_rows)) THEN
        INSERT INTO billing_revenuesummarychange (account_id, product_id, month, old_amount)
        SELECT account_id, product_id, month, amount FROM old_rows
        ON CONFLICT DO NOTHING;
    ELSE
        INSERT INTO billing_revenuesummarydirty (month)
        SELECT MIN(month) FROM old_rows HAVING MIN(month) IS NOT NULL
        ON CONFLICT (month) DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
-- An update: the old rows first (a key keeps the amount it had), then the keys
-- a row moved to (no row there before: a statement's rows have distinct keys).
CREATE FUNCTION billing_revenue_dirty_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF billing_revenue_change_fits(2 * (SELECT COUNT(*) FROM old_rows)) THEN
        INSERT INTO billing_revenuesummarychange (account_id, product_id, month, old_amount)
        SELECT account_id, product_id, month, amount FROM old_rows
        ON CONFLICT DO NOTHING;
        INSERT INTO billing_revenuesummarychange (account_id, product_id, month, old_amount)
        SELECT account_id, product_id, month, NULL FROM new_rows
        ON CONFLICT DO NOTHING;
    ELSE
        INSERT INTO billing_revenuesummarydirty (month)
        SELECT MIN(month) FROM (
            SELECT month FROM old_rows UNION ALL SELECT month FROM new_rows
        ) m HAVING MIN(month) IS NOT NULL
        ON CONFLICT (month) DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
DROP TRIGGER revenue_summary_dirty_update_new ON billing_monthlyrevenue;
DROP TRIGGER revenue_summary_dirty_update_old ON billing_monthlyrevenue;
CREATE TRIGGER revenue_summary_dirty_update AFTER UPDATE ON billing_monthlyrevenue
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION billing_revenue_dirty_update();
"""

# Back to migration 0011's functions and triggers.
CHANGE_DROP = """
DROP TRIGGER revenue_summary_dirty_update ON billing_monthlyrevenue;
DROP FUNCTION billing_revenue_dirty_update();
CREATE TRIGGER revenue_summary_dirty_update_new AFTER UPDATE ON billing_monthlyrevenue
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION billing_revenue_dirty_new();
CREATE TRIGGER revenue_summary_dirty_update_old AFTER UPDATE ON billing_monthlyrevenue
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION billing_revenue_dirty_old();
CREATE OR REPLACE FUNCTION billing_revenue_dirty_new() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO billing_revenuesummarydirty (month)
    SELECT MIN(month) FROM new_rows HAVING MIN(month) IS NOT NULL
    ON CONFLICT (month) DO NOTHING;
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION billing_revenue_dirty_old() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO billing_revenuesummarydirty (month)
    SELECT MIN(month) FROM old_rows HAVING MIN(month) IS NOT NULL
    ON CONFLICT (month) DO NOTHING;
    RETURN NULL;
END
$$;
DROP FUNCTION billing_revenue_change_fits(bigint);
-- The changes recorded are lost: recompute everything at the next refresh.
INSERT INTO billing_revenuesummarydirty (month) VALUES ('1900-01-01') ON CONFLICT (month) DO NOTHING;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0015_revenue_customer_month_company_only"),
    ]

    operations = [
        migrations.CreateModel(
            name="RevenueSummaryChange",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "account_id",
                        "product_id",
                        "month",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("account_id", models.BigIntegerField()),
                ("product_id", models.IntegerField()),
                ("month", models.DateField(help_text="First day of the month.")),
                (
                    "old_amount",
                    models.DecimalField(
                        decimal_places=2,
                        help_text="Dollars; NULL: no row before.",
                        max_digits=12,
                        null=True,
                    ),
                ),
            ],
        ),
        migrations.RunSQL(CHANGE_SQL, CHANGE_DROP),
    ]
