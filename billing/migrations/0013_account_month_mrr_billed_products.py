from django.db import migrations, models

# billing_accountmonthmrr also counts the month's billed products (revenue rows
# with amount > 0; a revenue row is one product, monthly_revenue_unique) and
# sums their product ids, which is the product's id when the count is 1: the
# single-product churn signal reads one month of the summary instead of the
# revenue table. Both are signed deltas like mrr and revenue_rows, so the same
# statement-level triggers (migration 0006) keep them exact for every writer;
# the functions are replaced with the same shape plus the two columns.
TRIGGERS = """
CREATE OR REPLACE FUNCTION billing_account_month_mrr_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO billing_accountmonthmrr AS s
        (account_id, month, mrr, revenue_rows, billed_products, billed_product_id_sum)
    SELECT account_id, month, sum(amount), count(*),
           count(*) FILTER (WHERE amount > 0),
           coalesce(sum(product_id) FILTER (WHERE amount > 0), 0)
    FROM new_rows
    GROUP BY account_id, month ORDER BY account_id, month
    ON CONFLICT (account_id, month) DO UPDATE
        SET mrr = s.mrr + excluded.mrr, revenue_rows = s.revenue_rows + excluded.revenue_rows,
            billed_products = s.billed_products + excluded.billed_products,
            billed_product_id_sum = s.billed_product_id_sum + excluded.billed_product_id_sum;
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION billing_account_month_mrr_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE billing_accountmonthmrr AS s
    SET mrr = s.mrr - d.mrr, revenue_rows = s.revenue_rows - d.revenue_rows,
        billed_products = s.billed_products - d.billed_products,
        billed_product_id_sum = s.billed_product_id_sum - d.billed_product_id_sum
    FROM (
        SELECT account_id, month, sum(amount) AS mrr, count(*) AS revenue_rows,
               count(*) FILTER (WHERE amount > 0) AS billed_products,
               coalesce(sum(product_id) FILTER (WHERE amount > 0), 0) AS billed_product_id_sum
        FROM old_rows
        GROUP BY account_id, month ORDER BY account_id, month
    ) AS d
    WHERE s.account_id = d.account_id AND s.month = d.month;
    DELETE FROM billing_accountmonthmrr AS s
    USING (SELECT DISTINCT account_id, month FROM old_rows) AS d
    WHERE s.account_id = d.account_id AND s.month = d.month AND s.revenue_rows = 0;
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION billing_account_month_mrr_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO billing_accountmonthmrr AS s
        (account_id, month, mrr, revenue_rows, billed_products, billed_product_id_sum)
    SELECT account_id, month, sum(amount), sum(n), sum(billed), sum(billed_id) FROM (
        SELECT account_id, month, amount, 1 AS n,
               CASE WHEN amount > 0 THEN 1 ELSE 0 END AS billed,
               CASE WHEN amount > 0 THEN product_id ELSE 0 END AS billed_id
        FROM new_rows
        UNION ALL
        SELECT account_id, month, -amount, -1,
               CASE WHEN amount > 0 THEN -1 ELSE 0 END,
               CASE WHEN amount > 0 THEN -product_id ELSE 0 END
        FROM old_rows
    ) AS changed
    GROUP BY account_id, month ORDER BY account_id, month
    ON CONFLICT (account_id, month) DO UPDATE
        SET mrr = s.mrr + excluded.mrr, revenue_rows = s.revenue_rows + excluded.revenue_rows,
            billed_products = s.billed_products + excluded.billed_products,
            billed_product_id_sum = s.billed_product_id_sum + excluded.billed_product_id_sum;
    DELETE FROM billing_accountmonthmrr AS s
    USING (SELECT DISTINCT account_id, month FROM old_rows) AS d
    WHERE s.account_id = d.account_id AND s.month = d.month AND s.revenue_rows = 0;
    RETURN NULL;
END
$$;
UPDATE billing_accountmonthmrr AS s
SET billed_products = r.billed_products, billed_product_id_sum = r.billed_product_id_sum
FROM (
    SELECT account_id, month, count(*) AS billed_products,
           sum(product_id) AS billed_product_id_sum
    FROM billing_monthlyrevenue WHERE amount > 0
    GROUP BY account_id, month
) AS r
WHERE s.account_id = r.account_id AND s.month = r.month;
"""
# Back to migration 0006's functions before the columns go.
PREVIOUS = """
CREATE OR REPLACE FUNCTION billing_account_month_mrr_insert() RETURNS trigger
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
CREATE OR REPLACE FUNCTION billing_account_month_mrr_delete() RETURNS trigger
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
CREATE OR REPLACE FUNCTION billing_account_month_mrr_update() RETURNS trigger
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
"""


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0012_revenue_customer_month"),
    ]

    operations = [
        migrations.AddField(
            model_name="accountmonthmrr",
            name="billed_products",
            field=models.IntegerField(
                db_default=0,
                help_text="Products billed this month: revenue rows with amount > 0.",
            ),
        ),
        migrations.AddField(
            model_name="accountmonthmrr",
            name="billed_product_id_sum",
            field=models.BigIntegerField(
                db_default=0,
                help_text="Sum of the billed products' ids (the product's id when exactly one).",
            ),
        ),
        migrations.RunSQL(TRIGGERS, PREVIOUS),
    ]
