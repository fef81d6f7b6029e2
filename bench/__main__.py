"""``python -m bench [NAME ...] [--accounts N] [--smoke] [--results FILE]``: run benchmarks.

The database is named by BENCH_DATABASE_URL (never DATABASE_URL, so a
benchmark cannot truncate the development or test database by accident); it
is created if missing and migrated before the first benchmark. With no NAME
every benchmark runs, in ``ORDER`` (the seed first, so later ones find data).

Pages are measured as production serves them: DEBUG is off (a throwaway
SECRET_KEY is set for the run when none is given). Beside each benchmark the
runner prints the load average, the PostgreSQL version and its JIT setting,
and it writes every figure with that context to a JSON results file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

DEFAULT_BENCH_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/revopsweb_bench"
DEFAULT_RESULTS = Path(__file__).with_name("results") / "latest.json"
# The seed first (it builds the demo company the later ones may read), then the
# pages, which measure that company as seeded: `jobs` replaces the leads tables
# with its own 1,000,000 tasks and 63 tracker members, and in the alphabetical
# order the full run of 96b186e measured the tracker on those, not the seed's
# (82 KB against 430 KB for the demo team lead). The rest alphabetically, but for
# LAST: `jobs` and `leadgen` leave their synthetic accounts (100,000 each, leadgen's
# with revenue) in the database, and before them `revenue` measured a company of
# 198,031 paying accounts and `search` one of 300,000, not the seed's.
ORDER = ("seed", "pages")
LAST = ("jobs", "leadgen")
SMOKE_ACCOUNTS = 200
SMOKE_MONTHS = 3


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of ``url`` if it does not exist. Idempotent."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = str(conninfo_to_dict(url).get("dbname") or "")
    if not name:
        raise SystemExit(f"BENCH_DATABASE_URL names no database: {url}")
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"Created database {name}.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help="Benchmarks to run (default: all)."
    )
    parser.add_argument(
        "--accounts", type=int, default=None, help="Demo accounts to seed (default 100,000)."
    )
    parser.add_argument(
        "--months", type=int, default=None, help="Months of revenue per account (default 24)."
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help=f"Tiny sizes ({SMOKE_ACCOUNTS} accounts, {SMOKE_MONTHS} months) and 1-second load runs: "
        "proves the harness end to end; the figures mean nothing.",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=DEFAULT_RESULTS,
        help=f"Where to write the figures as JSON (default {DEFAULT_RESULTS}).",
    )
    parser.add_argument("--seed", type=int, default=42, help="Seed of the demo company.")
    parser.add_argument("--list", action="store_true", help="List the benchmarks and exit.")
    args = parser.parse_args(argv)

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_BENCH_DATABASE_URL)
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit(f"BENCH_DATABASE_URL must be a PostgreSQL URL, not {url}")
    # Settings read DATABASE_URL at import, so it is set before django.setup().
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "revopsweb.settings")
    # Production's shape: no SQL logging, no debug pages, whitenoise as deployed.
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    # Plain HTTP on loopback: no TLS proxy in front, and no login throttling noise.
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
    os.environ.setdefault("AXES_ENABLED", "false")
    # The bench runs no worker, and without Redis the settings' default broker is the
    # quick start's folders, absent from a fresh clone: the seed's after-commit enqueues
    # then logged a traceback each. Messages sent during a bench are dropped by design.
    if not os.environ.get("REDIS_URL") and not os.environ.get("CELERY_BROKER_URL"):
        os.environ["CELERY_BROKER_URL"] = "memory://"

    import django
    from django.core.management import call_command
    from django.db import connection

    from bench import BenchOptions, load_benchmarks

    if not args.list:
        ensure_database(url)
    django.setup()
    benchmarks = load_benchmarks()
    if args.list:
        print("\n".join(sorted(benchmarks)))
        return 0
    unknown = [name for name in args.names if name not in benchmarks]
    if unknown:
        parser.error(
            f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(sorted(benchmarks))}"
        )

    call_command("migrate", verbosity=0, interactive=False)
    # Without REDIS_URL the cache is the database's table, which migrate does not make;
    # the pages benchmark clears the cache before every request.
    call_command("createcachetable", verbosity=0)
    # DEBUG off serves hashed static names from the manifest, as production does.
    call_command("collectstatic", verbosity=0, interactive=False)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (version,) = cursor.fetchone()
        cursor.execute("SHOW jit")
        (jit,) = cursor.fetchone()
    environment = {
        "postgresql": version,
        "jit": jit,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "commit": _commit(),
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])]),
    }
    print(
        f"PostgreSQL {version} (jit {jit}, {connection.settings_dict['NAME']}), "
        f"{os.cpu_count()} CPUs, Python {environment['python']}, commit {environment['commit']}"
    )
    options = BenchOptions(
        accounts=args.accounts or (SMOKE_ACCOUNTS if args.smoke else 100_000),
        months=args.months or (SMOKE_MONTHS if args.smoke else 24),
        seed=args.seed,
        smoke=args.smoke,
    )
    results: dict[str, Any] = {
        "environment": environment,
        "options": {"accounts": options.accounts, "months": options.months, "smoke": options.smoke},
        "benchmarks": {},
    }
    for name in args.names or ordered(benchmarks):
        load_before = os.getloadavg()[0]
        print(f"\n== {name} == (load average {load_before:.2f}, PostgreSQL {version}, jit {jit})")
        started = time.perf_counter()
        figures = benchmarks[name](options) or {}
        took = time.perf_counter() - started
        load_after = os.getloadavg()[0]
        print(f"({name} took {took:.1f} s in all; load average {load_after:.2f} at the end)")
        results["benchmarks"][name] = {
            "figures": figures,
            "seconds": round(took, 2),
            "load_average": [round(load_before, 2), round(load_after, 2)],
            "date": dt.datetime.now(dt.UTC).date().isoformat(),
        }
        _write(args.results, results)  # after each benchmark, so a crash keeps the rest
    print(f"\nResults: {args.results}")
    return 0


def ordered(benchmarks: dict[str, Any]) -> list[str]:
    """Every benchmark name, the ``ORDER`` ones first and the ``LAST`` ones last."""
    first = [name for name in ORDER if name in benchmarks]
    last = [name for name in LAST if name in benchmarks]
    middle = sorted(name for name in benchmarks if name not in first and name not in last)
    return first + middle + last


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def _write(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=2, sort_keys=True, default=float) + "\n")
    tmp.replace(path)


if __name__ == "__main__":
    raise SystemExit(main())
