"""``python -m bench [NAME ...] [--accounts N]``: run benchmarks on PostgreSQL.

The database is named by BENCH_DATABASE_URL (never DATABASE_URL, so a
benchmark cannot truncate the development or test database by accident); it
is created if missing and migrated before the first benchmark.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

DEFAULT_BENCH_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/revopsweb_bench"


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
        "--accounts", type=int, default=100_000, help="Demo accounts to seed (default 100,000)."
    )
    parser.add_argument(
        "--months", type=int, default=24, help="Months of revenue per account (default 24)."
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
    os.environ.setdefault("DEBUG", "true")

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
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (version,) = cursor.fetchone()
    print(
        f"PostgreSQL {version} ({connection.settings_dict['NAME']}), {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )
    options = BenchOptions(accounts=args.accounts, months=args.months, seed=args.seed)
    for name in args.names or sorted(benchmarks):
        print(f"\n== {name} ==")
        started = time.perf_counter()
        benchmarks[name](options)
        print(f"({name} took {time.perf_counter() - started:.1f} s in all)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
