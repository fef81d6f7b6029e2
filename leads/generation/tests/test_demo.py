"""The demo seed raises leads through the rules and leaves results by month."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from leads.generation.stats import monthly_stats, rule_stats
from leads.ledger import reconcile_counters
from leads.models import OPEN_STATUSES, Task, TaskStatus

pytestmark = pytest.mark.django_db


def test_the_demo_has_todays_rule_leads_and_past_results_that_reconcile():
    call_command("seed_demo", accounts=300, months=12, seed=5, verbosity=0)

    today = timezone.localdate()
    raised_today = Task.objects.filter(
        created_at__date__gte=today, status__in=OPEN_STATUSES
    ).exclude(lead_rule="")
    stats = rule_stats()
    decided = [s for s in stats.values() if s.decided]

    assert raised_today.exists()
    assert all(t.rule_facts.get("summary") for t in raised_today)
    assert Task.objects.filter(status=TaskStatus.CONVERTED).exclude(lead_rule="").exists()
    assert decided, "some rule has converted or disqualified leads"
    busiest = max(stats, key=lambda key: stats[key].raised)
    assert len(monthly_stats(rule_key=busiest)) >= 2
    assert reconcile_counters() == []


def test_the_demo_resets_with_its_rule_leads():
    call_command("seed_demo", accounts=120, months=6, seed=3, verbosity=0)

    call_command("seed_demo", accounts=120, months=6, seed=3, reset=True, verbosity=0)

    assert Task.objects.exclude(lead_rule="").exists()
