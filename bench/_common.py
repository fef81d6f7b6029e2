"""Helpers shared by the benchmarks (not a benchmark: the runner skips ``_`` modules)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
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
