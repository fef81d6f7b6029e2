"""The churn tables move from the accounts app without moving data.

The models were accounts.* until now; their tables keep the old names
(``db_table``). Content types are relabelled so permissions follow.
"""

import django.db.models.deletion
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


MOVED_MODELS = ('churnsignal', 'churnriskflag', 'weeklystatusupdate', 'escalation', 'churnretro')


def _relabel(apps, from_label, to_label):
    """Point the moved models' content types (and so their permissions, and the
    groups and users holding those) at their new app label."""
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MOVED_MODELS:
        if not content_type.objects.filter(app_label=to_label, model=model).exists():
            content_type.objects.filter(app_label=from_label, model=model).update(app_label=to_label)


def forwards(apps, schema_editor):
    _relabel(apps, "accounts", "churn")


def backwards(apps, schema_editor):
    _relabel(apps, "churn", "accounts")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('accounts', '0008_move_handovers_and_churn_out'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # State only: the tables keep their names (db_table), no row moves.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ChurnRiskFlag',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('raised_at', models.DateTimeField(db_index=True)),
                        ('arr_at_flag', models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=14, verbose_name='ARR at flag')),
                        ('signal_kinds', models.JSONField(blank=True, default=list, help_text='Signal kinds open when the flag was raised.')),
                        ('triggers', models.TextField(verbose_name='what triggered it')),
                        ('known', models.TextField(blank=True, verbose_name='what we know')),
                        ('help_needed', models.TextField(blank=True)),
                        ('owner_actions', models.TextField(blank=True, verbose_name='what the owner is doing')),
                        ('severity', models.CharField(choices=[('elevated', 'At risk'), ('serious', 'Serious risk')], default='elevated', max_length=8)),
                        ('next_key_date', models.DateField(blank=True, null=True)),
                        ('status', models.CharField(choices=[('open', 'At risk'), ('resolved', 'Resolved (saved)'), ('churned', 'Churned'), ('removed', 'Flag removed')], default='open', max_length=8)),
                        ('closed_at', models.DateTimeField(blank=True, null=True)),
                        ('close_note', models.TextField(blank=True)),
                        ('webhook_delivered_at', models.DateTimeField(blank=True, null=True)),
                        ('webhook_error', models.CharField(blank=True, max_length=300)),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='churn_flags', to='accounts.account')),
                        ('closed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('raised_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'accounts_churnriskflag',
                        'ordering': ('-raised_at', '-id'),
                        'get_latest_by': 'raised_at',
                    },
                ),
                migrations.CreateModel(
                    name='ChurnRetro',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('what_happened', models.TextField()),
                        ('root_cause', models.CharField(choices=[('price', 'Price'), ('product', 'Product'), ('relationship', 'Relationship'), ('implementation', 'Implementation'), ('business_change', 'Business change'), ('out_of_control', 'Out of our control')], max_length=15)),
                        ('learnings', models.TextField()),
                        ('written_at', models.DateTimeField()),
                        ('written_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('flag', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='retro', to='churn.churnriskflag')),
                    ],
                    options={
                        'db_table': 'accounts_churnretro',
                    },
                ),
                migrations.CreateModel(
                    name='ChurnSignal',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('usage_drop', 'Usage down 30%+ (not seasonal)'), ('health_poor', 'Health poor 4+ weeks'), ('renewal_negative', 'Renewal < 90 days, negative engagement'), ('payment_failed', 'Payment failed, no response'), ('few_active_users', 'Only 1–2 active users'), ('no_customer_message', 'No customer message 14+ days'), ('champion_left', 'Champion left, no replacement'), ('data_export', 'Full data export requested'), ('support_spike', 'Support tickets spiking'), ('billing_visits', 'Billing page visits without context')], max_length=20)),
                        ('evidence', models.JSONField(default=dict, help_text='The figures and dates behind it.')),
                        ('detected_on', models.DateField(help_text='The day the nightly job first saw it.')),
                        ('cleared_on', models.DateField(blank=True, null=True)),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='churn_signals', to='accounts.account')),
                    ],
                    options={
                        'db_table': 'accounts_churnsignal',
                        'ordering': ('account', 'kind', '-detected_on'),
                    },
                ),
                migrations.CreateModel(
                    name='Escalation',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('team', models.CharField(choices=[('engineering', 'Engineering'), ('product', 'Product'), ('leadership', 'Leadership')], max_length=11)),
                        ('person', models.CharField(blank=True, max_length=150, verbose_name='who was pulled in')),
                        ('escalated_at', models.DateTimeField()),
                        ('note', models.TextField(blank=True)),
                        ('escalated_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('flag', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='escalations', to='churn.churnriskflag')),
                    ],
                    options={
                        'db_table': 'accounts_escalation',
                        'ordering': ('flag', 'escalated_at'),
                    },
                ),
                migrations.CreateModel(
                    name='WeeklyStatusUpdate',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('week', models.DateField(help_text='Monday of the week.')),
                        ('tried', models.TextField(verbose_name='what was tried')),
                        ('working', models.TextField(blank=True, verbose_name="what works or doesn't")),
                        ('help_needed', models.TextField(blank=True)),
                        ('trend', models.CharField(choices=[('improving', 'Improving'), ('no_change', 'No change'), ('worse', 'Getting worse')], max_length=9)),
                        ('next_key_date', models.DateField(blank=True, null=True)),
                        ('posted_at', models.DateTimeField()),
                        ('author', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('flag', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='status_updates', to='churn.churnriskflag')),
                    ],
                    options={
                        'db_table': 'accounts_weeklystatusupdate',
                        'ordering': ('flag', '-week'),
                    },
                ),
                migrations.AddConstraint(
                    model_name='churnriskflag',
                    constraint=models.UniqueConstraint(condition=models.Q(('status', 'open')), fields=('account',), name='churn_flag_one_open_per_account'),
                ),
                migrations.AddConstraint(
                    model_name='churnriskflag',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('closed_at__isnull', True), ('status', 'open')), models.Q(models.Q(('status', 'open'), _negated=True), ('closed_at__isnull', False)), _connector='OR'), name='churn_flag_closed_has_date'),
                ),
                migrations.AddIndex(
                    model_name='churnsignal',
                    index=models.Index(condition=models.Q(('cleared_on__isnull', True)), fields=['account'], name='churn_signal_open_by_account'),
                ),
                migrations.AddConstraint(
                    model_name='churnsignal',
                    constraint=models.UniqueConstraint(condition=models.Q(('cleared_on__isnull', True)), fields=('account', 'kind'), name='churn_signal_one_open_per_kind'),
                ),
                migrations.AddConstraint(
                    model_name='weeklystatusupdate',
                    constraint=models.UniqueConstraint(fields=('flag', 'week'), name='churn_status_one_per_week'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
