"""The task page's htmx forms answer their errors in place (issue 19): focus on the
field to fix and the outcome in the live region."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import tam
from leads.tests.factories import TaskFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_refused_disqualify_moves_focus_to_the_comment_and_says_why(page, login_as):
    owner = tam(name="Tara Tam")
    task = TaskFactory.create(assignee=owner)
    login_as(owner)
    page.goto(f"/tasks/{task.pk}/")
    form = page.locator("form[action$='/disqualify/']")
    form.get_by_label("Reason").select_option("other")
    with page.expect_response(lambda r: r.request.method == "POST" and r.status == 422):
        form.get_by_role("button", name="Disqualify").click()
    comment = page.locator("form[action$='/disqualify/']").get_by_label("Comment")
    expect(comment).to_be_focused()
    expect(comment).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#messages")).to_have_text("Not saved: 1 field to fix.")
    expect(page.get_by_text("“Other” needs a comment.")).to_be_visible()
