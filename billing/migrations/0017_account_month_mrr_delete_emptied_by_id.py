from django.db import migrations

# The delete and update triggers of billing_accountmonthmrr (migrations 0006,
# 0013) removed the account-months left without revenue rows by joining the
# summary to the statement's old rows on "revenue_rows = 0". The planner
# estimates that filter from statistics taken before the statement emptied
# any month (almost no row is 0), so for a large statement it may put the
# summary on the outside of a nested loop over every old key: the rows of a
# whole month (270,000 rows, 90,000 accounts) deleted at once ran for minutes.
# The rows the statement emptied are known exactly, from the update's own
# RETURNING: they are deleted by id.
FUNCTIONS = """
CREATE OR REPLACE FUNCTION billing_account_month_mrr_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    emptied bigint[];
BEGIN
    WITH changed AS (
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
        WHERE s.account_id = d.account_id AND s.month = d.month
        RETURNING s.id, s.revenue_rows
    )
    SELECT array_agg(id) INTO emptied FROM changed WHERE revenue_rows = 0;
    DELETE FROM billing_accountmonthmrr WHERE id = ANY(emptied);
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION billing_account_month_mrr_update() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    emptied bigint[];
BEGIN
    WITH changed AS (
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
                billed_product_id_sum = s.billed_product_id_sum + excluded.billed_product_id_sum
        RETURNING s.id, s.revenue_rows
    )
    SELECT array_agg(id) INTO emptied FROM changed WHERE revenue_rows = 0;
    DELETE FROM billing_accountmonthmrr WHERE id = ANY(emptied);
    RETURN NULL;
END
$$;
"""

# Migration 0013's functions.
PREVIOUS = """
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


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0016_revenue_summary_change"),
    ]

    operations = [
        migrations.RunSQL(FUNCTIONS, PREVIOUS),
    ]
