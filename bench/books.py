"""Benchmark: My book and the account page with many accounts in the database.

``run(accounts=100_000)`` fills the configured database inside a transaction
that is rolled back at the end (nothing is left behind), logs a TAM with a
book of 60 accounts (the cap of a full book) in with the Django test Client,
and times each page's server time against re-running the very SQL the page
issued (captured with CaptureQueriesContext) straight on a cursor. The ratio
is the Python/template overhead on top of the database.

The JIT cliff: PostgreSQL JIT-compiles any statement whose estimated cost
passes ``jit_above_cost``, about 200 ms each on this machine. For each page the
benchmark prints the highest estimated cost among its statements (``EXPLAIN``)
as a fraction of ``jit_above_cost`` (below 1: no statement is compiled, with
JIT on or off), and the page's time with ``SET jit = on`` and ``off``: the
measurement behind the app's ``DB_JIT=off`` default.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from bench import BenchOptions, register
from bench._common import page_sql, seconds, setup_django, sql_replay
from revopsweb.dates import company_today

BOOK_SIZE = 60  # a full TAM book (the books' caps are 60-ish accounts)
REPEAT = 15


class _Rollback(Exception):
    pass


def _median_ms(work: Callable[[], Any], repeat: int = REPEAT) -> float:
    work()  # warm up caches and the connection
    return statistics.median(seconds(work) * 1000 for _ in range(repeat))


def _fill(accounts: int) -> tuple[Any, int]:
    """Insert ``accounts`` accounts, 13 months of revenue each (one product, plus
    the three core products for the bench TAM's book) with set-based SQL."""
    from django.contrib.auth.models import Group
    from django.db import connection

    from accounts.demo import history_off
    from accounts.models import User
    from accounts.roles import Role, ensure_role_groups
    from accounts.segments import refresh_top_accounts

    ensure_role_groups()
    user = User.objects.create_user(
        email="bench-books@example.test", password=None, name="Bench TAM"
    )
    user.groups.add(Group.objects.get(name=Role.TAM))
    # Synthetic rows are nobody's change: no history rows (accounts.demo.history_off).
    with history_off("accounts_account", "billing_monthlyrevenue"), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO accounts_account (
                name, domain, organization_id, country, region, business_type, plan,
                credit_balance, has_discount_agreement, health, owner_id, owner_role,
                owner_since, new_owner_trait, am_managed, is_lead, created_at, updated_at,
                renewal_date, last_contact_at)
            SELECT 'Bench ' || g, 'bench' || g || '.example.com', 'bench-' || g, 'US', 'US', '',
                   'monthly', 0, false, (ARRAY['good','fair','poor'])[1 + g %% 3],
                   CASE WHEN g <= %s THEN %s END, CASE WHEN g <= %s THEN 'TAM' ELSE '' END,
                   CASE WHEN g <= %s THEN now()::date END, '', g <= %s, false, now(), now(),
                   now()::date + (g %% 365), now() - (g %% 90) * interval '1 day'
            FROM generate_series(1, %s) AS g
            """,
            [BOOK_SIZE, user.pk, BOOK_SIZE, BOOK_SIZE, BOOK_SIZE, accounts],
        )
        cursor.execute(
            """
            INSERT INTO billing_monthlyrevenue (account_id, product_id, month, amount)
            SELECT a.id, p.id, (date_trunc('month', now()) - m * interval '1 month')::date,
                   round((100 + (a.id %% 5000) + m * 10)::numeric, 2)
            FROM accounts_account a
            JOIN billing_product p ON p.key = 'product_analytics'
                OR (a.owner_id = %s AND p.is_core)
            CROSS JOIN generate_series(0, 12) AS m
            WHERE a.organization_id LIKE 'bench-%%'
            """,
            [user.pk],
        )
        cursor.execute("ANALYZE accounts_account")
        cursor.execute("ANALYZE billing_monthlyrevenue")
    # What the hourly job (and a revenue import) leaves behind.
    refresh_top_accounts(today=company_today())
    account = user.owned_accounts.order_by("pk").first()
    assert account is not None
    return user, account.pk


def _measure(client: Any, url: str) -> dict[str, float]:
    from django.db import connection

    _, statements = page_sql(client, url)
    replay = sql_replay(statements)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit'), current_setting('jit_above_cost')::float")
        jit, jit_above_cost = cursor.fetchone()
        costs = []
        for sql, _ in statements:
            if sql.lstrip().upper().startswith("SELECT"):
                cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
                costs.append(float(cursor.fetchone()[0][0]["Plan"]["Total Cost"]))
    figures = {
        "server_ms": _median_ms(lambda: client.get(url)),
        "sql_ms": _median_ms(replay),
        "queries": float(len(statements)),
        "max_plan_cost": max(costs),
        "max_plan_cost_vs_jit_above_cost": max(costs) / jit_above_cost,
    }
    figures["ratio"] = figures["server_ms"] / figures["sql_ms"]
    # The same page with the server's JIT forced each way (SET lasts until the
    # bench's transaction rolls back; the app's own connections use DB_JIT).
    for setting in ("on", "off"):
        with connection.cursor() as cursor:
            cursor.execute(f"SET jit = {setting}")
        figures[f"server_ms_jit_{setting}"] = _median_ms(lambda: client.get(url))
    with connection.cursor() as cursor:
        cursor.execute(f"SET jit = {jit}")
    return figures


def run(*, accounts: int = 100_000) -> dict[str, float]:
    """Time My book and the account page with ``accounts`` accounts in the DB;
    print and return server time, direct SQL time and their ratio per page."""
    setup_django()
    from django.conf import settings
    from django.db import transaction
    from django.test import Client
    from django.test.utils import setup_test_environment, teardown_test_environment

    if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    results: dict[str, float] = {}
    setup_test_environment()
    try:
        with transaction.atomic():
            start = time.perf_counter()
            user, account_id = _fill(accounts)
            results["fill_s"] = time.perf_counter() - start
            client = Client()
            client.force_login(user)
            for name, url in (("my_book", "/book/"), ("account_page", f"/accounts/{account_id}/")):
                for key, value in _measure(client, url).items():
                    results[f"{name}_{key}"] = value
            raise _Rollback
    except _Rollback:
        pass
    finally:
        teardown_test_environment()
    for key, value in results.items():
        print(f"{key:28} {value:10.2f}")
    return results


@register("books")
def bench_books(options: BenchOptions) -> dict[str, float]:
    """My book and the account page at ``--accounts`` accounts (own data, rolled back)."""
    return run(accounts=options.accounts)


if __name__ == "__main__":
    import sys

    run(accounts=int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
