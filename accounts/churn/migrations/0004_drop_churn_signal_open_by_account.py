"""Drop churn_signal_open_by_account: the unique partial index of
churn_signal_one_open_per_kind, (account, kind) where cleared_on is null, leads
with the account under the same condition, so it serves every lookup the
dropped one did; the nightly signal job wrote both for each signal it opened
(issue 20: its first pass over the 100,000-account seed, 52,779 signals
opened, spent 0.68-0.71 s of backend CPU reconciling without the index against
0.81-0.85 s with it)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("churn", "0003_signal_kinds_recommendation_single_product_warehouse"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="churnsignal",
            name="churn_signal_open_by_account",
        ),
    ]
