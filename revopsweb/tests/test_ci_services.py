"""Under CI a missing service fails the run; locally it only skips what needs it."""

from __future__ import annotations

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


class _Item:
    def __init__(self, marked: bool) -> None:
        self.marked = marked

    def get_closest_marker(self, name: str) -> object | None:
        return object() if self.marked and name == "postgres_only" else None


def test_the_postgres_only_marker_skips_by_itself_off_postgresql(monkeypatch):
    from types import SimpleNamespace

    monkeypatch.setattr(conftest, "connection", SimpleNamespace(vendor="sqlite"))
    with pytest.raises(pytest.skip.Exception):
        conftest.pytest_runtest_setup(_Item(marked=True))  # type: ignore[arg-type]
    conftest.pytest_runtest_setup(_Item(marked=False))  # type: ignore[arg-type]


def test_the_postgres_only_marker_runs_on_postgresql(monkeypatch):
    from types import SimpleNamespace

    monkeypatch.setattr(conftest, "connection", SimpleNamespace(vendor="postgresql"))
    conftest.pytest_runtest_setup(_Item(marked=True))  # type: ignore[arg-type]
