"""The daily lead generation: every rule in force raises its hits as tasks.

``find_hits`` (set-based, a fixed number of queries) says which accounts each
rule raises; each hit then becomes one task through ``leads.intake``, so
owner-first routing, the territory round robin with full books, the lead score
and the assignment explanation apply exactly as for an inbound lead. The task
carries the rule's key and the values that made it fire.

Idempotent: a rule does not raise an account with an open task of that rule
(also a database constraint), a task of that rule created today, or one closed
within the rule's cool-down, so a rerun the same day creates nothing. Each
task commits on its own, so a run that dies part way is finished by the next.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError
from django.utils import timezone

from leads.intake import intake_account_task
from leads.models import TaskSource
from revopsweb.dates import company_today

from . import catalog
from .evaluate import Hit, RuleInForce, find_hits
from .models import LeadRule, LeadRuleVersion

# Day the handbook defaults take effect when seeded: before any data, so they
# are in force for every day the app knows.
DEFAULTS_EFFECTIVE_ON = dt.date(2000, 1, 1)
DEFAULTS_REASON = "Handbook defaults (sales/lead-scoring)."

VALUE_LABELS: dict[str, str] = {
    "mrr": "MRR ${}",
    "arr": "ARR ${}",
    "month": "month {}",
    "employee_count": "{} employees",
    "users": "{} active users",
    "country": "country {}",
    "paying_months": "paying {} months in a row",
    "icp_score": "ICP score {}",
    "plan": "plan {}",
    "forecasted_mrr": "forecast MRR ${}",
    "increase_pct": "forecast +{}%",
    "last_ticket_on": "support ticket {}",
    "events": "{} events",
    "invited": "{} invited",
    "created_on": "signed up {}",
    "domain": "domain {}",
    "used_pct": "{}% of credits used",
    "credit_invoiced": "${} invoiced on credits",
    "credit_balance": "${} credits left",
    "last_invoice": "last invoice ${}",
    "last_invoice_on": "issued {}",
    "credit_expires_on": "credits expire {}",
    "days_left": "in {} days",
}


def ensure_rules() -> None:
    """Create each catalog rule missing from the table, with the handbook defaults as v1.

    Idempotent; runs after every migrate (and test flush).
    """
    existing = set(LeadRule.objects.values_list("key", flat=True))
    for order, definition in enumerate(catalog.RULES):
        if definition.key in existing:
            continue
        rule = LeadRule.objects.create(
            key=definition.key,
            name=definition.name,
            lead_type=definition.lead_type,
            handbook=definition.handbook,
            sort_order=order,
        )
        LeadRuleVersion.objects.create(
            rule=rule,
            number=1,
            thresholds=definition.defaults(),
            cooldown_days=definition.cooldown_days,
            effective_on=DEFAULTS_EFFECTIVE_ON,
            reason=DEFAULTS_REASON,
        )


def to_rule(version: LeadRuleVersion) -> RuleInForce:
    return RuleInForce(
        key=version.rule.key,
        lead_type=version.rule.lead_type,
        version=version.number,
        thresholds=dict(version.thresholds),
        cooldown_days=version.cooldown_days,
        is_active=version.is_active,
    )


def rules_in_force(*, today: dt.date) -> list[RuleInForce]:
    """Every rule's version in force on ``today``, in catalog order (one query)."""
    return [to_rule(v) for v in versions_in_force(today=today)]


def versions_in_force(*, today: dt.date) -> list[LeadRuleVersion]:
    """Per catalog rule, its version in force on ``today``, in catalog order (one query)."""
    newest: dict[str, LeadRuleVersion] = {}
    for version in LeadRuleVersion.objects.effective_by(today).select_related("rule"):
        newest.setdefault(version.rule.key, version)
    return [newest[d.key] for d in catalog.RULES if d.key in newest]


MONEY_VALUES = frozenset(
    {"mrr", "arr", "forecasted_mrr", "credit_invoiced", "credit_balance", "last_invoice"}
)


def describe(values: dict[str, Any]) -> str:
    """The values of a hit as one line, e.g. "MRR $1,200.00 · month 2026-10 · 60 employees"."""
    parts = []
    for name, value in values.items():
        if value in (None, ""):
            continue
        shown = f"{Decimal(str(value)):,.2f}" if name in MONEY_VALUES else value
        parts.append(VALUE_LABELS.get(name, name + " {}").format(shown))
    return " · ".join(parts)


def task_message(hit: Hit) -> str:
    definition = catalog.RULES_BY_KEY[hit.rule]
    message = f"Lead rule “{definition.name}” (v{hit.version}) fired: {describe(hit.values)}."
    if hit.deprioritise:
        message += "\nSuggested: deprioritise (" + "; ".join(hit.deprioritise) + ")."
    return message


@dataclass
class GenerationResult:
    created: int = 0
    already_open: int = 0
    per_rule: dict[str, int] = field(default_factory=dict)
    task_ids: list[int] = field(default_factory=list)


def raise_hit(*, hit: Hit, now: dt.datetime) -> int | None:
    """Create the task of one hit; its id, or None if an open one appeared meanwhile."""
    try:
        # intake_account_task is atomic itself (a savepoint when the caller,
        # e.g. the demo seed, holds a transaction), so a lost race rolls back
        # only this task.
        result = intake_account_task(
            account_id=hit.account_id,
            source=TaskSource.LEAD_RULE,
            lead_type=hit.lead_type,
            message=task_message(hit),
            created_summary=f"Raised by lead rule {hit.rule} v{hit.version}",
            lead_rule=hit.rule,
            rule_facts={
                **hit.facts(),
                "name": catalog.RULES_BY_KEY[hit.rule].name,
                "summary": describe(hit.values),
            },
            now=now,
        )
    except IntegrityError:
        # The one-open-task-per-account-and-rule constraint: someone raised it first.
        return None
    return result.task.pk


def generate_leads(*, now: dt.datetime | None = None) -> GenerationResult:
    """Raise today's leads of every active rule; see the module docstring. Idempotent."""
    now = now or timezone.now()
    rules = rules_in_force(today=company_today(now=now))
    hits = find_hits(rules=rules, now=now)
    result = GenerationResult()
    for rule in rules:
        created = 0
        for hit in hits.get(rule.key, []):
            task_id = raise_hit(hit=hit, now=now)
            if task_id is None:
                result.already_open += 1
                continue
            created += 1
            result.task_ids.append(task_id)
        result.per_rule[rule.key] = created
        result.created += created
    return result
