"""Benchmark: the daily lead-rule job over N accounts (issue 18: 100,000 in under 60 s).

The benchmark tops the bench database up with synthetic accounts (prefix
``bench_lg_``), written set-based, each with 24 months of revenue and 4 weekly
snapshots. ``HITS_PER_RULE`` per rule are built to fire exactly that rule
(half owned, half unowned in a territory with a TAM and a TAE, so both
owner-first routing and the round robin run); the rest fire none. Accounts
already there (the seeded demo) stay; their hits are first given open leads
set-based (untimed setup), so they are not raised again.

It times the job (``leads.generation.jobs.run_generation_job``, advisory lock
and JobRun included) with N/10 and with N synthetic accounts and the same hits,
counts its queries in both (they must be equal: the evaluation is a fixed
number of set-based statements and each hit costs the same intake), asserts a
rerun the same day creates nothing, and prints the job's time as a ratio to
one full scan of billing_monthlyrevenue in the same run.

    python -m bench leadgen [--accounts N]
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench import BenchOptions, register
from bench._common import best_seconds, seconds, setup_django

if not os.environ.get("DJANGO_SETTINGS_MODULE"):
    os.environ.setdefault("DEBUG", "true")
setup_django()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from revopsweb.dates import company_today  # noqa: E402

HITS_PER_RULE = 50
# The tables the synthetic accounts are written into.
_TABLES = (
    "accounts_account",
    "billing_monthlyrevenue",
    "accounts_accountsnapshot",
    "accounts_activity",
    "accounts_contact",
    "billing_invoice",
)
MONTHS = 24
WEEKS = 4
RULE_COUNT = 8

# Per rule (by position in catalog.RULES): the qualifying accounts' columns.
# Accounts with q = -1 are background accounts that fire nothing.
_ACCOUNTS = """
INSERT INTO accounts_account (
    name, domain, organization_id, country, region, employee_count, business_type, plan,
    credit_balance, credit_expires_on, has_discount_agreement, am_managed, is_lead,
    forecasted_mrr, owner_id, owner_role, territory_id, health, new_owner_trait, created_at,
    updated_at)
SELECT 'Bench ' || g,
       CASE WHEN q = 4 THEN 'bench-lg-' || g || '.example' ELSE '' END,
       'bench_lg_' || lpad(g::text, 7, '0'),
       CASE WHEN q IN (0, 1) THEN 'US' ELSE 'BR' END, 'US',
       CASE q WHEN 0 THEN 100 WHEN 1 THEN 200 WHEN 4 THEN 800 ELSE 5 END,
       '',
       CASE WHEN q = 1 THEN 'scale' WHEN q IN (5, 6, 7) THEN 'startup' ELSE 'monthly' END,
       CASE WHEN q = 5 THEN 5000 ELSE 0 END,
       CASE q WHEN 5 THEN current_date + 200 WHEN 6 THEN current_date + 80
              WHEN 7 THEN current_date + 30 END,
       false, q <> 3, false,
       CASE WHEN q = 2 THEN 4000 END,
       CASE WHEN q >= 0 AND g %% 2 = 0 THEN %(owner)s END,
       CASE WHEN q >= 0 AND g %% 2 = 0 THEN 'TAM' ELSE '' END,
       %(territory)s, '', '',
       CASE WHEN q = 4 THEN now() - interval '2 days' ELSE now() - interval '400 days' END,
       now()
FROM (
    SELECT g, CASE WHEN g <= %(qualifying)s THEN (g - 1) %% %(rules)s ELSE -1 END AS q
    FROM generate_series(%(first)s, %(last)s) g
) s
"""

_HISTORY = [
    # 24 months of revenue: $300 flat for background, per rule otherwise.
    """
    INSERT INTO billing_monthlyrevenue (account_id, product_id, month, amount)
    SELECT a.id, %(product)s,
           (date_trunc('month', current_date) - make_interval(months => m))::date,
           CASE WHEN q.q = 0 THEN 1000 WHEN q.q IN (2, 3) THEN 2000 ELSE 300 END
    FROM bench_lg_new a JOIN bench_lg_q q USING (id)
    CROSS JOIN generate_series(0, %(months)s - 1) m
    """,
    """
    INSERT INTO accounts_accountsnapshot
        (account_id, week, health, active_users_30d, events, support_tickets, billing_page_visits)
    SELECT a.id, (date_trunc('week', current_date) - make_interval(weeks => w))::date, 'good',
           CASE WHEN q.q = 0 THEN 20 ELSE 3 END, 100, 0, 0
    FROM bench_lg_new a JOIN bench_lg_q q USING (id)
    CROSS JOIN generate_series(0, %(weeks)s - 1) w
    """,
    """
    INSERT INTO accounts_activity (account_id, kind, from_customer, occurred_at, summary, body)
    SELECT a.id, 'support_ticket', true, now() - interval '1 day', 'bench ticket', ''
    FROM bench_lg_new a JOIN bench_lg_q q USING (id) WHERE q.q = 3
    """,
    """
    INSERT INTO accounts_contact (account_id, name, email, title, is_champion, created_at)
    SELECT a.id, 'Person ' || n, 'p' || n || '@bench-lg-' || a.id || '.example', '', n = 1, now()
    FROM bench_lg_new a JOIN bench_lg_q q USING (id)
    CROSS JOIN generate_series(1, 2) n WHERE q.q = 4
    """,
    """
    INSERT INTO billing_invoice (account_id, number, period, issued_on, due_on, amount, status)
    SELECT a.id, 'BLG-' || a.id || '-' || n, date_trunc('month', current_date - 30 * n)::date,
           current_date - 30 * n, current_date - 30 * n + 30,
           CASE q.q WHEN 5 THEN 6000 WHEN 6 THEN 3000 ELSE 1800 END, 'paid'
    FROM bench_lg_new a JOIN bench_lg_q q USING (id)
    CROSS JOIN generate_series(1, 2) n WHERE q.q IN (5, 6, 7)
    """,
]


def _staff() -> tuple[int, int]:
    """A bench TAM who owns half the qualifying accounts; a TAM and a TAE in U.S. East."""
    from accounts.models import User
    from leads.models import Territory, TrackerMember, TrackerRole

    territory = Territory.objects.get(slug="us-east")
    owner, _ = User.objects.get_or_create(
        email="bench-lg-owner@example.test", defaults={"name": "Bench Owner"}
    )
    for role in (TrackerRole.TAM, TrackerRole.TAE):
        user, _ = User.objects.get_or_create(
            email=f"bench-lg-{role.lower()}@example.test", defaults={"name": f"Bench {role}"}
        )
        member, _ = TrackerMember.objects.get_or_create(user=user, defaults={"role": role})
        member.territories.add(territory)
    return owner.pk, territory.pk


def _add_accounts(*, first: int, last: int, qualifying: int, owner: int, territory: int) -> None:
    """Synthetic accounts numbered ``first``..``last``; the first ``qualifying`` fire a rule each."""
    from accounts.demo import history_off
    from billing.models import Product

    product = Product.objects.order_by("id").values_list("id", flat=True).first()
    params = {
        "first": first,
        "last": last,
        "qualifying": qualifying,
        "rules": RULE_COUNT,
        "owner": owner,
        "territory": territory,
        "product": product,
        "months": MONTHS,
        "weeks": WEEKS,
    }
    with transaction.atomic(), history_off(*_TABLES), connection.cursor() as cursor:
        cursor.execute(_ACCOUNTS, params)
        cursor.execute(
            """
            CREATE TEMP TABLE bench_lg_q ON COMMIT DROP AS
            SELECT id, CASE WHEN g <= %(qualifying)s THEN (g - 1) %% %(rules)s ELSE -1 END AS q
            FROM (SELECT id, substr(organization_id, 10)::int AS g FROM accounts_account
                  WHERE organization_id LIKE 'bench_lg_%%') s
            WHERE g BETWEEN %(first)s AND %(last)s
            """,
            params,
        )
        cursor.execute("CREATE TEMP TABLE bench_lg_new ON COMMIT DROP AS SELECT id FROM bench_lg_q")
        # Temporary tables have no statistics until analysed: the planner took
        # them for tiny and joined them in nested loops under the 24 months,
        # minutes for a few thousand accounts, quadratic in their number.
        cursor.execute("ANALYZE bench_lg_q")
        cursor.execute("ANALYZE bench_lg_new")
        for statement in _HISTORY:
            cursor.execute(statement, params)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _forget_leads(owner: int) -> None:
    """Close the synthetic accounts' raised leads long ago and give their unowned
    accounts back, so the next run raises and routes the same hits again
    (owner-first and round robin). Other accounts' leads stay open."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE leads_task t
            SET status = 'disqualified', disqualification_reason = 'other',
                created_at = now() - interval '1000 days', closed_at = now() - interval '1000 days'
            FROM accounts_account a
            WHERE a.id = t.account_id AND a.organization_id LIKE 'bench_lg_%%'
              AND t.lead_rule <> '' AND t.status IN ('new', 'in_progress', 'nurturing')
            """
        )
        cursor.execute(
            """
            UPDATE accounts_account SET owner_id = NULL, owner_role = ''
            WHERE organization_id LIKE 'bench_lg_%%' AND owner_id IS DISTINCT FROM %s
            """,
            [owner],
        )


def _synthetic_count() -> int:
    from accounts.models import Account

    return Account.objects.filter(organization_id__startswith="bench_lg_").count()


def _top_up(*, synthetic: int, qualifying: int, owner: int, territory: int) -> int:
    """Add synthetic accounts until ``synthetic`` of them (at least the
    ``qualifying`` ones) are on top of the others; return how many were added."""
    have = _synthetic_count()
    missing = max(synthetic, qualifying) - have
    if missing > 0:
        _add_accounts(
            first=have + 1,
            last=have + missing,
            qualifying=qualifying,
            owner=owner,
            territory=territory,
        )
    return max(missing, 0)


def _drop_synthetic() -> None:
    """Delete the synthetic accounts of an earlier run (slow at scale; a fresh
    database has none), so the small measurement is at N/10 again."""
    from accounts.models import Account

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM leads_taskevent WHERE task_id IN (SELECT t.id FROM leads_task t "
            "JOIN accounts_account a ON a.id = t.account_id "
            "WHERE a.organization_id LIKE 'bench_lg_%%')"
        )
    Account.objects.filter(organization_id__startswith="bench_lg_").delete()


def _open_backlog(*, now: dt.datetime) -> int:
    """Give every hit of the accounts already there an open lead of its rule, set-based.

    Bench setup, not the job: the job raises each hit through intake (owner
    or round robin, history, ledger), about 12 a second on this machine, so
    the first run over the 100,000-account demo (10,310 leads) took 20
    minutes before anything was measured. The rows are the open tasks the
    job's own idempotency reads (rule, account, status, created today), so
    the measured runs raise exactly the synthetic hits.
    """
    from leads.generation.evaluate import find_hits
    from leads.generation.generate import rules_in_force, task_message
    from leads.models import Task, TaskSource

    hits = find_hits(rules=rules_in_force(today=company_today(now=now)), now=now)
    tasks = [
        Task(
            account_id=hit.account_id,
            source=TaskSource.LEAD_RULE,
            lead_type=hit.lead_type,
            message=task_message(hit),
            lead_rule=hit.rule,
            rule_facts=hit.facts(),
            unassigned_reason="opened by the leadgen benchmark's setup",
            created_at=now,
        )
        for rule_hits in hits.values()
        for hit in rule_hits
    ]
    Task.objects.bulk_create(tasks, batch_size=5000, ignore_conflicts=True)
    return len(tasks)


@contextmanager
def _counting() -> Iterator[Counter[str]]:
    """Every statement the connection sends, counted by shape (digits as N).

    An execute wrapper sees each statement whatever DEBUG says; Django's
    CaptureQueriesContext reads a query log capped at 9,000 entries, which
    the untimed backlog run fills, so it counted 0 queries at both sizes.
    """
    shapes: Counter[str] = Counter()

    def wrapper(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        shapes[re.sub(r"\d+", "N", sql)[:100]] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield shapes


def _timed_job() -> tuple[float, int, int, Counter[str]]:
    """(seconds, queries, tasks created, query shapes) of one job run."""
    from leads.generation import jobs

    holder: dict[str, int] = {}

    def work() -> None:
        run = jobs.run_generation_job()
        holder["created"] = int(run.rows_affected or 0)

    with _counting() as shapes:
        elapsed = seconds(work)
    return elapsed, sum(shapes.values()), holder["created"], shapes


def _full_scan() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), sum(amount) FROM billing_monthlyrevenue")
        cursor.fetchone()


def run(*, accounts: int, hits_per_rule: int = HITS_PER_RULE) -> dict[str, float]:
    """Time the lead-rule job with ``accounts``/10 and ``accounts`` synthetic accounts; print the figures.

    The synthetic accounts come on top of those already in the database (the
    seeded demo), whose hits get an open lead first (``_open_backlog``), so
    the measured runs raise exactly the synthetic hits.
    """
    from accounts.models import Account
    from billing.models import MonthlyRevenue

    qualifying = hits_per_rule * RULE_COUNT
    small_synthetic = max(accounts // 10, qualifying)
    if _synthetic_count() > small_synthetic:
        _drop_synthetic()
    owner, territory = _staff()
    _top_up(synthetic=small_synthetic, qualifying=qualifying, owner=owner, territory=territory)
    backlog_started = time.perf_counter()
    backlog = _open_backlog(now=timezone.now())
    backlog_seconds = time.perf_counter() - backlog_started

    _forget_leads(owner)
    small = Account.objects.count()
    small_seconds, small_queries, small_created, before = _timed_job()

    _top_up(synthetic=accounts, qualifying=qualifying, owner=owner, territory=territory)
    _forget_leads(owner)
    total = Account.objects.count()
    _full_scan()  # warm the cache so the job and the scan read from memory alike
    scan = best_seconds(_full_scan, repeat=3)
    job_seconds, queries, created, after = _timed_job()
    rerun_seconds, rerun_queries, rerun_created, _ = _timed_job()

    assert total > small, f"both measurements at {total:,} accounts: nothing to compare"
    # At least the qualifying accounts (a demo account may fire on top).
    assert small_created == created >= qualifying, (small_created, created, qualifying)
    print(f"  queries of the job: {small_queries} at {small:,} accounts, {queries} at {total:,}")
    if queries != small_queries:
        for shape in sorted(set(before) | set(after)):
            if before[shape] != after[shape]:
                print(f"  {before[shape]:>6} → {after[shape]:<6} {shape}")
        raise AssertionError(f"queries changed with accounts: {small_queries} → {queries}")
    assert rerun_created == 0, f"a rerun the same day created {rerun_created} tasks"
    figures = {
        "accounts": float(total),
        "revenue_rows": float(MonthlyRevenue.objects.count()),
        "hits": float(created),
        "backlog_leads": float(backlog),
        "backlog_seconds": backlog_seconds,
        "job_seconds": job_seconds,
        "job_seconds_small": small_seconds,
        "accounts_small": float(small),
        "queries": float(queries),
        "queries_small": float(small_queries),
        "rerun_seconds": rerun_seconds,
        "rerun_queries": float(rerun_queries),
        "full_scan_seconds": scan,
        "job_to_scan_ratio": job_seconds / scan if scan else 0.0,
    }
    print(
        f"lead rules over {total:,} accounts ({figures['revenue_rows']:,.0f} revenue rows), "
        f"{created} hits: job {job_seconds:.2f} s (target < 60 s) = "
        f"{figures['job_to_scan_ratio']:.1f}x one full scan of billing_monthlyrevenue ({scan:.3f} s); "
        f"{queries} queries, the same as at {small:,} accounts ({small_seconds:.2f} s); "
        f"rerun the same day: {rerun_created} created, {rerun_queries} queries, "
        f"{rerun_seconds:.2f} s; the {backlog:,} hits of the accounts already there were given "
        f"open leads set-based first ({backlog_seconds:.1f} s, untimed setup)"
    )
    return figures


@register("leadgen")
def bench_leadgen(options: BenchOptions) -> dict[str, float]:
    """The daily lead-rule job over ``--accounts`` accounts (synthetic accounts on top of the demo)."""
    return run(accounts=options.accounts, hits_per_rule=options.size(HITS_PER_RULE, smoke=2))


if __name__ == "__main__":
    import sys

    run(accounts=int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
