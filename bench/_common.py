"""Helpers shared by the benchmarks (not a benchmark: the runner skips ``_`` modules)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


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
    """``VACUUM ANALYZE`` the whole bench database after bulk loads.

    Some servers run with autovacuum off, and even with it on, fresh COPYs
    leave the planner with stale statistics and every heap page unfrozen, so
    the first measured queries would pay for both.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        # VACUUM cannot run in a transaction (a test calling a benchmark's data
        # setup runs in one); statistics are what the planner needs there.
        cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")


def page_sql(client: Any, url: str) -> tuple[Any, list[str]]:
    """GET ``url`` with the test ``client``: the response (asserted 200) and the SQL
    statements the page issued, in order."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response, [q["sql"] for q in captured.captured_queries]


def sql_replay(statements: list[str]) -> Callable[[], None]:
    """A call that runs ``statements`` on the bench connection and fetches every row:
    a page's SQL alone, the anchor its server time is compared with."""
    from django.db import connection

    def replay() -> None:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
                if cursor.description:
                    cursor.fetchall()

    return replay


@contextmanager
def history_off(*tables: str) -> Iterator[None]:
    """Run a bulk fixture load into ``tables`` without django-pghistory's row triggers.

    Must run inside a transaction (the switch is part of it, so a failure
    leaves the triggers on). Synthetic rows are not changes anyone made, and
    the history trigger cost about 300 µs a row (3/4 of an INSERT ... SELECT
    into billing_monthlyrevenue at load 12): minutes at 100,000 accounts × 24
    months. The demo seed leaves them out of its COPYs the same way; other
    triggers (the MRR rollup's) run as always.
    """
    from django.db import connection

    from accounts.demo import HISTORY_TRIGGER_NAMES

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text, tgname FROM pg_trigger "
            "WHERE tgrelid = ANY(%s::regclass[]) AND tgname ~ %s",
            [list(tables), HISTORY_TRIGGER_NAMES],
        )
        triggers = [
            (connection.ops.quote_name(table), connection.ops.quote_name(name))
            for table, name in cursor.fetchall()
        ]
        for table, name in triggers:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {name}")
    yield
    with connection.cursor() as cursor:
        # A table with pending (deferred foreign key) trigger events cannot be
        # altered: run those checks now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table, name in triggers:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {name}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
