"""Under CI a missing service fails the run; locally it only skips what needs it."""

from __future__ import annotations

import socket

import pytest

import conftest


def test_a_missing_service_fails_the_whole_run_under_ci(monkeypatch):
    monkeypatch.setattr(conftest, "IN_CI", True)
    with pytest.raises(pytest.exit.Exception) as stopped:
        conftest._missing_service("Redis is not reachable at redis://127.0.0.1:6379/0")
    assert stopped.value.returncode == 3
    assert "CI=true" in str(stopped.value)


def test_a_missing_service_skips_only_what_needs_it_locally(monkeypatch):
    monkeypatch.setattr(conftest, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception):
        conftest._missing_service("Redis is not reachable")


def test_an_unreachable_port_is_reported_as_missing():
    # Port 9 (discard) is closed on these machines: nothing listens there.
    assert not conftest._reachable("redis://127.0.0.1:9/0", 6379)
    assert conftest._reachable("redis://127.0.0.1:6379/0", 6379)


def test_a_socket_directory_is_reachable_only_with_the_servers_socket_in_it(tmp_path):
    # The quick start's embedded PostgreSQL listens on a Unix socket only.
    assert not conftest._postgres_reachable(str(tmp_path), 5432)
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(tmp_path / ".s.PGSQL.5432"))
        assert conftest._postgres_reachable(str(tmp_path), 5432)
        assert not conftest._postgres_reachable(str(tmp_path), 5433)
