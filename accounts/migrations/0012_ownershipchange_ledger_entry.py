"""OwnershipChange inherits revopsweb.models.LedgerEntry: ``changed_by`` and
``changed_at`` are now ``actor`` and ``at`` in Python, on the same columns
(``db_column``). State only: the table does not change."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0011_snapshot_warehouse_export_rows"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RenameField("ownershipchange", "changed_by", "actor"),
                migrations.RenameField("ownershipchange", "changed_at", "at"),
                migrations.AlterField(
                    model_name="ownershipchange",
                    name="actor",
                    field=models.ForeignKey(
                        blank=True,
                        db_column="changed_by_id",
                        help_text="Empty when a scheduled job or the round robin made the change.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="changed by",
                    ),
                ),
                migrations.AlterField(
                    model_name="ownershipchange",
                    name="at",
                    field=models.DateTimeField(
                        db_column="changed_at", db_index=True, verbose_name="changed at"
                    ),
                ),
                migrations.AlterModelOptions(
                    name="ownershipchange",
                    options={"get_latest_by": "at", "ordering": ("-at", "-id")},
                ),
            ],
            database_operations=[],
        ),
    ]
