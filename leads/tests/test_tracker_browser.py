from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import tam, team_lead
from leads.models import LedgerKind, RoundRobinEvent, TrackerRole
from leads.tests.factories import member, territory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _open_edit(page, target, name):
    """Click the row's "Edit" and wait until htmx has wired the form it swapped in: it
    does so as the row settles (htmx-added removed), 20 ms on, and a fill before is lost."""
    page.get_by_role("link", name=f"Edit {name}").click()
    page.locator(f'#member-{target.pk}[data-testid="member-edit"]:not(.htmx-added)').wait_for()


def test_team_lead_changes_a_weight_sees_the_preview_and_saves(page, login_as):
    lead = team_lead(name="Lena Lead")
    ramping = member(user=tam(name="Rita Ramping", team_lead=lead))
    member(user=tam(name="Sam Steady"))
    login_as(lead)
    page.goto("/tracker/?territory=europe-africa")
    # The rows are read-only; "Edit" loads the row's form in its place.
    _open_edit(page, ramping, "Rita Ramping")

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
    page.locator("#messages").get_by_text("Priority change 1 → 3").wait_for()

    ramping.refresh_from_db()
    assert ramping.priority == 3
    event = RoundRobinEvent.objects.get(member=ramping, kind=LedgerKind.WEIGHT)
    assert (event.old_value, event.new_value, event.reason) == ("1", "3", "ramping up")
    # Saved, the row reads again, with the new priority.
    expect(page.locator(f"#member-{ramping.pk} td").nth(2)).to_have_text("3")
    expect(page.get_by_label("Priority of Rita Ramping")).to_have_count(0)


def test_a_tam_sees_the_tracker_read_only(page, login_as):
    someone = member(user=tam(name="Omar Other"))
    login_as(tam(name="Tara Tam"))
    page.goto("/tracker/?territory=europe-africa")

    # Omar's group is collapsed for Tara (not hers): its link loads its rows in place.
    row = page.locator(f"#member-{someone.pk}")
    expect(row).to_have_count(0)
    group = page.locator("#group-TAE-0")
    expect(group).to_contain_text("No team lead: 1 member, 1 active")
    group.get_by_role("link", name="Show the 1 member").click()
    row.wait_for()
    expect(page.get_by_role("link", name="Show the 1 member")).to_have_count(0)
    assert row.get_by_role("spinbutton").count() == 0
    assert row.get_by_role("button", name="Save").count() == 0
    assert row.get_by_role("link", name="Edit Omar Other").count() == 0
    assert page.get_by_text("Only team leads and managers can change weights").is_visible()


def test_toggling_one_territory_keeps_the_others(page, login_as):
    lead = team_lead(name="Lena Lead")
    both = member(
        user=tam(name="Bea Both", team_lead=lead),
        territories=[territory(), territory("asia-middle-east")],
    )
    login_as(lead)
    page.goto("/tracker/?territory=europe-africa")
    _open_edit(page, both, "Bea Both")
    choices = page.get_by_role("group", name="Territories of Bea Both")

    # A multiple select dropped the other territories on a click or ArrowDown.
    choices.get_by_label("Europe & Africa").focus()
    page.keyboard.press("ArrowDown")
    choices.get_by_label("U.S. West").check()
    choices.get_by_label("Asia & Middle East").uncheck()

    expect(choices.get_by_label("Europe & Africa")).to_be_checked()
    expect(choices.get_by_label("U.S. West")).to_be_checked()
    page.get_by_label("Reason for the change to Bea Both").fill("covering the west coast")
    page.locator(f"#member-{both.pk}").get_by_role("button", name="Save").click()
    page.locator("#messages").get_by_text("Bea Both").wait_for()
    assert set(both.territories.values_list("slug", flat=True)) == {"europe-africa", "us-west"}


def test_enter_previews_beside_the_row_and_only_save_saves(page, login_as):
    lead = team_lead(name="Lena Lead")
    ramping = member(user=tam(name="Rita Ramping", team_lead=lead))
    member(user=tam(name="Sam Steady"))
    login_as(lead)
    # A short window: the preview used to render under the whole table, off-screen
    # (800 px: the row sits under its role's and its team's header rows).
    page.set_viewport_size({"width": 1400, "height": 800})
    page.goto("/tracker/?territory=europe-africa")
    _open_edit(page, ramping, "Rita Ramping")

    box = page.get_by_label("Priority of Rita Ramping")
    box.fill("3")
    box.press("Enter")
    preview = page.locator(f"#preview-{ramping.pk}")
    preview.get_by_test_id("preview-proposed").wait_for()

    expect(preview).to_be_in_viewport()
    row = page.locator(f"#member-{ramping.pk}").bounding_box()
    shown = preview.bounding_box()
    assert row is not None and shown is not None
    assert abs(shown["y"] - (row["y"] + row["height"])) < 2  # directly under the row
    page.wait_for_load_state("networkidle")
    ramping.refresh_from_db()
    assert ramping.priority == 1
    assert not RoundRobinEvent.objects.filter(member=ramping, kind=LedgerKind.WEIGHT).exists()
    expect(page.locator("#messages")).to_be_empty()


def test_history_refreshes_after_a_save_without_a_reload(page, login_as):
    lead = team_lead(name="Lena Lead")
    ramping = member(user=tam(name="Rita Ramping", team_lead=lead))
    login_as(lead)
    page.goto("/tracker/?territory=europe-africa")
    expect(page.locator("#history-rows")).to_contain_text("No changes yet.")
    page.evaluate("window.notReloaded = true")

    _open_edit(page, ramping, "Rita Ramping")
    page.get_by_label("Manual adjustment of Rita Ramping").fill("5")
    page.get_by_label("Reason for the change to Rita Ramping").fill("back from leave")
    page.locator(f"#member-{ramping.pk}").get_by_role("button", name="Save").click()

    history = page.locator("#history-rows tr").first
    expect(history).to_contain_text("back from leave")
    expect(history).to_contain_text("0 → 5")
    assert page.evaluate("window.notReloaded") is True
    # The row's figures are the saved ones too: load = (0 leads + 5) × priority 1.
    expect(page.locator(f"#member-{ramping.pk} td").nth(6)).to_have_text("5")


def test_members_are_grouped_by_role_each_with_its_next_in_line(page, login_as):
    login_as(team_lead(name="Lena Lead"))
    member(user=tam(name="Tess Tae"), role=TrackerRole.TAE)
    member(user=tam(name="Tom Tam"), role=TrackerRole.TAM)
    page.goto("/tracker/?territory=europe-africa")

    groups = page.get_by_test_id("role-group")
    expect(groups).to_have_count(2)
    expect(groups.nth(0)).to_have_text("TAEs · next in line: Tess Tae")
    expect(groups.nth(1)).to_have_text("TAMs · next in line: Tom Tam")


def test_a_save_without_a_reason_shows_the_error_in_the_row(page, login_as):
    lead = team_lead(name="Lena Lead")
    ramping = member(user=tam(name="Rita Ramping", team_lead=lead))
    login_as(lead)
    page.goto("/tracker/?territory=europe-africa")
    _open_edit(page, ramping, "Rita Ramping")

    page.get_by_label("Manual adjustment of Rita Ramping").fill("5")
    page.locator(f"#member-{ramping.pk}").get_by_role("button", name="Save").click()

    expect(page.locator(f"#member-{ramping.pk}")).to_contain_text("Say why the adjustment changes.")
    expect(page.get_by_label("Manual adjustment of Rita Ramping")).to_have_value("5")
    ramping.refresh_from_db()
    assert ramping.manual_adjustment == 0


def test_without_javascript_edit_preview_and_save_a_row(no_js_login_as):
    lead = team_lead(name="Lena Lead")
    ramping = member(user=tam(name="Rita Ramping", team_lead=lead))
    member(user=tam(name="Sam Steady"))
    page = no_js_login_as(lead)
    page.goto("/tracker/?territory=europe-africa")
    page.get_by_role("link", name="Edit Rita Ramping").click()
    page.wait_for_url(f"**/tracker/?territory=europe-africa&edit={ramping.pk}#member-{ramping.pk}")

    page.get_by_label("Priority of Rita Ramping").fill("3")
    page.locator(f"#member-{ramping.pk}").get_by_role("button", name="Preview").click()
    # A plain form post: the click returns once the navigation starts, before the preview is in.
    page.get_by_test_id("preview-proposed").wait_for()
    names = page.get_by_test_id("preview-proposed").locator("li").all_inner_texts()
    assert names.count("Rita Ramping") == 5
    expect(page.get_by_label("Priority of Rita Ramping")).to_have_value("3")

    page.get_by_label("Reason for the change to Rita Ramping").fill("ramping up")
    page.locator(f"#member-{ramping.pk}").get_by_role("button", name="Save").click()
    page.locator("#messages").get_by_text("Priority change 1 → 3").wait_for()
    expect(page.get_by_label("Priority of Rita Ramping")).to_have_count(0)
    ramping.refresh_from_db()
    assert ramping.priority == 3
    assert (
        RoundRobinEvent.objects.get(member=ramping, kind=LedgerKind.WEIGHT).reason == "ramping up"
    )


def test_an_edited_row_fits_a_1280_px_window(page, login_as):
    # The walk found Save and Preview off-screen at 1280 px: long territory names and
    # full-width number inputs made the edited row wider than the window.
    lead = team_lead(name="Lena Lead")
    wide = member(
        user=tam(name="Wanda Wide", team_lead=lead),
        territories=[territory(), territory("asia-middle-east")],
    )
    page.set_viewport_size({"width": 1280, "height": 800})
    login_as(lead)
    page.goto("/tracker/?territory=europe-africa")
    _open_edit(page, wide, "Wanda Wide")

    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    save = page.locator(f"#member-{wide.pk}").get_by_role("button", name="Save")
    box = save.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1280
