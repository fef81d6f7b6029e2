"""Staff e-mail addresses match whatever their case (issue 16 §3): stored in one
spelling, looked up through lower(email), unique at the database whatever the case."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _admin_add(client, email: str):
    client.force_login(UserFactory.create(is_staff=True, is_superuser=True))
    return client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": email,
            "name": "First Last",
            "usable_password": "true",
            "password1": "a long Passphrase 42",
            "password2": "a long Passphrase 42",
        },
    )


def test_a_user_added_in_the_admin_with_capitals_is_stored_in_lower_case(client):
    response = _admin_add(client, "First.Last@Example.com")
    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.filter(name="First Last").get().email == "first.last@example.com"


def test_the_admin_refuses_an_address_that_differs_only_in_case(client):
    UserFactory.create(email="first.last@example.com")
    response = _admin_add(client, "First.Last@EXAMPLE.com")
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["email"]
    assert User.objects.filter(email__iexact="first.last@example.com").count() == 1


@pytest.mark.parametrize("typed", ["first.last@example.com", "FIRST.LAST@EXAMPLE.COM"])
def test_staff_log_in_typing_their_address_in_any_case(client, typed):
    user = UserFactory.create(email="First.Last@Example.com")
    response = client.post(reverse("login"), {"username": typed, "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_the_database_refuses_a_second_address_differing_only_in_case():
    UserFactory.create(email="first.last@example.com")
    # Straight SQL, past every form and save(): the unique index on lower(email) holds.
    with (
        pytest.raises(IntegrityError, match="user_email_unique_any_case"),
        connection.cursor() as c,
    ):
        c.execute(
            "INSERT INTO accounts_user (email, name, title, region, password, is_superuser,"
            " is_staff, is_active, date_joined)"
            " VALUES ('First.Last@Example.com', 'Twin', '', '', '', false, false, true, now())"
        )
