"""Benchmark: the nightly churn signal job over N accounts with 24 months of history.

``run(accounts=N)`` expects the database to hold the demo company; when it has
fewer than N accounts it tops up with synthetic ones (prefix ``bench_churn_``),
each with 24 months of monthly revenue, 104 weekly snapshots and a few
activities, written set-based. It then times the job twice (first run, and the
idempotent rerun) and one full scan of billing_monthlyrevenue in the same run,
and reports the job's time as a ratio to that scan.

The scan is timed as the job runs: one backend, serial plans
(``max_parallel_workers_per_gather = 0``, as the job sets; issue 20). Timed
with the server's defaults it ran as a parallel scan (two workers and the
leader) against a job that never uses a worker: on this 2-core machine that
scan ran 1.4-3.7x faster than the serial one (load 8-13); that ratio is
still printed and written (``job_to_scan_ratio``) so earlier runs stay
comparable. Beside wall time, the backend's CPU time of the job and of the
serial scan (``/proc/<pid>/stat`` of the server process, when the server runs
on this machine): on a shared machine it moves far less with the load than
wall time does.

    DATABASE_URL=... python -c "import bench.churn as b; b.run(accounts=100_000)"
"""

from __future__ import annotations

import os
from collections.abc import Callable

from bench import BenchOptions, register
from bench._common import best_seconds, process_cpu, seconds, setup_django, vacuum_analyze

if not os.environ.get("DJANGO_SETTINGS_MODULE"):
    os.environ.setdefault("DEBUG", "true")
setup_django()

from django.db import connection, transaction  # noqa: E402

BATCH = 5_000
MONTHS = 24
WEEKS = 104


def _top_up(accounts: int) -> int:
    """Add synthetic accounts until there are ``accounts``; return how many.

    Synthetic accounts without history (a run interrupted before) get it too.
    """
    from accounts.models import Account, OwnerRole, User
    from billing.models import Product

    missing = max(0, accounts - Account.objects.count())
    owner, _ = User.objects.get_or_create(
        email="bench-churn-owner@example.test", defaults={"name": "Bench Owner"}
    )
    start = Account.objects.filter(organization_id__startswith="bench_churn_").count()
    for offset in range(0, missing, BATCH):
        size = min(BATCH, missing - offset)
        Account.objects.bulk_create(
            [
                Account(
                    name=f"Bench {start + offset + i}",
                    organization_id=f"bench_churn_{start + offset + i:07d}",
                    owner=owner if i % 5 == 0 else None,
                    owner_role=OwnerRole.TAM if i % 5 == 0 else "",
                    active_users_30d=(start + offset + i) % 40,
                )
                for i in range(size)
            ]
        )
    product = Product.objects.order_by("id").values_list("id", flat=True).first()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TEMP TABLE bench_new ON COMMIT DROP AS
            SELECT a.id FROM accounts_account a
            WHERE a.organization_id LIKE 'bench_churn_%'
              AND NOT EXISTS (SELECT 1 FROM billing_monthlyrevenue m WHERE m.account_id = a.id)
            """
        )
        cursor.execute(
            """
            INSERT INTO billing_monthlyrevenue (account_id, product_id, month, amount)
            SELECT n.id, %s,
                   (date_trunc('month', current_date) - make_interval(months => g))::date,
                   round((500 + (n.id %% 50) * 100) * (0.6 + random() * 0.8))::numeric(12, 2)
            FROM bench_new n CROSS JOIN generate_series(1, %s) g
            """,
            [product, MONTHS],
        )
        cursor.execute(
            """
            INSERT INTO accounts_accountsnapshot
                (account_id, week, health, active_users_30d, events, support_tickets,
                 billing_page_visits)
            SELECT n.id,
                   (date_trunc('week', current_date) - make_interval(weeks => g))::date,
                   (ARRAY['good', 'fair', 'poor'])[1 + floor(random() * 3)::int],
                   (random() * 40)::int, (random() * 100000)::bigint,
                   (random() * 6)::int, (random() * 4)::int
            FROM bench_new n CROSS JOIN generate_series(0, %s) g
            """,
            [WEEKS - 1],
        )
        cursor.execute(
            """
            INSERT INTO accounts_activity
                (account_id, kind, from_customer, occurred_at, summary, body)
            SELECT n.id, (ARRAY['email', 'slack', 'call', 'note'])[1 + g % 4], g % 2 = 0,
                   now() - make_interval(days => (random() * 720)::int), 'bench', ''
            FROM bench_new n CROSS JOIN generate_series(1, 6) g
            """
        )
    vacuum_analyze()
    return missing


def _full_scan() -> None:
    """One scan with the server's defaults (a parallel plan where it offers one)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), sum(amount) FROM billing_monthlyrevenue")
        cursor.fetchone()


def _serial_scan() -> None:
    """The same scan as the job runs its statements: one backend, no parallel workers."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute("SELECT count(*), sum(amount) FROM billing_monthlyrevenue")
        cursor.fetchone()


def _backend_cpu_seconds() -> float | None:
    """CPU seconds (user + system) the connection's server process has used so
    far; None when that process is not on this machine."""
    if connection.settings_dict.get("HOST") not in {"", None, "localhost", "127.0.0.1", "::1"}:
        return None  # a server elsewhere: a local process of that pid is another one
    connection.ensure_connection()
    return process_cpu(connection.connection.info.backend_pid)


def _timed(work: Callable[[], object]) -> tuple[float, float | None]:
    """Wall seconds and backend CPU seconds (None if unknown) of one call of ``work``."""
    cpu = _backend_cpu_seconds()
    wall = seconds(work)
    after = _backend_cpu_seconds()
    return wall, (after - cpu if cpu is not None and after is not None else None)


def run(*, accounts: int) -> dict[str, float]:
    """Time the nightly signal job over ``accounts`` accounts; print and return the figures."""
    from accounts.churn.signals import detect_churn_signals
    from accounts.models import Account, AccountSnapshot
    from billing.models import MonthlyRevenue

    added = _top_up(accounts)
    counts = {
        "accounts": Account.objects.count(),
        "revenue_rows": MonthlyRevenue.objects.count(),
        "snapshot_rows": AccountSnapshot.objects.count(),
    }
    _full_scan()  # warm the cache so both measurements read from memory alike
    scan = best_seconds(_full_scan, repeat=3)
    serial_runs = [_timed(_serial_scan) for _ in range(3)]
    serial, serial_cpu = min(serial_runs, key=lambda run: run[0])
    first, first_cpu = _timed(detect_churn_signals)
    rerun, rerun_cpu = _timed(detect_churn_signals)
    figures = {
        **{k: float(v) for k, v in counts.items()},
        "synthetic_accounts_added": float(added),
        "full_scan_seconds": scan,
        "serial_scan_seconds": serial,
        "job_seconds": first,
        "job_rerun_seconds": rerun,
        "job_to_serial_scan_ratio": first / serial if serial else 0.0,
        "rerun_to_serial_scan_ratio": rerun / serial if serial else 0.0,
        # Against the scan with the server's defaults (parallel): the ratio of runs before.
        "job_to_scan_ratio": first / scan if scan else 0.0,
        "rerun_to_scan_ratio": rerun / scan if scan else 0.0,
    }
    if serial_cpu and first_cpu is not None and rerun_cpu is not None:
        figures |= {
            "serial_scan_backend_cpu_seconds": serial_cpu,
            "job_backend_cpu_seconds": first_cpu,
            "job_rerun_backend_cpu_seconds": rerun_cpu,
            "job_cpu_to_serial_scan_cpu_ratio": first_cpu / serial_cpu,
            "rerun_cpu_to_serial_scan_cpu_ratio": rerun_cpu / serial_cpu,
        }
    print(
        f"churn signals over {counts['accounts']:,} accounts "
        f"({counts['revenue_rows']:,} revenue rows, {counts['snapshot_rows']:,} snapshots): "
        f"job {first:.2f} s (rerun {rerun:.2f} s) = "
        f"{figures['job_to_serial_scan_ratio']:.1f}x (rerun "
        f"{figures['rerun_to_serial_scan_ratio']:.1f}x) one serial full scan of "
        f"billing_monthlyrevenue ({serial:.3f} s), as the job runs; "
        f"{figures['job_to_scan_ratio']:.1f}x one with the server's defaults "
        f"(parallel, {scan:.3f} s)"
    )
    if "job_backend_cpu_seconds" in figures:
        print(
            f"  backend CPU: job {first_cpu:.2f} s (rerun {rerun_cpu:.2f} s), serial scan "
            f"{serial_cpu:.3f} s: {figures['job_cpu_to_serial_scan_cpu_ratio']:.1f}x "
            f"(rerun {figures['rerun_cpu_to_serial_scan_cpu_ratio']:.1f}x)"
        )
    return figures


@register("churn")
def bench_churn(options: BenchOptions) -> dict[str, float]:
    """The nightly churn-signal job over ``--accounts`` accounts with 24 months of history."""
    return run(accounts=options.accounts)


if __name__ == "__main__":
    import sys

    run(accounts=int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
