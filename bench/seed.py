"""Benchmark ``seed``: seed_demo at scale, against plain COPY and INSERT ... SELECT.

Target (the issue): 100,000 accounts with 24 months in under 5 minutes on 2 cores.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import time
from collections.abc import Callable
from decimal import Decimal

from django.core.management import call_command
from django.db import connection, transaction

from accounts.demo import DEMO_EMAIL_DOMAIN
from accounts.models import Account, OwnershipChange, User
from billing.models import MonthlyRevenue

from . import BenchOptions, register
from ._common import vacuum_analyze

TARGET_SECONDS = 300.0
TARGET_SCALE = (100_000, 24)  # accounts, months
# A table shaped like billing_monthlyrevenue but with no index, constraint or
# foreign key: the floor of what PostgreSQL can ingest on this machine.
_BASELINE_TABLE = "bench_seed_baseline"
_BASELINE_DDL = f"""
CREATE TABLE {_BASELINE_TABLE} (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL,
    product_id bigint NOT NULL,
    month date NOT NULL,
    amount numeric(12, 2) NOT NULL
)
"""


@register("seed")
def bench_seed(options: BenchOptions) -> dict[str, float]:
    out = io.StringIO()
    started = time.perf_counter()
    call_command(
        "seed_demo",
        accounts=options.accounts,
        months=options.months,
        seed=options.seed,
        reset=True,
        stdout=out,
    )
    seed_seconds = time.perf_counter() - started
    # The command's own summary: seconds and rows per step.
    for line in itertools.takewhile(
        lambda line: not line.startswith("Demo logins"), out.getvalue().splitlines()
    ):
        print(f"  | {line}")

    counts = {
        "accounts": Account.objects.count(),
        "monthly revenue": MonthlyRevenue.objects.count(),
        "ownership changes": OwnershipChange.objects.count(),
        "staff": User.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}").count(),
    }
    rows = sum(counts.values())
    copy_seconds = _time_baseline(rows, _copy_rows)
    insert_seconds = _time_baseline(rows, _insert_select_rows)

    print(
        f"  scale: {options.accounts:,} accounts × {options.months} months; rows written: {rows:,} ("
        + ", ".join(f"{n:,} {label}" for label, n in counts.items())
        + ")"
    )
    print(f"  seed_demo            {seed_seconds:8.1f} s  {rows / seed_seconds:>12,.0f} rows/s")
    print(
        f"  plain COPY           {copy_seconds:8.1f} s  {rows / copy_seconds:>12,.0f} rows/s"
        f"   seed / COPY = {seed_seconds / copy_seconds:.1f}×"
    )
    print(
        f"  INSERT ... SELECT    {insert_seconds:8.1f} s  {rows / insert_seconds:>12,.0f} rows/s"
        f"   seed / generate_series = {seed_seconds / insert_seconds:.1f}×"
    )
    if (options.accounts, options.months) >= TARGET_SCALE:
        verdict = "met" if seed_seconds < TARGET_SECONDS else "MISSED"
    else:
        verdict = "not measured at this scale"
    print(f"  target: under {TARGET_SECONDS:.0f} s at 100,000 accounts × 24 months: {verdict}")
    shapes = _shapes()
    print(
        "  shapes: " + ", ".join(f"{n:,} {label.replace('_', ' ')}" for label, n in shapes.items())
    )
    vacuum_analyze()
    return {
        "seed_s": seed_seconds,
        "rows": float(rows),
        "copy_s": copy_seconds,
        "seed_to_copy_ratio": seed_seconds / copy_seconds,
        "insert_select_s": insert_seconds,
        **{label: float(n) for label, n in shapes.items()},
    }


_SHAPES_SQL = """
WITH month AS (
    SELECT max(month) AS month FROM billing_monthlyrevenue WHERE month < date_trunc('month', now())
), arr AS (
    SELECT r.account_id, sum(r.amount) * 12 AS arr
    FROM billing_monthlyrevenue r JOIN month ON r.month = month.month GROUP BY 1
)
SELECT
    (SELECT count(*) FROM accounts_account WHERE owner_id IS NOT NULL),
    (SELECT count(*) FROM arr WHERE arr >= 20000),
    (SELECT count(*) FROM arr JOIN accounts_account a ON a.id = arr.account_id
     WHERE arr >= 20000 AND a.owner_id IS NULL),
    (SELECT count(*) FROM leads_task),
    (SELECT count(DISTINCT date_trunc('month', created_at)) FROM leads_task),
    (SELECT count(*) FROM leads_roundrobinevent),
    (SELECT count(*) FROM accounts_churnriskflag),
    (SELECT count(*) FROM accounts_handover)
"""


def _shapes() -> dict[str, int]:
    """What the seeded company looks like, counted in SQL (issue 21: realistic at scale).

    ``unowned_20k_accounts`` is the quarter's allocation queue: $20k+ ARR (the
    last complete month) without an owner.
    """
    with connection.cursor() as cursor:
        cursor.execute(_SHAPES_SQL)
        row = cursor.fetchone()
    labels = (
        "owned_accounts",
        "arr_20k_accounts",
        "unowned_20k_accounts",
        "tasks",
        "task_months",
        "ledger_events",
        "churn_flags",
        "handovers",
    )
    return dict(zip(labels, (int(n) for n in row), strict=True))


def _time_baseline(rows: int, fill: Callable[[int], None]) -> float:
    """Seconds to create the baseline table, fill it with ``rows`` rows and commit."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_BASELINE_TABLE}")
    started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_BASELINE_DDL)
        fill(rows)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {_BASELINE_TABLE}")
    return seconds


def _copy_rows(rows: int) -> None:
    """COPY ``rows`` synthetic rows from Python, as little work per row as possible."""
    month = dt.date(2025, 1, 1)
    amounts = [Decimal(cents).scaleb(-2) for cents in range(1, 10_001)]
    sql = f"COPY {_BASELINE_TABLE} (account_id, product_id, month, amount) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        write_row = copy.write_row
        for i in range(rows):
            write_row((i // 40, i % 14, month, amounts[i % 10_000]))


def _insert_select_rows(rows: int) -> None:
    """Generate ``rows`` rows inside PostgreSQL: no client, no network."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_BASELINE_TABLE} (account_id, product_id, month, amount) "
            "SELECT g / 40, mod(g, 14), DATE '2025-01-01', mod(g, 10000) / 100.0 FROM generate_series(1, %s) AS g",
            [rows],
        )
