"""Lead rules pages: list, detail with history and results, preview, new versions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from accounts.models import OwnerRole
from accounts.tests.factories import manager, revops, tam, team_lead
from leads.generation import catalog as c
from leads.generation.models import LeadRuleVersion
from leads.models import DisqualificationReason, TaskStatus
from leads.tests.factories import TaskFactory
from revopsweb.dates import company_today

from .factories import band_account

pytestmark = pytest.mark.django_db

RULE_URL = reverse("leadgen:rule", kwargs={"key": c.PL_MRR_BAND})
PREVIEW_URL = reverse("leadgen:rule_preview", kwargs={"key": c.PL_MRR_BAND})


def _form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "mrr_min": "500.00",
        "mrr_max": "1667.00",
        "employees_over": "50",
        "users_over": "7",
        "countries": "US, GB, DE",
        "paying_months_min": "3",
        "cooldown_days": "90",
        "is_active": "on",
        "effective_on": company_today().isoformat(),
        "reason": "Testing a wider band",
    }
    data.update(overrides)
    return data


def _rule_tasks(count: int, **kwargs: Any) -> None:
    for _ in range(count):
        TaskFactory.create(lead_rule=c.PL_MRR_BAND, **kwargs)


def test_the_list_shows_every_rule_with_its_results(client):
    client.force_login(team_lead())
    _rule_tasks(2, status=TaskStatus.CONVERTED)
    _rule_tasks(
        3,
        status=TaskStatus.DISQUALIFIED,
        disqualification_reason=DisqualificationReason.NO_BUDGET,
    )

    response = client.get(reverse("leadgen:rules"))

    assert response.status_code == 200
    body = response.content.decode()
    for definition in c.RULES:
        assert definition.name.replace("&", "&amp;") in body or definition.name in body
    # 2 converted of 5 decided.
    assert "40.0%" in body


def test_the_list_issues_the_same_queries_whatever_the_number_of_leads(
    client, django_assert_num_queries
):
    client.force_login(manager())
    _rule_tasks(2, status=TaskStatus.CONVERTED)
    client.get(reverse("leadgen:rules"))
    _rule_tasks(30, status=TaskStatus.CONVERTED)

    # session, user with their roles, stats by rule, disqualifications by reason, versions in force.
    with django_assert_num_queries(5):
        client.get(reverse("leadgen:rules"))


def test_tams_may_not_see_the_rules(client):
    client.force_login(tam())

    assert client.get(reverse("leadgen:rules")).status_code == 403
    assert client.get(RULE_URL).status_code == 403


def test_the_detail_shows_thresholds_history_reasons_and_months(client):
    client.force_login(revops())
    _rule_tasks(
        1,
        status=TaskStatus.DISQUALIFIED,
        disqualification_reason=DisqualificationReason.USING_COMPETITOR,
    )

    response = client.get(RULE_URL)

    body = response.content.decode()
    assert response.status_code == 200
    assert "$1,667.00" in body
    assert "Using Competitor / Unsolicited RFP" in body
    assert "(handbook defaults)" in body
    assert 'id="by-month"' in body
    assert 'id="rule-form"' in body


def test_team_leads_read_the_rule_but_get_no_edit_form_and_may_not_save(client):
    client.force_login(team_lead())

    assert 'id="rule-form"' not in client.get(RULE_URL).content.decode()
    assert client.post(RULE_URL, _form()).status_code == 403
    assert client.post(PREVIEW_URL, _form()).status_code == 403
    assert LeadRuleVersion.objects.filter(rule__key=c.PL_MRR_BAND).count() == 1


def test_saving_adds_a_version_with_author_reason_and_date_and_keeps_the_old_one(client):
    author = revops()
    client.force_login(author)

    response = client.post(RULE_URL, _form(mrr_min="400.00"))

    assert response.status_code == 302
    versions = list(LeadRuleVersion.objects.filter(rule__key=c.PL_MRR_BAND).order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].thresholds["mrr_min"] == "500.00"
    new = versions[1]
    assert (new.author, new.reason, new.effective_on) == (
        author,
        "Testing a wider band",
        company_today(),
    )
    assert new.thresholds["mrr_min"] == "400.00"
    assert new.thresholds["countries"] == ["DE", "GB", "US"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"mrr_min": "2000.00"}, "mrr_max"),
        ({"countries": "USA, GB"}, "countries"),
        ({"effective_on": (dt.date.today() - dt.timedelta(days=3)).isoformat()}, "effective_on"),
        ({"reason": ""}, "reason"),
        ({"cooldown_days": "0"}, "cooldown_days"),
    ],
)
def test_bad_values_save_nothing_and_say_why(client, overrides, field):
    client.force_login(revops())

    response = client.post(RULE_URL, _form(**overrides))

    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert LeadRuleVersion.objects.filter(rule__key=c.PL_MRR_BAND).count() == 1


def test_the_preview_counts_and_lists_what_a_change_would_raise_without_saving(client):
    client.force_login(revops())
    low = band_account(mrr="450.00", name="Low Spend Inc")
    band_account(mrr="300.00")

    response = client.post(PREVIEW_URL, _form(mrr_min="400.00"), headers={"HX-Request": "true"})

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="preview"')
    assert '<strong data-testid="preview-count">1</strong>' in body
    assert low.name in body
    assert LeadRuleVersion.objects.filter(rule__key=c.PL_MRR_BAND).count() == 1


def test_the_preview_works_as_a_plain_form_post(client):
    client.force_login(revops())
    band_account(mrr="450.00", owner=tam(), owner_role=OwnerRole.TAM)

    response = client.post(PREVIEW_URL, _form(mrr_min="400.00"))

    body = response.content.decode()
    assert "<html" in body
    assert '<strong data-testid="preview-count">1</strong>' in body


def test_an_invalid_preview_says_so_in_the_partial(client):
    client.force_login(revops())

    response = client.post(PREVIEW_URL, _form(mrr_min="x"), headers={"HX-Request": "true"})

    # 200 so htmx swaps it in; nothing was saved either way.
    assert response.status_code == 200
    assert "MRR at least ($): Enter a number." in response.content.decode()


def test_the_preview_needs_no_reason(client):
    client.force_login(revops())

    response = client.post(PREVIEW_URL, _form(reason=""), headers={"HX-Request": "true"})

    assert 'data-testid="preview-count"' in response.content.decode()


def test_get_on_the_preview_is_refused(client):
    client.force_login(revops())

    assert client.get(PREVIEW_URL).status_code == 405


def test_an_unknown_rule_is_404(client):
    client.force_login(revops())

    assert client.get(reverse("leadgen:rule", kwargs={"key": "nope"})).status_code == 404


def test_a_raised_task_shows_its_rule_values_and_suggested_outcome(client):
    from leads.generation.generate import generate_leads
    from leads.models import Task

    owner = tam()
    band_account(mrr="900.00", owner=owner, owner_role=OwnerRole.TAM)
    generate_leads()
    task = Task.objects.get(lead_rule=c.PL_MRR_BAND)
    client.force_login(owner)

    body = client.get(reverse("leads:task", args=[task.pk])).content.decode()
    listing = client.get(reverse("leads:my_tasks")).content.decode()

    assert f"Why this lead: {c.RULES_BY_KEY[c.PL_MRR_BAND].name}" in body
    assert "MRR $900.00" in body
    assert "qualify and work it: none of the quick deprioritise filters match" in body
    assert "MRR $900.00 · month" in listing
