"""The client address behind trusted proxies (revopsweb.client), and its two users:
the contact form's rate limit and login throttling."""

from __future__ import annotations

import uuid

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory
from django.urls import reverse

from accounts.tests.factories import TEST_PASSWORD, tam
from leads.models import Task
from leads.tests.factories import member
from revopsweb.client import client_ip

PROXY = "10.0.0.1"


def _request(forwarded: str | None = None, remote: str = PROXY):
    request = RequestFactory().get("/")
    request.META["REMOTE_ADDR"] = remote
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return request


# --- the helper ---------------------------------------------------------------


def test_without_a_trusted_proxy_the_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(_request("9.9.9.9", remote="203.0.113.7")) == "203.0.113.7"


def test_behind_one_proxy_the_client_is_the_entry_that_proxy_appended(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request("203.0.113.7")) == "203.0.113.7"


def test_a_spoofed_value_in_front_of_the_chain_is_not_believed(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client sent "X-Forwarded-For: 9.9.9.9"; the proxy appended what it saw.
    assert client_ip(_request("9.9.9.9, 203.0.113.7")) == "203.0.113.7"


def test_behind_two_proxies_the_client_is_second_from_the_right(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(_request("1.2.3.4, 10.0.0.1")) == "1.2.3.4"
    assert client_ip(_request("9.9.9.9, 1.2.3.4, 10.0.0.1")) == "1.2.3.4"


def test_a_malformed_entry_falls_back_to_the_socket_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request("not-an-ip")) == PROXY
    assert client_ip(_request(" , ")) == PROXY


def test_ipv6_entries_are_kept(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request("2001:db8::1")) == "2001:db8::1"


# --- the contact form's limit ---------------------------------------------------

CONTACT = {
    "name": "Dana Lee",
    "email": "dana@client-example.de",
    "company": "Client Example",
    "country": "DE",
    "employees": "120",
    "message": "Please call.",
}


@pytest.fixture
def limited(settings):
    settings.RATELIMIT_ENABLE = True
    settings.RATELIMIT_CACHE_PREFIX = f"rl-test-{uuid.uuid4().hex}:"
    settings.CONTACT_FORM_RATE = "1/h"


def _contact(client, forwarded: str) -> int:
    return client.post(
        reverse("leads:contact"), CONTACT, HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=PROXY
    ).status_code


@pytest.mark.django_db
@pytest.mark.usefixtures("limited")
def test_a_normal_proxy_chain_is_limited_per_client_not_answered_500(client, settings):
    settings.TRUSTED_PROXY_COUNT = 2
    member()
    assert _contact(client, "1.2.3.4, 10.0.0.1") == 302
    assert _contact(client, "1.2.3.4, 10.0.0.1") == 429
    # Another client behind the same proxies has its own allowance.
    assert _contact(client, "5.6.7.8, 10.0.0.1") == 302
    assert Task.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.usefixtures("limited")
def test_changing_a_spoofed_header_does_not_reset_the_limit(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    member()
    assert _contact(client, "9.9.9.9, 203.0.113.7") == 302
    assert _contact(client, "8.8.8.8, 203.0.113.7") == 429
    assert _contact(client, "203.0.113.7") == 429
    assert Task.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("limited")
def test_without_a_proxy_a_sent_header_does_not_pick_the_address(client, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    member()
    assert _contact(client, "9.9.9.9") == 302
    assert _contact(client, "8.8.8.8") == 429


# --- login throttling (django-axes), real login POSTs ----------------------------


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3


def _login(client, email: str, password: str, forwarded: str = "203.0.113.7"):
    return client.post(
        reverse("login"),
        {"username": email, "password": password},
        HTTP_X_FORWARDED_FOR=forwarded,
        REMOTE_ADDR=PROXY,
    )


def _logged_in(response) -> bool:
    return response.status_code == 302 and response.url == reverse("home")


@pytest.mark.django_db
@pytest.mark.usefixtures("axes_on")
def test_repeated_failures_lock_the_account_from_that_address(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    tam(email="ana@example.test")
    failures = [_login(client, "ana@example.test", "wrong").status_code for _ in range(3)]
    # The third failure reaches AXES_FAILURE_LIMIT and is answered with the lockout.
    assert failures == [200, 200, 429]

    locked = _login(client, "ana@example.test", TEST_PASSWORD)

    assert not _logged_in(locked)
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
@pytest.mark.usefixtures("axes_on")
def test_failures_count_whatever_the_capitalisation_of_the_email(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    tam(email="ana@example.test")
    for email in ("Ana@example.test", "ANA@EXAMPLE.TEST", "ana@example.test"):
        _login(client, email, "wrong")

    assert _login(client, "ana@example.test", TEST_PASSWORD).status_code == 429


@pytest.mark.django_db
@pytest.mark.usefixtures("axes_on")
def test_a_locked_account_does_not_lock_colleagues_behind_the_same_proxy(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    tam(email="ana@example.test")
    tam(email="ben@example.test")
    for _ in range(3):
        _login(client, "ana@example.test", "wrong", forwarded="203.0.113.7")

    # Ben behind the same office proxy (same REMOTE_ADDR), even from Ana's desk.
    assert _logged_in(_login(client, "ben@example.test", TEST_PASSWORD, forwarded="203.0.113.8"))
    client.logout()
    assert _logged_in(_login(client, "ben@example.test", TEST_PASSWORD, forwarded="203.0.113.7"))
    client.logout()
    # Ana herself from another address.
    assert _logged_in(_login(client, "ana@example.test", TEST_PASSWORD, forwarded="198.51.100.9"))


@pytest.mark.django_db
@pytest.mark.usefixtures("axes_on")
@pytest.mark.parametrize("header", ["HTTP_USER_AGENT", "HTTP_ACCEPT"])
@pytest.mark.parametrize("password", ["wrong", TEST_PASSWORD])
def test_a_nul_in_a_header_axes_stores_refuses_the_login_instead_of_a_500(client, header, password):
    # django-axes stores the failed attempt's User-Agent and Accept, which
    # PostgreSQL refuses with a NUL; gunicorn answers 400 before the app, other
    # servers pass the header on.
    tam(email="ana@example.test")

    response = client.post(
        reverse("login"),
        {"username": "ana@example.test", "password": password},
        **{header: "Mozilla/5.0\x00"},
    )

    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
    assert not AccessAttempt.objects.exists()
