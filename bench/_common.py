"""Helpers shared by the benchmarks (not a benchmark: the runner skips ``_`` modules)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
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


def _ticks_to_seconds() -> float:
    return 1.0 / os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) used so far by process ``pid``; None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the command name: state is field 3, utime and stime fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) * _ticks_to_seconds()


# During a load run, the database's backends are listed every BACKEND_LIST_SECONDS
# (a query of pg_stat_activity, which costs the server too) and the CPU of those
# listed read every BACKEND_READ_SECONDS (/proc, cheap): a backend that ends loses
# at most the CPU it used in its last read interval.
BACKEND_LIST_SECONDS = 0.1
BACKEND_READ_SECONDS = 0.025


class BackendCpu:
    """The CPU used by this database's PostgreSQL backends (the workers' connections,
    and the parallel workers of their queries) during a load run, read from ``/proc``
    by a thread that lists them in ``pg_stat_activity`` on a connection of its own
    (``BACKEND_LIST_SECONDS``, ``BACKEND_READ_SECONDS``); ``exclude`` is a backend
    not to count (``pages``: the bench's own, idle while gunicorn serves; 0 for none,
    as ``revenue`` counts the backend that runs the refresh).

    Listing them only before and after the run missed every backend that ended in
    between, with the CPU it had used since the start: Django closes a connection older
    than ``CONN_MAX_AGE`` (60 s) at the end of a request, so about every minute each
    worker's backend ends and a new one starts, and the full run of 2dc93c8 reported
    0.34 ms of PostgreSQL CPU per tracker request where its SQL replay takes 11.5 ms
    (the tracker runs last, about a minute after the workers connected). A parallel
    query's workers, too, live for one statement. Here a backend that ends loses only
    what it used after its last read, one that starts during the run counts from zero
    (``started`` of them), and one that starts and ends between two listings is missed."""

    def __init__(self, *, exclude: int = 0) -> None:
        self.exclude = exclude
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.started = 0
        self._error: BaseException | None = None
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="backend-cpu", daemon=True)

    def __enter__(self) -> BackendCpu:
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        if self._error is not None:
            raise self._error

    @property
    def cpu(self) -> float:
        """CPU seconds the backends used between the first listing and the last read."""
        return sum(self.last[pid] - first for pid, first in self.first.items())

    def _run(self) -> None:
        from django.db import connection  # this thread's own connection

        reads_per_listing = max(1, round(BACKEND_LIST_SECONDS / BACKEND_READ_SECONDS))
        try:
            with connection.cursor() as cursor:
                self._list(cursor, first=True)
                self._ready.set()
                tick = 0
                while not self._stop.wait(BACKEND_READ_SECONDS):
                    tick += 1
                    if tick % reads_per_listing:
                        self._read()
                    else:
                        self._list(cursor)
                self._list(cursor)
        except BaseException as error:  # re-raised in the bench's thread
            self._error = error
        finally:
            self._ready.set()
            connection.close()

    def _list(self, cursor: Any, *, first: bool = False) -> None:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND pid <> %s",
            [self.exclude],
        )
        for (pid,) in cursor.fetchall():
            if pid not in self.first:
                cpu = process_cpu(pid)
                if cpu is None:
                    continue
                self.first[pid] = cpu if first else 0.0
                self.last[pid] = cpu
                self.started += not first
        self._read()

    def _read(self) -> None:
        for pid in self.last:
            cpu = process_cpu(pid)
            if cpu is not None:
                self.last[pid] = cpu


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
