"""Lead rules as versioned data (issue 18).

A ``LeadRule`` is one rule of ``leads.generation.catalog``; its thresholds,
cool-down and on/off switch live in ``LeadRuleVersion`` rows that are never
edited: a change is a new version with its author, reason and effective date,
so the history of every threshold is kept. The version in force on a day is
the highest-numbered one whose ``effective_on`` is on or before that day.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from leads.models import LeadType


class LeadRule(models.Model):
    """One lead rule; what it checks is code (``catalog.RULES``), its numbers are versions."""

    key = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    lead_type = models.CharField(max_length=12, choices=LeadType.choices)
    handbook = models.TextField(help_text="The rule as the handbook words it.")
    sort_order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ("sort_order", "key")

    def __str__(self) -> str:
        return self.name


class LeadRuleVersionQuerySet(models.QuerySet["LeadRuleVersion"]):
    def effective_by(self, on: dt.date) -> LeadRuleVersionQuerySet:
        """Versions already effective on ``on``, each rule's newest first.

        The first row per rule is the version in force; versions are few (one
        per edit), so callers pick it in Python and the query runs on any engine.
        """
        return self.filter(effective_on__lte=on).order_by("rule_id", "-effective_on", "-number")


class LeadRuleVersion(models.Model):
    """One version of a rule's thresholds. Append-only."""

    rule = models.ForeignKey(LeadRule, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    thresholds = models.JSONField(help_text="Threshold name → value (money as a decimal string).")
    cooldown_days = models.PositiveIntegerField(
        validators=[MinValueValidator(1)],
        help_text="A disqualified or converted lead of this rule is not raised again for this long.",
    )
    is_active = models.BooleanField(default=True, help_text="Off: the rule raises nothing.")
    effective_on = models.DateField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty for the handbook defaults seeded at install.",
    )
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LeadRuleVersionQuerySet.as_manager()

    class Meta:
        ordering = ("rule", "-number")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["rule", "number"], name="lead_rule_version_unique"),
            models.CheckConstraint(
                condition=models.Q(cooldown_days__gte=1), name="lead_rule_cooldown_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule.key} v{self.number} from {self.effective_on}"
