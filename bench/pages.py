"""Benchmark ``pages``: the pages people live in, as production serves them.

On the demo company the seed benchmark leaves behind (``python -m bench seed
--accounts N`` first; the runner runs it first), with ``DEBUG`` off:

- **size and time, empty cache**: each page's HTML in bytes and its median time
  over HTTP from gunicorn on loopback, the cache (Redis) cleared before every
  request, so nothing a previous request or an hourly job left is reused.
  Goal: ≤ 300 KB and ≤ 300 ms at 100,000 accounts.
- **server time vs its SQL** (My book, the account page, the tracker): the
  page rendered in this process (Django's test client, cache cleared before
  each request) against the very statements it issued replayed on a cursor,
  as in ``books``. Goal: ≤ 2×.
- **throughput vs the login page**: a bounded load generator (wrk when it is
  installed, else asyncio; 8 concurrent connections, loopback only, a fixed
  number of seconds per page) against gunicorn with 2 sync workers:
  requests/second of each page as a share of the login page's in the same run.
  Goal: ≥ 20 %. Beside them, the signed-in floor (``FLOOR``: the smallest page a
  signed-in person opens), in process and under load. Beside each, what each request cost in CPU: the generator's, and
  the server's (workers plus PostgreSQL backends, sampled through the run),
  whose ratio to the login
  page's is the same share with the machine's other load taken out.

Each figure is printed beside its goal. Logins: the demo's manager (churn
review, allocation, team tasks), its TAM (My book and the first account of the
book) and its team lead (tracker).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import BenchOptions, register
from bench._common import (
    BackendCpu,
    Issued,
    page_sql,
    process_cpu,
    seconds,
    setup_django,
    sql_replay,
)

ROOT = Path(__file__).resolve().parents[1]
WORKERS = 2
CONCURRENCY = 8
GOAL_BYTES = 300 * 1024
GOAL_MS = 300.0
GOAL_SQL_RATIO = 2.0
GOAL_THROUGHPUT_SHARE = 0.20
# name, demo login (local part), path (the account page's is filled in at run time)
PAGES: tuple[tuple[str, str, str], ...] = (
    ("churn_review", "manager", "/churn/"),
    ("allocation", "manager", "/book/allocation/"),
    ("team_tasks", "manager", "/tasks/team/"),
    ("my_book", "tam", "/book/"),
    ("account", "tam", "/accounts/{account}/"),
    ("tracker", "lead", "/tracker/"),
)
SQL_PAGES = ("my_book", "account", "tracker")
# What every signed-in page pays before its own work: the session, the user, the
# middleware and the header (base.html), measured on the smallest signed-in page, the
# TAM's password form (2 queries). Not a goal: the anchor that says how much of a
# page's budget (5 × login's CPU for 20 %) is spent before its own statements start.
FLOOR = ("signed_in_floor", "tam", "/password/")
_DECLARE = re.compile(r'^DECLARE "[^"]+" NO SCROLL CURSOR WITH(OUT)? HOLD FOR ')


def _median_ms(work: Callable[[], Any], *, repeat: int, before: Callable[[], Any]) -> float:
    """Median milliseconds of ``work`` over ``repeat`` calls, ``before`` run (untimed) ahead of each."""
    times = []
    for _ in range(repeat):
        before()
        times.append(seconds(work) * 1000)
    return statistics.median(times)


def _logins() -> tuple[dict[str, Any], int]:
    """The demo users by local part, and the first account (by id) of the TAM's book."""
    from accounts.demo import DEMO_EMAIL_DOMAIN
    from accounts.models import Account, User

    users = {
        local: User.objects.filter(email=f"{local}@{DEMO_EMAIL_DOMAIN}").first()
        for local in ("manager", "tam", "lead")
    }
    missing = [local for local, user in users.items() if user is None]
    if missing:
        raise SystemExit(
            f"pages: no demo {', '.join(missing)} login; run `python -m bench seed` first."
        )
    account = Account.objects.filter(owner=users["tam"]).order_by("pk").first()
    if account is None:
        raise SystemExit("pages: the demo TAM owns no account; run `python -m bench seed` first.")
    return users, account.pk


def _in_process(url: str, user: Any, *, repeat: int) -> dict[str, float]:
    """Server time in this process (empty cache), its SQL replayed, queries, bytes."""
    from django.core.cache import cache
    from django.test import Client

    client = Client()
    client.force_login(user)
    cache.clear()
    response, issued = page_sql(client, url)
    # A server-side cursor (QuerySet.iterator(), as form choice fields use) is
    # replayed as its plain SELECT: the same rows in one round trip.
    statements = [Issued(_DECLARE.sub("", one.sql), one.prepared) for one in issued]
    replay = sql_replay(statements)
    client.get(url)  # warm the connection and the template loader
    server_ms = _median_ms(lambda: client.get(url), repeat=repeat, before=cache.clear)
    sql_ms = _median_ms(replay, repeat=repeat, before=lambda: None)
    return {
        "server_ms": server_ms,
        "sql_ms": sql_ms,
        "server_to_sql": server_ms / sql_ms,
        "queries": float(len(statements)),
        "bytes": float(len(response.content)),
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Gunicorn:
    """gunicorn with ``WORKERS`` sync workers on a free loopback port (this run's settings)."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> _Gunicorn:
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "revopsweb.wsgi",
                "--workers",
                str(WORKERS),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "120",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env={**os.environ},
            start_new_session=True,
        )
        # A loaded machine (other sessions' suites) can take minutes to import
        # Django in two workers; the wait is a start check, not a measurement.
        wait = float(os.environ.get("BENCH_GUNICORN_START_SECONDS", "300"))
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5):
                    return self
            except OSError:
                if self.process.poll() is not None:
                    raise SystemExit("pages: gunicorn exited at start") from None
                time.sleep(0.3)
        # __exit__ does not run when __enter__ raises: stop the server here, or it outlives the run.
        self.__exit__()
        raise SystemExit(f"pages: gunicorn did not answer /healthz within {wait:.0f} s")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


async def _get(port: int, path: str, cookie: str) -> tuple[int, int]:
    """One GET on a fresh loopback connection: (status, body bytes)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    headers = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    if cookie:
        headers += f"Cookie: sessionid={cookie}\r\n"
    writer.write((headers + "\r\n").encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    head, _, body = data.partition(b"\r\n\r\n")
    return status, len(body)


def _http_ms(port: int, path: str, cookie: str, *, repeat: int) -> tuple[float, int]:
    """Median milliseconds of one GET at a time over HTTP, cache cleared before each; body bytes."""
    from django.core.cache import cache

    times = []
    size = 0
    for _ in range(repeat):
        cache.clear()
        started = time.perf_counter()
        status, size = asyncio.run(_get(port, path, cookie))
        times.append((time.perf_counter() - started) * 1000)
        assert status == 200, (path, status)
    return statistics.median(times), size


async def _python_load(port: int, path: str, cookie: str, duration: float) -> int:
    """Requests completed by ``CONCURRENCY`` asyncio connections at a time for ``duration`` s."""
    done = 0
    stop = time.perf_counter() + duration

    async def client() -> None:
        nonlocal done
        while time.perf_counter() < stop:
            status, _ = await _get(port, path, cookie)
            assert status == 200, (path, status)
            done += 1

    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    return done


_WRK_RPS = re.compile(r"^Requests/sec:\s+([0-9.]+)", re.MULTILINE)
_WRK_BAD = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)|Socket errors:.*timeout (\d+)")


def _wrk_load(port: int, path: str, cookie: str, duration: float) -> float:
    """Requests/second from wrk (one thread, ``CONCURRENCY`` connections) for ``duration`` s."""
    wrk = shutil.which("wrk")
    assert wrk is not None
    command = [wrk, "-t1", f"-c{CONCURRENCY}", f"-d{max(duration, 1):.0f}s", "--timeout", "60s"]
    if cookie:
        command += ["-H", f"Cookie: sessionid={cookie}"]
    output = subprocess.run(
        [*command, f"http://127.0.0.1:{port}{path}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 120,
    ).stdout
    bad = [int(n) for match in _WRK_BAD.findall(output) for n in match if n]
    assert not any(bad), (path, output)
    found = _WRK_RPS.search(output)
    assert found is not None, output
    return float(found.group(1))


def _use_wrk() -> bool:
    """wrk when it is on PATH, unless ``BENCH_LOAD_GENERATOR=python`` asks for the
    asyncio client (to compare the two generators on one machine)."""
    return os.environ.get("BENCH_LOAD_GENERATOR", "") != "python" and bool(shutil.which("wrk"))


def _gunicorn_pids(master: int) -> list[int]:
    """gunicorn's master and its workers."""
    pids = [master]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == master:
                pids.append(int(entry.name))
    return pids


def _throughput(server: _Gunicorn, path: str, cookie: str, duration: float) -> dict[str, float]:
    """Requests/second of ``path`` from ``CONCURRENCY`` connections at a time for
    ``duration`` s, and the CPU each request cost: the load generator's, and the
    server's (gunicorn's workers plus the PostgreSQL backends of this database,
    ``bench._common.BackendCpu``).

    The generator is wrk when it is installed (``apt-get install wrk``: a C client,
    a fraction of a millisecond of CPU per request), else this process's asyncio
    client (``BENCH_LOAD_GENERATOR=python`` forces it). Both run
    on the server's cores, so each request's CPU is printed beside its rate: the
    rate alone says how many requests the machine completed, the server's CPU per
    request what each cost whoever else was running."""
    from django.db import connection

    assert server.process is not None
    workers = _gunicorn_pids(server.process.pid)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (own_backend,) = cursor.fetchone()
    with BackendCpu(exclude=own_backend) as backends:
        before = {pid: process_cpu(pid) or 0.0 for pid in workers}
        # This thread's CPU only: the sampler's thread is not the generator.
        own = time.thread_time()
        children = os.times()
        started = time.perf_counter()
        if _use_wrk():
            rps = _wrk_load(server.port, path, cookie, duration)
            elapsed = time.perf_counter() - started
            done = rps * elapsed
            after_children = os.times()
            generator_cpu = (after_children.children_user - children.children_user) + (
                after_children.children_system - children.children_system
            )
        else:
            done = asyncio.run(_python_load(server.port, path, cookie, duration))
            elapsed = time.perf_counter() - started
            rps = done / elapsed
            generator_cpu = time.thread_time() - own
        worker_cpu = sum(
            (process_cpu(pid) or 0.0) - before.get(pid, 0.0)
            for pid in _gunicorn_pids(server.process.pid)
        )
    database_cpu = backends.cpu
    requests = max(done, 1.0)
    return {
        "rps": rps,
        "generator_cpu_ms": generator_cpu / requests * 1000,
        "server_cpu_ms": (worker_cpu + database_cpu) / requests * 1000,
        "database_cpu_ms": database_cpu / requests * 1000,
        "database_backends_started": float(backends.started),
    }


def _started(figures: dict[str, float]) -> str:
    """The count of backends that started during the run, as ``, N backends started``
    (connections renewed after ``CONN_MAX_AGE``, parallel query workers); "" for none."""
    started = int(figures["database_backends_started"])
    return f", {started} backend{'' if started == 1 else 's'} started" if started else ""


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def run(*, repeat: int = 7, load_seconds: float = 8.0) -> dict[str, float]:
    """Measure every page of ``PAGES``; print each figure beside its goal and return them."""
    setup_django()
    from django.conf import settings
    from django.test import Client

    if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    users, account_id = _logins()
    urls = {name: path.format(account=account_id) for name, _, path in PAGES}
    cookies = {}
    for local, user in users.items():
        client = Client()
        client.force_login(user)
        cookies[local] = client.cookies[settings.SESSION_COOKIE_NAME].value
    results: dict[str, float] = {}

    print(f"  in process, empty cache, median of {repeat}:")
    floor_name, floor_login, floor_path = FLOOR
    floor = _in_process(floor_path, users[floor_login], repeat=repeat)
    for key, value in floor.items():
        results[f"{floor_name}_{key}"] = value
    print(
        f"  {'signed-in floor':14} server {floor['server_ms']:8.1f} ms  SQL {floor['sql_ms']:7.1f} ms"
        f"  ({floor['queries']:.0f} queries): session, user, middleware, header"
    )
    for name in SQL_PAGES:
        login = next(local for page, local, _ in PAGES if page == name)
        figures = _in_process(urls[name], users[login], repeat=repeat)
        for key, value in figures.items():
            results[f"{name}_{key}"] = value
        print(
            f"  {name:14} server {figures['server_ms']:8.1f} ms  SQL {figures['sql_ms']:7.1f} ms"
            f"  ({figures['queries']:.0f} queries)  ratio {figures['server_to_sql']:5.2f}×"
            f"  (goal ≤ {GOAL_SQL_RATIO:.0f}×: {_verdict(figures['server_to_sql'] <= GOAL_SQL_RATIO)})"
        )

    with _Gunicorn() as server:
        print(
            f"  over HTTP (gunicorn, {WORKERS} workers, loopback), empty cache, median of {repeat}:"
        )
        for name, login, _ in PAGES:
            ms, size = _http_ms(server.port, urls[name], cookies[login], repeat=repeat)
            results[f"{name}_http_ms"] = ms
            results[f"{name}_bytes"] = float(size)
            print(
                f"  {name:14} {ms:8.1f} ms (goal ≤ {GOAL_MS:.0f}: {_verdict(ms <= GOAL_MS)})"
                f"  {size / 1024:8.1f} KB (goal ≤ {GOAL_BYTES // 1024}: {_verdict(size <= GOAL_BYTES)})"
            )
        generator = "wrk" if _use_wrk() else "asyncio"
        results["load_generator_is_wrk"] = float(generator == "wrk")
        print(
            f"  throughput, {CONCURRENCY} connections at a time, {load_seconds:.0f} s each,"
            f" cache warm, load generator {generator};"
            " CPU per request: generator, server (workers + PostgreSQL backends):"
        )
        base = _throughput(server, "/login/", "", load_seconds)
        for key, value in base.items():
            results[f"login_{key}"] = value
        print(
            f"  {'login page':14} {base['rps']:8.1f} requests/s"
            f"  CPU/request: generator {base['generator_cpu_ms']:5.2f} ms,"
            f" server {base['server_cpu_ms']:6.2f} ms (PostgreSQL {base['database_cpu_ms']:5.2f}"
            f"{_started(base)})"
        )
        for name, local, path in (*PAGES, FLOOR):
            figures = _throughput(server, urls.get(name, path), cookies[local], load_seconds)
            share = figures["rps"] / base["rps"]
            # The same ratio per CPU second of the server: what the rate ratio would
            # be if the server had the machine to itself and the generator cost nothing.
            cpu_share = base["server_cpu_ms"] / figures["server_cpu_ms"]
            for key, value in figures.items():
                results[f"{name}_{key}"] = value
            results[f"{name}_rps_vs_login"] = share
            results[f"{name}_server_cpu_share_of_login"] = cpu_share
            goal = (
                f" (goal ≥ {GOAL_THROUGHPUT_SHARE:.0%}: {_verdict(share >= GOAL_THROUGHPUT_SHARE)})"
                if name != floor_name
                else " (the signed-in floor: no goal)"
            )
            print(
                f"  {'signed-in floor' if name == floor_name else name:14} {figures['rps']:8.1f} requests/s = {share:6.1%} of login's{goal}"
                f"  CPU/request: generator {figures['generator_cpu_ms']:5.2f} ms,"
                f" server {figures['server_cpu_ms']:6.2f} ms (PostgreSQL {figures['database_cpu_ms']:5.2f}"
                f"{_started(figures)})"
                f" = {cpu_share:6.1%} of login's rate per CPU s"
            )
    return results


@register("pages")
def bench_pages(options: BenchOptions) -> dict[str, float]:
    """Page sizes, HTTP times (empty cache), server vs SQL, throughput vs the login page."""
    return run(
        repeat=options.size(7, smoke=2),
        load_seconds=float(options.size(8, smoke=1)),
    )
