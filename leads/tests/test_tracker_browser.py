from __future__ import annotations

import pytest

from accounts.tests.factories import tam, team_lead
from leads.models import LedgerKind, RoundRobinEvent
from leads.tests.factories import member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_team_lead_changes_a_weight_sees_the_preview_and_saves(page, login_as):
    lead = team_lead(name="Lena Lead")
    ramping = member(user=tam(name="Rita Ramping", team_lead=lead))
    member(user=tam(name="Sam Steady"))
    login_as(lead)
    page.goto("/tracker/?territory=europe-africa")

    page.get_by_label("Priority of Rita Ramping").fill("3")

    proposed = page.get_by_test_id("preview-proposed")
    proposed.wait_for()
    names = proposed.locator("li").all_inner_texts()
    assert len(names) == 20
    assert names.count("Rita Ramping") == 5
    ramping.refresh_from_db()
    assert ramping.priority == 1

    row = page.locator(f"#member-{ramping.pk}")
    row.get_by_label("Reason for the change to Rita Ramping").fill("ramping up")
    row.get_by_role("button", name="Save").click()
    page.get_by_text("Priority change 1 → 3").wait_for()

    ramping.refresh_from_db()
    assert ramping.priority == 3
    event = RoundRobinEvent.objects.get(member=ramping, kind=LedgerKind.WEIGHT)
    assert (event.old_value, event.new_value, event.reason) == ("1", "3", "ramping up")
    assert page.get_by_label("Priority of Rita Ramping").input_value() == "3"


def test_a_tam_sees_the_tracker_read_only(page, login_as):
    someone = member(user=tam(name="Omar Other"))
    login_as(tam(name="Tara Tam"))
    page.goto("/tracker/?territory=europe-africa")

    row = page.locator(f"#member-{someone.pk}")
    row.wait_for()
    assert row.get_by_role("spinbutton").count() == 0
    assert row.get_by_role("button", name="Save").count() == 0
    assert page.get_by_text("Only team leads and managers can change weights").is_visible()
