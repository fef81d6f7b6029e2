"""Demo data for the lead rules: accounts that fire each rule, and five months of results.

The demo company's revenue and usage already make some accounts fire the
MRR-band and support-ticket rules. This step gives a few accounts per rule the
facts the other rules read (Scale plan, a forecast jump, startup credits with
invoices, a fresh signup from a big company), then runs the real job as it
would have run once a month for the last five months, deciding each month's
leads a couple of weeks later (about one in five converted, most of the rest
disqualified with a reason), and finally runs it for today, so the task lists
hold today's rule-raised leads with their reasons and the rule pages show
results by month. Everything goes through ``generate_leads`` and the task
actions, so routing, ledger and histories are the real ones.

Above ``RUN_MAX_ACCOUNTS`` accounts it shapes accounts but runs nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from accounts.demo import DemoStep
from accounts.models import Account, AccountSnapshot, Contact, Plan, User
from billing.models import Invoice, MonthlyRevenue
from billing.revenue_data import revenue_data_through
from leads.models import DisqualificationReason, OpportunityRecordType, OpportunityType, Task
from leads.task_actions import convert_task, disqualify_task
from revopsweb.dates import week_start

from .generate import generate_leads

# Accounts given each rule's facts: this share of the company, within bounds.
SHARE = 0.008
MIN_PER_RULE, MAX_PER_RULE = 3, 40
HISTORY_MONTHS = 5
# Above this many accounts the seed only shapes accounts and raises nothing:
# the first run over a big company is a backlog of thousands of leads, which
# the leadgen benchmark raises (untimed) and measures the daily job after.
RUN_MAX_ACCOUNTS = 10_000
CONVERT_SHARE = 0.22
LEAVE_OPEN_SHARE = 0.15
DEMO_REASONS = (
    (DisqualificationReason.NO_CURRENT_NEED, 5),
    (DisqualificationReason.NO_BUDGET, 3),
    (DisqualificationReason.NOT_A_GOOD_FIT, 3),
    (DisqualificationReason.BELOW_ASSIST_PASS, 3),
    (DisqualificationReason.NO_RESPONSE_PASS, 2),
    (DisqualificationReason.USING_COMPETITOR, 1),
    (DisqualificationReason.SUPPORT_REQUEST, 1),
)


def _pick(rng: random.Random, pool: list[int], count: int) -> list[int]:
    chosen = rng.sample(pool, min(count, len(pool)))
    taken = set(chosen)
    pool[:] = [pk for pk in pool if pk not in taken]
    return chosen


def _shape_accounts(*, rng: random.Random, today: dt.date, now: dt.datetime) -> int:
    """Give a few accounts per rule the facts it reads; return how many were shaped."""
    ids = list(Account.objects.order_by("pk").values_list("pk", flat=True))
    if not ids:
        return 0
    per_rule = max(MIN_PER_RULE, min(MAX_PER_RULE, round(len(ids) * SHARE)))
    # The month the rules read as M, so the shaped accounts are the ones they raise.
    month = revenue_data_through(today=today).month
    mrr: dict[int, Decimal] = {}
    if month is not None:
        mrr = dict(
            MonthlyRevenue.objects.filter(month=month)
            .values("account_id")
            .annotate(total=Sum("amount"))
            .values_list("account_id", "total")
        )
    big = [pk for pk in ids if mrr.get(pk, Decimal(0)) > 1500]
    small = [pk for pk in ids if Decimal(0) < mrr.get(pk, Decimal(0)) < 500]
    shaped = set(big) | set(small)  # once: built per id, it made the seed quadratic
    rest = [pk for pk in ids if pk not in shaped]

    Account.objects.filter(pk__in=_pick(rng, rest, per_rule)).update(
        plan=Plan.SCALE, employee_count=250, country="US"
    )
    for pk in _pick(rng, big, per_rule):
        jump = Decimal(str(round(rng.uniform(1.6, 2.4), 2)))
        Account.objects.filter(pk=pk).update(
            forecasted_mrr=(mrr[pk] * jump).quantize(Decimal("0.01"))
        )
    invoices: list[Invoice] = []
    startup = _pick(rng, small, per_rule * 3)
    for n, pk in enumerate(startup):
        kind = n % 3
        expires = today + dt.timedelta(days=(200, 80, 40)[kind])
        last = Decimal((6200, 3400, 1900)[kind] + rng.randrange(0, 400))
        Account.objects.filter(pk=pk).update(
            plan=Plan.STARTUP,
            credit_expires_on=expires,
            credit_balance=Decimal(9000 if kind == 0 else 2000),
        )
        for back in (2, 1, 0):
            issued = today - dt.timedelta(days=30 * back + 3)
            invoices.append(
                Invoice(
                    account_id=pk,
                    number=f"LG-DEMO-{pk}-{back}",
                    period=issued.replace(day=1),
                    issued_on=issued,
                    due_on=issued + dt.timedelta(days=30),
                    amount=last if back == 0 else last - 250,
                    status=Invoice.Status.PAID if back else Invoice.Status.OPEN,
                    paid_on=issued + dt.timedelta(days=5) if back else None,
                )
            )
    Invoice.objects.bulk_create(invoices)
    signups = _pick(rng, rest, per_rule)
    for pk in signups:
        account = Account.objects.get(pk=pk)
        Account.objects.filter(pk=pk).update(
            employee_count=rng.choice((600, 1200, 5000)),
            created_at=now - dt.timedelta(days=rng.randrange(1, 20)),
            domain=f"{account.organization_id.replace('_', '-')}.signup.example",
        )
        for n in range(2):
            Contact.objects.get_or_create(
                account_id=pk,
                email=f"engineer{n}@{account.organization_id.replace('_', '-')}.signup.example",
                defaults={"name": f"Engineer {n + 1}", "title": "Software engineer"},
            )
        AccountSnapshot.objects.update_or_create(
            account_id=pk, week=week_start(today), defaults={"events": 25_000}
        )
    return per_rule * 6


def _decide(*, rng: random.Random, task_ids: list[int], at: dt.datetime, closer: User) -> None:
    """About one in five converted, a few left open, the rest disqualified with a reason."""
    reasons = [r for r, weight in DEMO_REASONS for _ in range(weight)]
    for task in Task.objects.filter(pk__in=task_ids).select_related("assignee").order_by("pk"):
        draw = rng.random()
        when = at + dt.timedelta(days=rng.randrange(3, 20), hours=rng.randrange(0, 8))
        if draw < CONVERT_SHARE:
            convert_task(
                task=task,
                actor=task.assignee or closer,
                record_type=OpportunityRecordType.NEW_REVENUE_EXISTING,
                opportunity_type=rng.choice((OpportunityType.ANNUAL, OpportunityType.MONTHLY)),
                amount=Decimal(rng.randrange(12, 60) * 1000),
                close_date=(when + dt.timedelta(days=45)).date(),
                now=when,
            )
        elif draw < 1 - LEAVE_OPEN_SHARE:
            disqualify_task(task=task, reason=rng.choice(reasons), actor=task.assignee, now=when)


def seed_lead_rules(
    *, rng: random.Random, today: dt.date, now: dt.datetime, account_count: int
) -> dict[str, int]:
    """The seed_demo step: shaped accounts, monthly runs with outcomes, today's run."""
    shaped = _shape_accounts(rng=rng, today=today, now=now)
    closer = User.objects.filter(is_superuser=False).order_by("pk").first()
    if account_count > RUN_MAX_ACCOUNTS or closer is None:
        return {"accounts shaped for the rules": shaped, "rule-raised leads": 0}
    raised = 0
    for back in range(HISTORY_MONTHS, 0, -1):
        at = now - dt.timedelta(days=30 * back + 12)
        result = generate_leads(now=at)
        raised += result.created
        _decide(rng=rng, task_ids=result.task_ids, at=at, closer=closer)
    raised += generate_leads(now=now).created
    return {"accounts shaped for the rules": shaped, "rule-raised leads": raised}


def seed_lead_rules_step(ctx: Any) -> dict[str, int]:
    """seed_demo step adapter: ``DemoStep("lead rules", seed_lead_rules_step)``."""
    return seed_lead_rules(
        rng=ctx.rng("lead rules"), today=ctx.today, now=ctx.now, account_count=ctx.account_count
    )


def demo_steps() -> list[DemoStep]:
    """Found by ``accounts.demo.installed_demo_steps``: last, after revenue, snapshots,
    owners and the round robin exist; its tasks go with the tasks step's reset."""
    return [DemoStep("lead rules", seed_lead_rules_step, order=200)]
