from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0014_revenue_customer_month_billed"),
    ]

    # The per-product levels are computed straight from the adjustments now
    # (billing.summary._product_sums): their stored rows are read by nothing.
    operations = [
        migrations.RunSQL(
            "DELETE FROM billing_revenuecustomermonth WHERE product_id <> 0",
            migrations.RunSQL.noop,
        )
    ]
