"""RoundRobinEvent and TaskEvent inherit revopsweb.models.LedgerEntry: the
ledger's ``author``/``created_at`` and the task history's ``occurred_at`` are
now ``actor`` and ``at`` in Python, on the same columns (``db_column``). State
only: the tables and the index do not change."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0006_task_kind_recommendation"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RenameField("roundrobinevent", "author", "actor"),
                migrations.RenameField("roundrobinevent", "created_at", "at"),
                migrations.AlterField(
                    model_name="roundrobinevent",
                    name="actor",
                    field=models.ForeignKey(
                        blank=True,
                        db_column="author_id",
                        help_text="Empty when the round robin or a scheduled job made the change.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="author",
                    ),
                ),
                migrations.AlterField(
                    model_name="roundrobinevent",
                    name="at",
                    field=models.DateTimeField(
                        db_column="created_at", db_index=True, verbose_name="created at"
                    ),
                ),
                migrations.AlterModelOptions(
                    name="roundrobinevent", options={"ordering": ("-at", "-id")}
                ),
                migrations.RemoveIndex(
                    model_name="taskevent", name="leads_taske_task_id_bfb94e_idx"
                ),
                migrations.RenameField("taskevent", "occurred_at", "at"),
                migrations.AlterField(
                    model_name="taskevent",
                    name="at",
                    field=models.DateTimeField(db_column="occurred_at", verbose_name="occurred at"),
                ),
                migrations.AddIndex(
                    model_name="taskevent",
                    index=models.Index(
                        fields=["task", "-at"], name="leads_taske_task_id_bfb94e_idx"
                    ),
                ),
                migrations.AlterModelOptions(
                    name="taskevent", options={"ordering": ("-at", "-id")}
                ),
            ],
            database_operations=[],
        ),
    ]
