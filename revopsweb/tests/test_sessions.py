"""revopsweb.sessions: Django's database sessions, read in one prepared statement."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from revopsweb.sessions import SessionStore

pytestmark = pytest.mark.django_db


def _saved_by_django(data: dict[str, object]) -> str:
    store = DjangoSessionStore()
    store.update(data)
    store.create()
    assert store.session_key is not None
    return store.session_key


def test_a_session_saved_by_djangos_store_loads_the_same_data() -> None:
    key = _saved_by_django({"_auth_user_id": "7", "note": "ünïcode"})

    assert SessionStore(key).load() == {"_auth_user_id": "7", "note": "ünïcode"}


def test_an_expired_session_loads_empty_and_forgets_its_key() -> None:
    key = _saved_by_django({"_auth_user_id": "7"})
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    store = SessionStore(key)

    assert store.load() == {}
    assert store.session_key is None


def test_an_unknown_key_loads_empty_and_forgets_it() -> None:
    store = SessionStore("x" * 32)

    assert store.load() == {}
    assert store.session_key is None


def test_loading_is_one_statement() -> None:
    key = _saved_by_django({"a": 1})

    with CaptureQueriesContext(connection) as queries:
        SessionStore(key).load()

    assert len(queries) == 1
    assert "django_session" in queries[0]["sql"]


def test_a_session_saved_here_is_read_by_djangos_store() -> None:
    store = SessionStore()
    store["note"] = "kept"
    store.create()

    assert DjangoSessionStore(store.session_key).load() == {"note": "kept"}


@pytest.mark.parametrize("key", ["abcdefgh\x00ijklmnop", "ABCDEFGHIJKLMNOP", "abc'; drop--xyzzy"])
def test_a_cookie_no_session_key_looks_like_signs_nobody_in(client, key: str) -> None:
    client.cookies["sessionid"] = key

    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
