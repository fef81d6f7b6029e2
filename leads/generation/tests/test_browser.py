from __future__ import annotations

import pytest

from accounts.tests.factories import revops
from leads.generation import catalog as c
from leads.generation.models import LeadRuleVersion

from .factories import band_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_revops_previews_a_change_then_saves_it_as_a_new_version(page, login_as):
    band_account(mrr="450.00", name="Almost There Ltd")
    band_account(mrr="900.00", name="Right In Band Co")
    login_as(revops(name="Rae RevOps"))
    page.goto("/lead-rules/")
    page.get_by_role("link", name=c.RULES_BY_KEY[c.PL_MRR_BAND].name).click()

    page.get_by_label("MRR at least ($)").fill("400.00")
    page.get_by_role("button", name="Preview today's leads").click()

    page.get_by_test_id("preview-count").wait_for()
    assert page.get_by_test_id("preview-count").inner_text() == "2"
    assert page.locator("#preview-rows").get_by_text("Almost There Ltd").is_visible()
    assert LeadRuleVersion.objects.filter(rule__key=c.PL_MRR_BAND).count() == 1

    page.get_by_label("Why the change").fill("Try $400 for a quarter")
    page.get_by_role("button", name="Save new version").click()
    page.get_by_text("Saved version 2").wait_for()

    assert page.locator("#versions").get_by_text("Try $400 for a quarter").is_visible()
    assert page.locator("#thresholds").get_by_text("$400.00").is_visible()
    saved = LeadRuleVersion.objects.get(rule__key=c.PL_MRR_BAND, number=2)
    assert saved.thresholds["mrr_min"] == "400.00"
    assert saved.author is not None and saved.author.name == "Rae RevOps"
