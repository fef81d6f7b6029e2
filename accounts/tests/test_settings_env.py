from __future__ import annotations

import pytest

from revopsweb.env import ImproperlyConfiguredEnv, env_bool, env_int, env_list


def test_booleans_accept_the_usual_spellings(monkeypatch):
    monkeypatch.setenv("FLAG", "Yes")
    assert env_bool("FLAG", default=False) is True
    monkeypatch.setenv("FLAG", "off")
    assert env_bool("FLAG", default=True) is False


def test_a_mistyped_boolean_stops_start_up(monkeypatch):
    monkeypatch.setenv("FLAG", "ture")
    with pytest.raises(ImproperlyConfiguredEnv, match="FLAG"):
        env_bool("FLAG", default=False)


def test_a_mistyped_integer_stops_start_up(monkeypatch):
    monkeypatch.setenv("N", "ten")
    with pytest.raises(ImproperlyConfiguredEnv, match="N"):
        env_int("N", 1)


def test_lists_split_on_commas_and_default_when_empty(monkeypatch):
    monkeypatch.setenv("HOSTS", " a.example , b.example,")
    assert env_list("HOSTS", []) == ["a.example", "b.example"]
    monkeypatch.setenv("HOSTS", "")
    assert env_list("HOSTS", ["x"]) == ["x"]


@pytest.mark.django_db
def test_the_app_connections_run_without_jit_by_default():
    # DB_JIT unset (its default, off): the server's jit setting is overridden
    # for the session, so no page pays for JIT compilation.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
