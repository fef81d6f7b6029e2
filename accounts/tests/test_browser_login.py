from __future__ import annotations

import pytest

from accounts.tests.factories import tam

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_log_in_see_navigation_and_log_out(page, login_as):
    user = tam(name="Tina Tam")
    login_as(user)
    assert page.get_by_test_id("current-user").inner_text() == "Tina Tam"
    nav = page.get_by_role("list", name="Sections")
    for label in (
        "My book",
        "Tasks",
        "Round robin tracker",
        "Handovers",
        "Churn review",
        "Revenue",
    ):
        assert nav.get_by_role("link", name=label).is_visible()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login/")
    assert page.get_by_role("heading", name="Log in").is_visible()
