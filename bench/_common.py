"""Helpers shared by the benchmarks (not a benchmark: the runner skips ``_`` modules)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, NamedTuple


def seconds(work: Callable[[], Any]) -> float:
    """Wall-clock seconds of one call of ``work``."""
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def best_seconds(work: Callable[[], Any], *, repeat: int) -> float:
    """The fastest of ``repeat`` calls of ``work``, in seconds."""
    return min(seconds(work) for _ in range(repeat))


def setup_django() -> None:
    """Set Django up for a benchmark run on its own (``python -c ...``); a no-op under the runner."""
    import django
    from django.apps import apps

    if not apps.ready:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "revopsweb.settings")
        django.setup()


def vacuum_analyze() -> None:
    """``VACUUM ANALYZE`` the whole bench database after bulk loads, then ``CHECKPOINT``.

    Some servers run with autovacuum off, and even with it on, fresh COPYs
    leave the planner with stale statistics and every heap page unfrozen, so
    the first measured queries would pay for both.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        # VACUUM cannot run in a transaction (a test calling a benchmark's data
        # setup runs in one); statistics are what the planner needs there.
        if connection.in_atomic_block:
            cursor.execute("ANALYZE")
            return
        cursor.execute("VACUUM ANALYZE")
        # The load and the VACUUM leave hundreds of MB dirty; without a checkpoint
        # here the server writes them back (and starts a checkpoint when the WAL
        # passes max_wal_size) while the first timed statement runs, so the
        # benchmark pays for its own seed, and its anchor, timed later, does not.
        cursor.execute("CHECKPOINT")


class Issued(NamedTuple):
    """One statement a page issued: its text with the values written in, and, for a
    statement the app ran prepared (``revopsweb.sql.prepared_cursor``), the SQL and
    parameters the server was sent."""

    sql: str
    prepared: tuple[str, Any] | None


def page_sql(client: Any, url: str) -> tuple[Any, list[Issued]]:
    """GET ``url`` with the test ``client``: the response (asserted 200) and the SQL
    statements the page issued, in order."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    logged: list[dict[str, Any]] = captured.captured_queries
    return response, [Issued(q["sql"], q.get("prepared")) for q in logged]


def sql_replay(statements: list[Issued]) -> Callable[[], None]:
    """A call that runs ``statements`` on the bench connection as the page ran them
    and fetches every row: a page's SQL alone, the anchor its server time is compared
    with. A statement the app prepares is replayed prepared with its own parameters,
    so neither side pays planning the other skips (with ``DB_PREPARE`` on, the account
    page's main statement plans in about 7.5 ms and runs in 0.65 ms)."""
    from django.db import connection

    from revopsweb.sql import prepared_cursor

    def replay() -> None:
        for statement in statements:
            if statement.prepared is None:
                with connection.cursor() as cursor:
                    cursor.execute(statement.sql)
                    if cursor.description:
                        cursor.fetchall()
            else:
                with prepared_cursor(connection) as cursor:
                    cursor.execute(*statement.prepared)
                    cursor.fetchall()

    return replay
