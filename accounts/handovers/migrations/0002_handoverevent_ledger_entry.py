"""HandoverEvent inherits revopsweb.models.LedgerEntry: its ``note`` is now
``reason`` in Python, on the same column (``db_column``). State only: the
table does not change."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("handovers", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RenameField("handoverevent", "note", "reason"),
                migrations.AlterField(
                    model_name="handoverevent",
                    name="reason",
                    field=models.TextField(
                        blank=True,
                        db_column="note",
                        help_text="The note given with the step: the proposal's reason, what a "
                        "push-back needs fixed; for a checklist tick, the item and its note.",
                        verbose_name="note",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
