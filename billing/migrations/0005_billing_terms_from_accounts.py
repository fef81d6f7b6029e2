"""Move the billing terms typed on accounts into the fact tables (issue 17).

Nothing is lost: every account with a credit balance or expiry, an annual
discount, a trial end or a forecast MRR gets a fact row that projects back to
the same column values (billing.terms.refresh_account_terms). What the account
columns never held is filled in and said so in the row's notes where the model
has notes:

- credit grant: kind startup for startup-plan accounts, else enterprise; granted
  a year before expiry (the 12-month credit term), amount = the balance; an
  expiry that was empty becomes a year after the account was created;
- annual contract: the year up to the renewal date (else from the account's
  creation), amount unknown (0), discount in percent;
- trial: billing-admin free usage ending on ``trial_ends_on``, starting on the
  account's creation day (or the end day, if created later);
- forecast MRR: for the account's current period (else the month of migration's
  last day).

Duplicate one-time credits (same account, month and reason) are merged into one
(amounts added, notes joined) before their natural key becomes unique.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import migrations, models

MIGRATED = "Migrated from the account's fields (issue 17): {what}"


def _year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _year_after(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def forwards(apps: Any, schema_editor: Any) -> None:
    account_model = apps.get_model("accounts", "Account")
    credit = apps.get_model("billing", "OneTimeCredit")
    grant = apps.get_model("billing", "CreditGrant")
    contract = apps.get_model("billing", "AnnualContract")
    trial = apps.get_model("billing", "Trial")
    forecast = apps.get_model("billing", "ForecastMrr")
    today = dt.date.today()

    duplicates = (
        credit.objects.values("account_id", "month", "reason")
        .annotate(n=models.Count("id"))
        .filter(n__gt=1)
    )
    for key in duplicates:
        rows = list(
            credit.objects.filter(
                account_id=key["account_id"], month=key["month"], reason=key["reason"]
            ).order_by("id")
        )
        keep, rest = rows[0], rows[1:]
        keep.amount = sum((r.amount for r in rows), Decimal(0))
        keep.notes = "\n".join(r.notes for r in rows if r.notes)
        keep.reference_url = keep.reference_url or next(
            (r.reference_url for r in rest if r.reference_url), ""
        )
        keep.save(update_fields=["amount", "notes", "reference_url"])
        credit.objects.filter(pk__in=[r.pk for r in rest]).delete()

    accounts = account_model.objects.filter(
        models.Q(credit_balance__gt=0)
        | models.Q(credit_expires_on__isnull=False)
        | models.Q(annual_discount__isnull=False)
        | models.Q(trial_ends_on__isnull=False)
        | models.Q(forecasted_mrr__isnull=False)
    ).iterator(chunk_size=2000)
    grants, contracts, trials, forecasts = [], [], [], []
    for a in accounts:
        created = a.created_at.date()
        if a.credit_balance > 0 or a.credit_expires_on is not None:
            expires = a.credit_expires_on or _year_after(created)
            balance = max(a.credit_balance, Decimal(0))
            grants.append(
                grant(
                    account_id=a.pk,
                    kind="startup" if a.plan == "startup" else "enterprise",
                    granted_on=_year_before(expires),
                    expires_on=expires,
                    amount=balance if balance > 0 else Decimal("0.01"),
                    balance=balance,
                    notes=MIGRATED.format(
                        what="granted amount and date unknown; the balance and a year before "
                        "expiry" + ("" if a.credit_expires_on else "; no expiry was set")
                    ),
                )
            )
        if a.annual_discount is not None:
            ends = (a.renewal_date - dt.timedelta(days=1)) if a.renewal_date else None
            starts = _year_before(a.renewal_date) if a.renewal_date else created
            contracts.append(
                contract(
                    account_id=a.pk,
                    starts_on=starts,
                    ends_on=ends if ends and ends > starts else _year_after(starts),
                    annual_amount=Decimal(0),
                    discount_percent=(a.annual_discount * 100).quantize(Decimal("0.01")),
                )
            )
        if a.trial_ends_on is not None:
            trials.append(
                trial(
                    account_id=a.pk,
                    kind="free_usage",
                    starts_on=min(created, a.trial_ends_on),
                    ends_on=a.trial_ends_on,
                    success_criteria="",
                )
            )
        if a.forecasted_mrr is not None:
            period = a.current_period_ends_on or (
                (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
                - dt.timedelta(days=1)
            )
            forecasts.append(
                forecast(account_id=a.pk, period_ends_on=period, amount=a.forecasted_mrr)
            )
    grant.objects.bulk_create(grants, batch_size=2000)
    contract.objects.bulk_create(contracts, batch_size=2000)
    trial.objects.bulk_create(trials, batch_size=2000)
    forecast.objects.bulk_create(forecasts, batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0004_billing_terms"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="onetimecredit",
            constraint=models.UniqueConstraint(
                fields=("account", "month", "reason"), name="one_time_credit_natural_key"
            ),
        ),
    ]
