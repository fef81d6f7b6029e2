from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.context_processors import NAVIGATION
from accounts.tests.factories import TEST_PASSWORD, UserFactory, revops, tam, team_lead

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


def test_navigation_lists_every_section(client):
    client.force_login(tam())
    content = client.get(reverse("accounts:my_book")).content.decode()
    for url_name, label in NAVIGATION:
        assert f'href="{reverse(url_name)}"' in content
        assert label in content


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
