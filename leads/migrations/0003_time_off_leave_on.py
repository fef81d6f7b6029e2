import datetime as dt

from django.db import migrations, models

# Frozen copy of TimeOff.leave_on_for at the time of this migration.
LONG_ABSENCE_DAYS = 5
EARLY_LEAVE_DAYS = 2


def fill_leave_on(apps, schema_editor):
    TimeOff = apps.get_model("leads", "TimeOff")
    rows = list(TimeOff.objects.all())
    for row in rows:
        days = (row.ends_on - row.starts_on).days + 1
        early = EARLY_LEAVE_DAYS if days > LONG_ABSENCE_DAYS else 0
        row.leave_on = row.starts_on - dt.timedelta(days=early)
    TimeOff.objects.bulk_update(rows, ["leave_on"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0002_tracker_tasks_ledger"),
    ]

    operations = [
        migrations.AddField(
            model_name="timeoff",
            name="leave_on",
            field=models.DateField(editable=False, null=True),
        ),
        migrations.RunPython(fill_leave_on, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="timeoff",
            name="leave_on",
            field=models.DateField(editable=False),
        ),
    ]
