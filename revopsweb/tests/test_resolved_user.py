"""``ResolvedUserMiddleware``: views read the signed-in user itself, not a lazy proxy."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils.functional import LazyObject

from accounts.models import User
from accounts.tests.factories import tam

pytestmark = pytest.mark.django_db


def test_a_signed_in_request_carries_the_user_itself(client):
    person = tam(name="Ann")
    client.force_login(person)

    request = client.get("/book/").wsgi_request

    assert not isinstance(request.user, LazyObject)
    assert type(request.user) is User
    assert request.user.pk == person.pk


def test_an_anonymous_request_carries_the_anonymous_user(client):
    request = client.get("/login/").wsgi_request

    assert type(request.user) is AnonymousUser
