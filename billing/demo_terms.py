"""Demo billing terms (a step of ``seed_demo``, after every step that sets account columns).

- Every account's typed credit, discount and forecast values become facts (the
  accounts and lead-rule steps write those columns, as the old code did), then
  the columns are projected back from the facts, so they agree:
  startup-plan credits as startup grants ($25k–$100k granted a year before
  expiry), other credits as enterprise purchases (paid 80% of the credits),
  annual discounts as contracts (the year to the renewal date, the annual amount
  within ±20% of twelve months of the account's current spend, so some annual
  customers run over their run rate and some under; one in five converted
  from monthly), forecasts for the current period.
- Trials: sales-assisted trials on trial-plan accounts (running, waiting for
  Day 0, extended, won and lost; 2 or 4 weeks by deal value) and cross-sell trials
  of session replay on a few paying accounts that do not pay for it yet.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.db.models import Q, Sum

from accounts.models import Account, Plan
from revopsweb.dates import add_months, month_start

from .models import (
    AnnualContract,
    CreditGrant,
    CreditGrantKind,
    ForecastMrr,
    FourWeekReason,
    MonthlyRevenue,
    Product,
    Trial,
    TrialExtension,
    TrialKind,
    TrialOutcome,
)
from .revenue_data import revenue_data_through
from .terms import refresh_account_terms

SALES_TRIALS = 12
CROSS_SELL_TRIALS = 6
CRITERIA = (
    "Signup funnel by plan on a dashboard the VP Product uses weekly",
    "Session replay on checkout errors, linked from support tickets",
    "Feature flags replace the in-house toggles for two teams",
    "Warehouse sync of Stripe data joined to product usage",
)
GETS = (
    "Introduction to the CFO (economic buyer)",
    "Procurement started in parallel",
    "Verbal confirmation they are moving forward",
    "Weekly check-in calls until trial end",
)


def _year_before(day: dt.date) -> dt.date:
    return (
        day.replace(year=day.year - 1)
        if (day.month, day.day) != (2, 29)
        else day.replace(year=day.year - 1, day=28)
    )


def seed_terms(*, rng: random.Random, today: dt.date) -> dict[str, int]:
    """Write the demo's billing-term facts and project them onto the accounts."""
    month = revenue_data_through(today=today).month
    mrr: dict[int, Decimal] = {}
    if month is not None:
        mrr = dict(
            MonthlyRevenue.objects.filter(month=month)
            .values("account_id")
            .annotate(total=Sum("amount"))
            .values_list("account_id", "total")
        )
    columns = Account.objects.filter(
        Q(credit_balance__gt=0)
        | Q(credit_expires_on__isnull=False)
        | Q(annual_discount__isnull=False)
        | Q(forecasted_mrr__isnull=False)
    ).values(
        "pk", "plan", "credit_balance", "credit_expires_on", "annual_discount", "renewal_date",
        "forecasted_mrr", "current_period_ends_on",
    )  # fmt: skip
    grants, contracts, forecasts = [], [], []
    period_end = add_months(month_start(today), 1) - dt.timedelta(days=1)
    for a in columns:
        if a["credit_balance"] > 0 or a["credit_expires_on"]:
            expires = a["credit_expires_on"] or today + dt.timedelta(days=rng.randint(60, 300))
            balance = max(a["credit_balance"], Decimal(0))
            amount = max(balance, Decimal(rng.choice((25_000, 50_000, 100_000))))
            startup = a["plan"] == Plan.STARTUP
            grants.append(
                CreditGrant(
                    account_id=a["pk"],
                    kind=CreditGrantKind.STARTUP if startup else CreditGrantKind.ENTERPRISE,
                    granted_on=_year_before(expires),
                    expires_on=expires,
                    amount=amount,
                    balance=balance,
                    paid_amount=Decimal(0) if startup else amount * Decimal("0.8"),
                )
            )
        if a["annual_discount"] is not None:
            renewal = a["renewal_date"] or today + dt.timedelta(days=rng.randint(30, 330))
            spend = mrr.get(a["pk"], Decimal(0)) * 12
            annual = (spend * Decimal(str(rng.uniform(0.8, 1.2))) / 1000).quantize(Decimal(1))
            contracts.append(
                AnnualContract(
                    account_id=a["pk"],
                    starts_on=_year_before(renewal),
                    ends_on=renewal - dt.timedelta(days=1),
                    annual_amount=max(annual * 1000, Decimal(12_000)),
                    discount_percent=(a["annual_discount"] * 100).quantize(Decimal("0.01")),
                    converted_from_monthly=rng.random() < 0.2,
                )
            )
        if a["forecasted_mrr"] is not None:
            forecasts.append(
                ForecastMrr(
                    account_id=a["pk"],
                    period_ends_on=a["current_period_ends_on"] or period_end,
                    amount=a["forecasted_mrr"],
                )
            )
    CreditGrant.objects.bulk_create(grants, batch_size=2000)
    AnnualContract.objects.bulk_create(contracts, batch_size=2000)
    ForecastMrr.objects.bulk_create(forecasts, batch_size=2000)
    trials, extensions = _trials(rng=rng, today=today, mrr=mrr)
    touched = {g.account_id for g in grants} | {c.account_id for c in contracts}
    touched |= {f.account_id for f in forecasts} | {t.account_id for t in trials}
    refresh_account_terms(account_ids=touched)
    return {
        "credit grants": len(grants),
        "annual contracts": len(contracts),
        "forecasts": len(forecasts),
        "trials": len(trials),
        "trial extensions": extensions,
    }


def _trials(
    *, rng: random.Random, today: dt.date, mrr: dict[int, Decimal]
) -> tuple[list[Trial], int]:
    prospects = list(
        Account.objects.filter(plan=Plan.TRIAL).order_by("pk").values_list("pk", flat=True)
    )
    paying = sorted(pk for pk, amount in mrr.items() if amount > 2000)
    replay = Product.objects.filter(key="session_replay").first()
    replay_payers = set(
        MonthlyRevenue.objects.filter(product=replay, amount__gt=0).values_list(
            "account_id", flat=True
        )
    )
    trials: list[Trial] = []
    plans: list[dict[str, Any]] = []
    for n, pk in enumerate(rng.sample(prospects, min(SALES_TRIALS, len(prospects)))):
        deal = Decimal(rng.choice((25_000, 40_000, 55_000, 80_000, 150_000)))
        four_weeks = deal > 60_000 or n % 6 == 5
        length = 28 if four_weeks else 14
        started = today - dt.timedelta(days=(3, 8, 12, 20, 40, 60)[n % 6])
        stage = n % 6
        trials.append(
            Trial(
                account_id=pk,
                kind=TrialKind.SALES_ASSISTED,
                starts_on=started,
                ends_on=started + dt.timedelta(days=length),
                deal_arr=deal,
                four_week_reason=FourWeekReason.MULTIPLE_STAKEHOLDERS
                if four_weeks and deal <= 60_000
                else "",
                sdk_live_on=None if stage == 0 else started + dt.timedelta(days=1),
                success_criteria="" if stage == 0 else rng.choice(CRITERIA),
                outcome=(TrialOutcome.WON if stage == 4 else TrialOutcome.LOST)
                if stage >= 4
                else "",
            )
        )
        plans.append({"extend": stage == 3, "started": started})
    candidates = [pk for pk in paying if pk not in replay_payers]
    for pk in rng.sample(candidates, min(CROSS_SELL_TRIALS, len(candidates))):
        started = today - dt.timedelta(days=rng.randint(1, 10))
        trials.append(
            Trial(
                account_id=pk,
                kind=TrialKind.CROSS_SELL,
                product=replay,
                starts_on=started,
                ends_on=started + dt.timedelta(days=14),
                deal_arr=Decimal(rng.choice((20_000, 30_000, 45_000))),
                sdk_live_on=started,
                success_criteria=CRITERIA[1],
            )
        )
        plans.append({"extend": False, "started": started})
    Trial.objects.bulk_create(trials)
    extensions = [
        TrialExtension(
            trial=trial,
            granted_on=plan["started"] + dt.timedelta(days=10),
            days=rng.choice((7, 14, 21)),
            reason="Their security review took a week longer than planned",
            get=rng.choice(GETS),
        )
        for trial, plan in zip(trials, plans, strict=True)
        if plan["extend"]
    ]
    TrialExtension.objects.bulk_create(extensions)
    return trials, len(extensions)


def seed_terms_step(ctx: Any) -> dict[str, int]:
    """seed_demo step adapter."""
    return seed_terms(rng=ctx.rng("billing terms"), today=ctx.today)
