"""Roles, admin access and passwords are a superuser's; everyone changes their own
password; sessions end after a working day without a request."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.models import User
from accounts.roles import Role
from accounts.tests.factories import TEST_PASSWORD, UserFactory, revops, tam

pytestmark = pytest.mark.django_db


def _change_url(person: User) -> str:
    return reverse("admin:accounts_user_change", args=[person.pk])


def _admin_post(person: User, **changes: object) -> dict[str, object]:
    """The admin change form's fields for ``person``, with ``changes``."""
    data: dict[str, object] = {
        "email": person.email,
        "name": person.name,
        "title": person.title,
        "region": person.region,
        "team_lead": "",
        "started_on": "",
        "quarterly_quota": "",
        "is_active": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "09:00:00",
    }
    data.update(changes)
    return data


def test_revops_cannot_make_themselves_superuser_or_give_themselves_a_role(client):
    me = revops()
    client.force_login(me)
    manager_group = Group.objects.get(name=Role.MANAGER)

    response = client.post(
        _change_url(me),
        _admin_post(me, name="Promoted", is_superuser="on", groups=[manager_group.pk]),
    )

    assert response.status_code == 302
    me.refresh_from_db()
    assert me.name == "Promoted"  # their details are theirs to edit
    assert not me.is_superuser
    assert set(me.groups.values_list("name", flat=True)) == {Role.REVOPS}


def test_revops_cannot_give_a_colleague_staff_status_or_a_role(client):
    client.force_login(revops())
    colleague = tam()

    client.post(
        _change_url(colleague),
        _admin_post(colleague, is_staff="on", groups=[Group.objects.get(name=Role.REVOPS).pk]),
    )

    colleague.refresh_from_db()
    assert not colleague.is_staff
    assert set(colleague.groups.values_list("name", flat=True)) == {Role.TAM}


def test_revops_cannot_set_another_persons_password_in_the_admin(client):
    client.force_login(revops())
    colleague = tam()
    url = reverse("admin:auth_user_password_change", args=[colleague.pk])

    response = client.post(url, {"password1": "N3w-long-secret!", "password2": "N3w-long-secret!"})

    assert response.status_code == 403
    colleague.refresh_from_db()
    assert colleague.check_password(TEST_PASSWORD)


def test_a_superuser_sets_another_persons_password_in_the_admin(client):
    client.force_login(UserFactory.create(is_superuser=True, is_staff=True))
    colleague = tam()
    url = reverse("admin:auth_user_password_change", args=[colleague.pk])

    response = client.post(url, {"password1": "N3w-long-secret!", "password2": "N3w-long-secret!"})

    assert response.status_code == 302
    colleague.refresh_from_db()
    assert colleague.check_password("N3w-long-secret!")


def test_revops_cannot_edit_a_superusers_record(client):
    client.force_login(revops())
    boss = UserFactory.create(is_superuser=True, is_staff=True)

    response = client.post(_change_url(boss), _admin_post(boss, is_active=""))

    assert response.status_code == 403
    boss.refresh_from_db()
    assert boss.is_active


def test_a_superuser_changes_roles_and_staff_status(client):
    client.force_login(UserFactory.create(is_superuser=True, is_staff=True))
    colleague = tam()
    revops_group = Group.objects.get(name=Role.REVOPS)

    response = client.post(
        _change_url(colleague), _admin_post(colleague, is_staff="on", groups=[revops_group.pk])
    )

    assert response.status_code == 302
    colleague.refresh_from_db()
    assert colleague.is_staff
    assert set(colleague.groups.values_list("name", flat=True)) == {Role.REVOPS}


def test_the_admin_add_form_for_revops_has_no_roles():
    from django.contrib.admin.sites import site
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = revops()
    fieldsets = site._registry[User].get_fieldsets(request)
    fields = {f for _, opts in fieldsets for f in opts["fields"]}
    assert "groups" not in fields
    assert "email" in fields


def test_staff_change_their_own_password_in_the_app(client):
    me = tam()
    client.force_login(me)

    page = client.get(reverse("password_change"))
    response = client.post(
        reverse("password_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "Quarterly-plan-42",
            "new_password2": "Quarterly-plan-42",
        },
    )

    assert page.status_code == 200
    assert response.status_code == 302
    assert response.url == reverse("password_change_done")
    me.refresh_from_db()
    assert me.check_password("Quarterly-plan-42")
    # Still logged in after the change.
    assert client.get(reverse("password_change_done")).status_code == 200


def test_a_wrong_current_password_changes_nothing(client):
    me = tam()
    client.force_login(me)

    response = client.post(
        reverse("password_change"),
        {
            "old_password": "not-it",
            "new_password1": "Quarterly-plan-42",
            "new_password2": "Quarterly-plan-42",
        },
    )

    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
    me.refresh_from_db()
    assert me.check_password(TEST_PASSWORD)


def test_the_password_page_needs_a_login(client):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


def test_a_session_ends_after_a_working_day_without_a_request(client, settings):
    settings.SESSION_COOKIE_AGE = 10 * 3600
    with time_machine.travel(START, tick=False):
        client.post(reverse("login"), {"username": tam().email, "password": TEST_PASSWORD})
    with time_machine.travel(START + dt.timedelta(hours=10, minutes=1), tick=False):
        response = client.get(reverse("accounts:my_book"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_each_request_extends_the_session(client, settings):
    settings.SESSION_COOKIE_AGE = 10 * 3600
    with time_machine.travel(START, tick=False):
        client.post(reverse("login"), {"username": tam().email, "password": TEST_PASSWORD})
    for hours in (9, 18, 27):
        with time_machine.travel(START + dt.timedelta(hours=hours), tick=False):
            assert client.get(reverse("accounts:my_book")).status_code == 200
