"""The handovers tables move from the accounts app without moving data.

The models were accounts.* until now; their tables keep the old names
(``db_table``). Content types are relabelled so permissions follow.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


MOVED_MODELS = ('handover', 'handoverevent', 'onboardingcheck')


def _relabel(apps, from_label, to_label):
    """Point the moved models' content types (and so their permissions, and the
    groups and users holding those) at their new app label."""
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MOVED_MODELS:
        if not content_type.objects.filter(app_label=to_label, model=model).exists():
            content_type.objects.filter(app_label=from_label, model=model).update(app_label=to_label)


def forwards(apps, schema_editor):
    _relabel(apps, "accounts", "handovers")


def backwards(apps, schema_editor):
    _relabel(apps, "handovers", "accounts")


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
                    name='Handover',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('from_role', models.CharField(max_length=3)),
                        ('to_role', models.CharField(max_length=3)),
                        ('reason', models.CharField(choices=[('onboarded', "Onboarded: the TAE's deal is done and the customer is onboarded"), ('fully_expanded', 'Fully expanded and committed (steady state)'), ('no_levers', 'No viable expansion levers (documented in the plan)'), ('expansion', 'Expansion opportunity identified'), ('book_over_cap', 'Book over 15 accounts at quarter start'), ('yc_plan', 'YC plan $20k–$50k goes to the YC role'), ('owner_change', 'Owner leaving or changing role'), ('unresponsive', "Account doesn't respond to outreach"), ('champion_left', 'Champion left'), ('low_engagement', 'Low user activity or poor health score'), ('dislike', "Difficult to work with / we don't get on")], max_length=20)),
                        ('reason_detail', models.TextField(blank=True)),
                        ('state', models.CharField(choices=[('proposed', 'Proposed'), ('accepted', 'Accepted'), ('pushed_back', 'Pushed back'), ('call_scheduled', 'Call scheduled'), ('call_held', 'Call held'), ('completed', 'Completed'), ('cancelled', 'Cancelled')], default='proposed', max_length=14)),
                        ('proposed_at', models.DateTimeField()),
                        ('state_changed_at', models.DateTimeField()),
                        ('pushback_reasons', models.TextField(blank=True)),
                        ('call_at', models.DateTimeField(blank=True, null=True)),
                        ('intro_sent_at', models.DateTimeField(blank=True, null=True)),
                        ('intro_note', models.CharField(blank=True, max_length=300)),
                        ('completed_at', models.DateTimeField(blank=True, null=True)),
                        ('attribution_moves_on', models.DateField(blank=True, help_text='Day quota attribution moves to the new owner (quarter end + 1 for TAM book removals).', null=True)),
                        ('quarter_end', models.DateField(blank=True, help_text='Quarter end the removal waits for (TAM managed books).', null=True)),
                        ('checklist', models.JSONField(blank=True, default=dict)),
                        ('notes', models.TextField(blank=True)),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='handovers', to='accounts.account')),
                        ('from_owner', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='outgoing_handovers', to=settings.AUTH_USER_MODEL)),
                        ('ownership_change', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='handover', to='accounts.ownershipchange')),
                        ('proposed_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('to_owner', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='incoming_handovers', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'accounts_handover',
                        'ordering': ('-proposed_at', '-id'),
                    },
                ),
                migrations.CreateModel(
                    name='HandoverEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('action', models.CharField(max_length=20)),
                        ('from_state', models.CharField(blank=True, max_length=14)),
                        ('to_state', models.CharField(blank=True, max_length=14)),
                        ('at', models.DateTimeField()),
                        ('note', models.TextField(blank=True)),
                        ('override_reason', models.TextField(blank=True, help_text="A manager's written reason for doing a blocked step.")),
                        ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('handover', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='handovers.handover')),
                    ],
                    options={
                        'db_table': 'accounts_handoverevent',
                        'ordering': ('at', 'id'),
                    },
                ),
                migrations.CreateModel(
                    name='OnboardingCheck',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('section', models.CharField(max_length=40)),
                        ('item', models.CharField(max_length=40)),
                        ('checked_at', models.DateTimeField()),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='onboarding_checks', to='accounts.account')),
                        ('checked_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'accounts_onboardingcheck',
                        'ordering': ('account', 'section', 'item'),
                    },
                ),
                migrations.AddIndex(
                    model_name='handover',
                    index=models.Index(fields=['state', '-proposed_at'], name='accounts_ha_state_607bee_idx'),
                ),
                migrations.AddConstraint(
                    model_name='handover',
                    constraint=models.UniqueConstraint(condition=models.Q(('state__in', ['proposed', 'accepted', 'pushed_back', 'call_scheduled', 'call_held'])), fields=('account',), name='handover_one_open_per_account'),
                ),
                migrations.AddConstraint(
                    model_name='onboardingcheck',
                    constraint=models.UniqueConstraint(fields=('account', 'section', 'item'), name='onboarding_check_unique'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
