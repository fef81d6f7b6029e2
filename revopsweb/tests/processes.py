"""Helpers for tests that run the app as real processes (gunicorn, Celery, redis-server).

Every process gets the test database (the one pytest-django created, so the
suite's own database is never touched by name) and a free loopback port, and
is stopped when the test ends, whatever happened.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_database_url() -> str:
    """The URL of the database this test runs on (pytest-django's test database)."""
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def app_env(**overrides: str) -> dict[str, str]:
    """The environment of an app process: this test's database, then ``overrides``."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="revopsweb.test_settings",
        DATABASE_URL=test_database_url(),
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


@contextmanager
def running(
    args: list[str], *, env: dict[str, str], log: Path, name: str = ""
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``args`` in its own process group; on exit stop it (TERM, then KILL)."""
    with open(log, "wb") as out:
        process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield process
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes], *, timeout: float = 15) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)
    except ProcessLookupError:
        pass


def wait_for(
    condition: Callable[[], object], *, timeout: float, what: str, log: Path | None = None
) -> None:
    """Poll ``condition`` until it is truthy; fail with ``what`` (and the log's tail) if not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{tail}")


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def private_redis(data: Path, *, appendonly: bool = False) -> Iterator[str]:
    """A redis-server of this test alone (own port, own process, data in ``data``)."""
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "yes" if appendonly else "no", "--dir", str(data)],
        stdout=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        wait_for(lambda: port_open(port), timeout=10, what="redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(process)
