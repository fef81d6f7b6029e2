"""The daily generation: hits become tasks through intake, once, with cool-downs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import OwnerRole
from accounts.tests.factories import tam
from leads.generation import catalog as c
from leads.generation import jobs
from leads.generation.evaluate import find_hits
from leads.generation.generate import generate_leads, rules_in_force
from leads.models import DisqualificationReason, LeadType, Task, TaskSource, TrackerRole
from leads.task_actions import disqualify_task
from leads.tests.factories import TaskFactory, member, territory
from revopsweb.models import JobRun

from .factories import NOW, TODAY, band_account, new_version, rule, startup_account

pytestmark = pytest.mark.django_db


def test_a_hit_on_an_owned_account_goes_to_its_owner_with_the_rule_and_values():
    owner = tam()
    account = band_account(mrr="900.00", owner=owner, owner_role=OwnerRole.TAM)

    result = generate_leads(now=NOW)

    task = Task.objects.get(pk=result.task_ids[0])
    assert (task.account_id, task.assignee, task.lead_rule) == (account.pk, owner, c.PL_MRR_BAND)
    assert (task.source, task.lead_type) == (TaskSource.LEAD_RULE, LeadType.PRODUCT_LED)
    assert task.explanation == f"account owner ({owner.name})"
    assert task.rule_facts["values"]["mrr"] == "900.00"
    assert "MRR $900.00" in task.message
    assert "paying 3 months in a row" in task.message


def test_a_hit_on_an_unowned_account_goes_through_the_territory_round_robin():
    tam_member = member(role=TrackerRole.TAM, territories=[territory("us-east")])
    member(role=TrackerRole.TAE, territories=[territory("us-east")])
    account = band_account(territory=territory("us-east"))

    (task_id,) = generate_leads(now=NOW).task_ids

    task = Task.objects.get(pk=task_id)
    account.refresh_from_db()
    assert task.assignee == tam_member.user
    assert account.owner == tam_member.user
    assert task.explanation.startswith("round robin, U.S. East, TAM")


def test_new_business_rules_raise_new_business_tasks_for_a_tae():
    tae = member(role=TrackerRole.TAE, territories=[territory("us-east")])
    member(role=TrackerRole.TAM, territories=[territory("us-east")])
    account = startup_account(expires_on=TODAY + dt.timedelta(days=40), invoices=("1800.00",))
    account.territory = territory("us-east")
    account.save(update_fields=["territory"])

    (task_id,) = generate_leads(now=NOW).task_ids

    task = Task.objects.get(pk=task_id)
    assert (task.lead_rule, task.lead_type) == (c.NB_ROLLOFF_2_MONTHS, LeadType.NEW_BUSINESS)
    assert task.assignee == tae.user


def test_a_rerun_the_same_day_creates_nothing():
    band_account(owner=tam(), owner_role=OwnerRole.TAM)
    generate_leads(now=NOW)

    again = generate_leads(now=NOW + dt.timedelta(hours=3))

    assert again.created == 0
    assert Task.objects.count() == 1


def test_a_rerun_the_same_day_creates_nothing_even_when_the_task_was_closed_meanwhile():
    band_account(owner=tam(), owner_role=OwnerRole.TAM)
    (task_id,) = generate_leads(now=NOW).task_ids
    task = Task.objects.get(pk=task_id)
    # A rule whose cool-down were over at once would still not re-raise today.
    task.status, task.closed_at = "converted", NOW - dt.timedelta(days=400)
    task.save(update_fields=["status", "closed_at"])

    assert generate_leads(now=NOW + dt.timedelta(hours=1)).created == 0


def test_an_open_task_of_the_rule_blocks_a_new_one_on_later_days():
    band_account(owner=tam(), owner_role=OwnerRole.TAM)
    generate_leads(now=NOW)

    assert generate_leads(now=NOW + dt.timedelta(days=5)).created == 0


def test_a_disqualified_lead_is_raised_again_only_after_the_cool_down():
    owner = tam()
    band_account(owner=owner, owner_role=OwnerRole.TAM)
    (task_id,) = generate_leads(now=NOW).task_ids
    disqualify_task(
        task=Task.objects.get(pk=task_id),
        reason=DisqualificationReason.NO_CURRENT_NEED,
        actor=owner,
        now=NOW,
    )
    cooldown = c.RULES_BY_KEY[c.PL_MRR_BAND].cooldown_days

    during = generate_leads(now=NOW + dt.timedelta(days=cooldown - 1))
    after = generate_leads(now=NOW + dt.timedelta(days=cooldown, minutes=1))

    assert during.created == 0
    assert after.created == 1


def test_the_database_refuses_two_open_tasks_of_one_rule_on_one_account():
    account = band_account()
    TaskFactory.create(account=account, lead_rule=c.PL_MRR_BAND)

    with pytest.raises(IntegrityError), transaction.atomic():
        TaskFactory.create(account=account, lead_rule=c.PL_MRR_BAND, status="nurturing")


def test_other_rules_and_closed_tasks_do_not_collide_with_the_open_task_constraint():
    account = band_account()
    TaskFactory.create(account=account, lead_rule=c.PL_MRR_BAND, status="converted")
    TaskFactory.create(account=account, lead_rule=c.PL_MRR_BAND)
    TaskFactory.create(account=account, lead_rule=c.PL_FORECAST_JUMP)

    assert Task.objects.filter(account=account).count() == 3


def test_the_version_in_force_is_the_latest_effective_one():
    band_account(mrr="450.00", owner=tam(), owner_role=OwnerRole.TAM)
    new_version(c.PL_MRR_BAND, number=2, effective_on=TODAY, mrr_min="400.00")
    new_version(c.PL_MRR_BAND, number=3, effective_on=TODAY + dt.timedelta(days=1), mrr_min="600")

    (in_force,) = [r for r in rules_in_force(today=TODAY) if r.key == c.PL_MRR_BAND]
    result = generate_leads(now=NOW)

    assert in_force.version == 2
    assert result.per_rule[c.PL_MRR_BAND] == 1
    assert Task.objects.get().rule_facts["version"] == 2


def _evaluation_queries(rules) -> int:
    with CaptureQueriesContext(connection) as ctx:
        find_hits(rules=rules, now=NOW)
    return len(ctx.captured_queries)


def test_the_evaluation_issues_the_same_queries_for_1_or_40_accounts():
    every_rule = [rule(d.key) for d in c.RULES]
    band_account()
    one = _evaluation_queries(every_rule)
    for _ in range(39):
        band_account()

    # SAVEPOINT, max(month), DROP, SET work_mem, CREATE facts, ANALYZE, one SELECT per rule,
    # DROP, RELEASE.
    assert _evaluation_queries(every_rule) == one == 8 + len(every_rule)


def test_the_job_records_a_run_and_a_second_run_the_same_day_raises_nothing():
    band_account(owner=tam(), owner_role=OwnerRole.TAM)

    first = jobs.run_generation_job()
    second = jobs.run_generation_job()

    assert (first.outcome, first.rows_affected) == (JobRun.Outcome.SUCCEEDED, 1)
    assert (second.outcome, second.rows_affected) == (JobRun.Outcome.SUCCEEDED, 0)


def test_the_management_command_runs_the_job(capsys):
    band_account(owner=tam(), owner_role=OwnerRole.TAM)

    call_command("generate_leads")

    assert "leads.generate_leads: Succeeded, 1 lead created" in capsys.readouterr().out
    assert Task.objects.filter(lead_rule=c.PL_MRR_BAND).count() == 1


@pytest.mark.celery_worker
def test_the_generation_runs_on_a_real_celery_worker(celery_worker):
    from leads.generation.tasks import generate_leads_task

    # The worker runs at today's real date: an account created now, roll-off
    # in 30 days and a last invoice over $1,500 is a hit whatever today is.
    account = startup_account(
        expires_on=dt.date.today() + dt.timedelta(days=30), invoices=("2500.00",)
    )
    account.owner, account.owner_role = tam(), OwnerRole.TAE
    account.save(update_fields=["owner", "owner_role"])

    result = generate_leads_task.delay().get(timeout=60)

    assert result["outcome"] == JobRun.Outcome.SUCCEEDED
    assert set(Task.objects.filter(account=account).values_list("lead_rule", flat=True)) == {
        c.NB_ROLLOFF_2_MONTHS,
        c.NB_ROLLOFF_100_DAYS,
    }
    assert result["rows"] == 2
