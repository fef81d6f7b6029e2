from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.roles import Role
from accounts.tests.factories import (
    TEST_PASSWORD,
    UserFactory,
    actor,
    revops,
    tam,
    team_lead,
    user_with_role,
)

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get(reverse("accounts:my_book"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_staff_log_in_with_their_email(client):
    user = UserFactory.create(email="ana@example.test")
    response = client.post(
        reverse("login"), {"username": "ana@example.test", "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_wrong_password_shows_an_error_and_logs_nobody_in(client):
    UserFactory.create(email="ana@example.test")
    response = client.post(reverse("login"), {"username": "ana@example.test", "password": "nope"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert b"Please enter a correct" in response.content


def test_a_refused_login_says_only_the_password_is_case_sensitive(client):
    user = UserFactory.create(email="ana@example.test")

    refused = client.post(reverse("login"), {"username": "ana@example.test", "password": "NOPE"})
    accepted = client.post(
        reverse("login"), {"username": "ANA@Example.test", "password": TEST_PASSWORD}
    )

    text = refused.content.decode()
    assert "The password is case-sensitive." in text
    assert "both fields may be case-sensitive" not in text
    assert accepted.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


# Every section of the navigation, and which of the matrix roles may open it.
# Written out from the permission modules' docstrings (and the README's page
# table), not read from the registry under test.
EVERYONE = {"TAM", "CSM", "TAE", "team lead", "manager", "RevOps", "superuser"}
LEADS_UP = {"team lead", "manager", "RevOps", "superuser"}
SECTIONS = (
    ("accounts:my_book", "My book", EVERYONE),
    ("leads:my_tasks", "Tasks", EVERYONE),
    ("leads:tracker", "Round robin tracker", EVERYONE),
    ("leadgen:rules", "Lead rules", LEADS_UP),
    ("handovers:list", "Handovers", EVERYONE),
    ("churn:review", "Churn review", EVERYONE),
    ("churn:backtest", "Signal backtest", {"manager", "RevOps", "superuser"}),
    ("accounts:allocation", "Allocation", LEADS_UP),
    ("billing:revenue", "Revenue", LEADS_UP | {"TAM"}),
    ("billing:quota", "Quota", LEADS_UP | {"TAM"}),
    ("billing:trials", "Trials", EVERYONE),
    ("billing:dunning", "Dunning", EVERYONE),
)


def _nav(content: str) -> str:
    start = content.index('<ul class="app-nav"')
    return content[start : content.index("</ul>", start)]


@pytest.mark.parametrize("kind", sorted(EVERYONE))
def test_navigation_shows_exactly_the_sections_the_role_may_open(client, kind):
    user = actor(kind)
    client.force_login(user)
    nav = _nav(client.get(reverse("leads:my_tasks")).content.decode())
    for url_name, label, roles in SECTIONS:
        shown = f'href="{reverse(url_name)}"' in nav
        assert shown == (kind in roles), (kind, label)
        # ...and the page it links to opens for that role (no link to a 403).
        if shown:
            assert client.get(reverse(url_name)).status_code == 200, (kind, label)


def test_navigation_is_in_the_order_people_use_it(client):
    client.force_login(actor("manager"))
    nav = _nav(client.get(reverse("leads:my_tasks")).content.decode())
    positions = [nav.index(f'href="{reverse(url_name)}"') for url_name, _, _ in SECTIONS]
    assert positions == sorted(positions)


def test_a_refusal_is_a_page_of_the_app_that_says_why(client):
    client.force_login(user_with_role(Role.CSM, name="Cleo Smith"))
    response = client.get(reverse("billing:revenue"))
    assert response.status_code == 403
    content = response.content.decode()
    assert '<ul class="app-nav"' in content  # the app's layout, with its navigation
    assert "Revenue figures are for TAMs, team leads, managers and RevOps." in content
    assert "Cleo Smith (CSM)" in content


def test_every_refusal_of_lead_rules_says_why(client):
    client.force_login(tam())
    content = client.get(reverse("leadgen:rules")).content.decode()
    assert "Lead rules are for team leads, managers and RevOps." in content
    assert '<ul class="app-nav"' in content


def test_a_missing_page_is_a_page_of_the_app(client):
    client.force_login(tam())
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    content = response.content.decode()
    assert '<ul class="app-nav"' in content
    assert "does not exist, or what it shows is not in your book" in content


def test_admin_link_only_for_revops(client):
    client.force_login(tam())
    assert 'href="/admin/"' not in client.get(reverse("accounts:my_book")).content.decode()
    client.force_login(revops())
    assert 'href="/admin/"' in client.get(reverse("accounts:my_book")).content.decode()


def test_logout_is_a_post(client):
    client.force_login(tam())
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_health_check_needs_no_login(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "ok"},
    }


def test_pages_carry_the_csrf_header_for_htmx(client):
    client.force_login(tam())
    content = client.get(reverse("accounts:my_book")).content.decode()
    assert 'hx-headers=\'{"x-csrftoken": "' in content
    assert "/static/django_htmx/htmx-2.min.js" in content


def test_the_current_section_is_marked_on_its_sub_pages(client):
    client.force_login(team_lead())
    content = client.get(reverse("leads:team_tasks")).content.decode()
    assert f'<a href="{reverse("leads:my_tasks")}" aria-current="page">Tasks</a>' in content
    assert content.count('aria-current="page"') == 1
