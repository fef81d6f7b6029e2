"""Changing a lead rule: a new version with its author, reason and effective date."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Max

from accounts.models import User

from .evaluate import Hit, RuleInForce, find_hits
from .models import LeadRule, LeadRuleVersion


@transaction.atomic
def save_rule_version(
    *,
    rule: LeadRule,
    author: User,
    thresholds: dict[str, object],
    cooldown_days: int,
    is_active: bool,
    effective_on: dt.date,
    reason: str,
) -> LeadRuleVersion:
    """Append the rule's next version (number = highest + 1); nothing is overwritten.

    The rule row is locked so two editors saving at once get numbers n and n+1.
    """
    LeadRule.objects.select_for_update().get(pk=rule.pk)
    highest = rule.versions.aggregate(n=Max("number"))["n"] or 0
    return LeadRuleVersion.objects.create(
        rule=rule,
        number=highest + 1,
        thresholds=thresholds,
        cooldown_days=cooldown_days,
        is_active=is_active,
        effective_on=effective_on,
        author=author,
        reason=reason.strip(),
    )


def preview_rule(*, draft: RuleInForce, now: dt.datetime | None = None) -> list[Hit]:
    """What ``draft`` would raise today, saving nothing (the same SQL as the daily job).

    An inactive draft is previewed with its thresholds anyway, so RevOps
    sees what switching it on would raise.
    """
    active = RuleInForce(**{**draft.__dict__, "is_active": True})
    return find_hits(rules=[active], now=now)[draft.key]
