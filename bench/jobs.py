"""Benchmark ``jobs``: the stale-task job over 1,000,000 tasks, and the monthly reset.

Seeds (set-based, ``INSERT … SELECT generate_series``) a minimal round robin —
7 territories × (6 TAEs + 3 TAMs) — ``accounts`` accounts and 1,000,000 tasks
in the benchmark database, then times the stale job and counts its queries,
and counts the monthly reset's queries. Targets (issue 5): the stale job under
30 s, the reset a constant number of queries.

The task mix, by ``id % 10``: 0–1 converted, 2–3 disqualified, 4 nurturing
(untouched 20 days: must be skipped), 5–6 in progress touched 2 days ago,
7 new untouched 12 days (reassigned), 8 in progress reassigned once and
untouched 15 days (autoclosed), 9 new untouched 9 days (not yet stale). So the
job walks 1,000,000 tasks and changes 200,000 (100,000 reassignments through
the weighted round robin, 100,000 autocloses).

Run: ``python -m bench jobs`` (BENCH_DATABASE_URL names the scratch database).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.demo import history_off
from accounts.models import User
from leads import stale
from leads.models import Territory, TrackerMember, TrackerRole
from leads.reset import reset_month
from revopsweb.dates import company_today, latest_complete_month, month_start

from . import BenchOptions, register
from ._common import vacuum_analyze

TASKS = 1_000_000
TARGET_STALE_SECONDS = 30.0
TAES_PER_TERRITORY = 6
TAMS_PER_TERRITORY = 3
EMAIL_DOMAIN = "bench-jobs.test"
ORG_PREFIX = "bench_jobs_"


@contextmanager
def _count_queries() -> Iterator[list[int]]:
    """Count statements sent to PostgreSQL (cheap: no SQL text is kept)."""
    counter = [0]

    def wrapper(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        counter[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield counter


# The foreign keys to accounts_account (table, column), read from the catalog so that
# a table added later is never missed by the clean-up's check.
_ACCOUNT_REFERENCES_SQL = """
SELECT c.conrelid::regclass::text, a.attname
FROM pg_constraint c
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
WHERE c.contype = 'f' AND c.confrelid = 'accounts_account'::regclass
ORDER BY 1, 2
"""


def _clear() -> None:
    """Remove what an earlier run of this benchmark left (leads tables are its own),
    set-based, inside the caller's transaction.

    The bench's accounts (``ORG_PREFIX``) were deleted by one ``DELETE … LIKE``: for
    every row PostgreSQL ran each of the 24 foreign keys' checks (no action, deferred
    to commit) and the history trigger (an event row and a subtransaction, its
    exception block, per account). At 100,000 accounts on a fresh bench database,
    ``EXPLAIN ANALYZE`` of it from psql (constraints immediate) took 19.3 s, of which
    24 × 0.55-0.82 s of foreign key checks (100,000 calls each) and 3.8 s of the
    history trigger; in the bench's own rerun at that size (``python -m bench jobs
    --smoke --accounts 100000``) it was still running after 15 minutes. Now: the
    accounts' ids are read
    once into a temporary table; their ownership history is deleted by that set with
    its history trigger off (synthetic rows are nobody's change: ``history_off``, as
    the seed writes them); each foreign key is checked for rows still pointing at the
    set, one semi-join each; when none does, the checks PostgreSQL would run per
    row are known to pass, and the accounts are deleted by the set with triggers off
    for that statement alone (``session_replication_role = replica``, which a
    superuser may set: the bench's role checkpoints, so it is one). Otherwise (another
    bench left rows on these accounts, or no superuser) the accounts are deleted with
    every check, so a leftover row still fails loudly, as it always did.
    """
    pattern = ORG_PREFIX.replace("_", r"\_") + "%"
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE leads_taskevent, leads_roundrobinevent, leads_opportunity, leads_timeoff, "
            "leads_trackermember_territories, leads_trackermember, leads_task CASCADE"
        )
        cursor.execute(
            "CREATE TEMP TABLE bench_jobs_gone ON COMMIT DROP AS "
            "SELECT id FROM accounts_account WHERE organization_id LIKE %s",
            [pattern],
        )
        cursor.execute("SELECT count(*) FROM bench_jobs_gone")
        (gone,) = cursor.fetchone()
        if not gone:
            cursor.execute("DROP TABLE bench_jobs_gone")
            return
        cursor.execute("ALTER TABLE bench_jobs_gone ADD PRIMARY KEY (id)")
        cursor.execute("ANALYZE bench_jobs_gone")
        cursor.execute(_ACCOUNT_REFERENCES_SQL)
        references = cursor.fetchall()
    quote = connection.ops.quote_name
    with history_off("accounts_ownershipchange", "accounts_account"), connection.cursor() as cursor:
        # Empty already when the TRUNCATE's cascade reached it (it references
        # leads_task); by the id set in any case.
        cursor.execute(
            "DELETE FROM accounts_ownershipchange o USING bench_jobs_gone g WHERE o.account_id = g.id"
        )
        still_referenced = False
        for table, column in references:
            cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {table} t JOIN bench_jobs_gone g"
                f" ON g.id = t.{quote(column)})"
            )
            (found,) = cursor.fetchone()
            still_referenced = still_referenced or found
        cursor.execute("SELECT current_setting('is_superuser') = 'on'")
        (superuser,) = cursor.fetchone()
        unchecked = superuser and not still_referenced
        if unchecked:
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM accounts_account a USING bench_jobs_gone g WHERE a.id = g.id")
        if unchecked:
            cursor.execute("SET LOCAL session_replication_role = origin")
        cursor.execute("DROP TABLE bench_jobs_gone")


@transaction.atomic
def seed(*, accounts: int, tasks: int, now: dt.datetime) -> None:
    """Members, accounts and tasks, set-based. Accounts are unowned (no account moves)."""
    _clear()
    territories = list(Territory.objects.order_by("pk"))
    period = month_start(company_today(now=now))
    users = User.objects.filter(email__endswith="@" + EMAIL_DOMAIN)
    wanted = len(territories) * (TAES_PER_TERRITORY + TAMS_PER_TERRITORY)
    if users.count() < wanted:
        User.objects.bulk_create(
            [
                User(email=f"member{i}@{EMAIL_DOMAIN}", name=f"Bench member {i}", password="!")
                for i in range(wanted)
            ],
            ignore_conflicts=True,
        )
    people = iter(users.order_by("pk")[:wanted])
    members: list[TrackerMember] = []
    slots: list[tuple[int, str, int]] = []  # territory index, role, index in pool
    for t_idx, _territory in enumerate(territories):
        for role, size in (
            (TrackerRole.TAE, TAES_PER_TERRITORY),
            (TrackerRole.TAM, TAMS_PER_TERRITORY),
        ):
            for i in range(size):
                members.append(
                    TrackerMember(user=next(people), role=role, period=period, priority=1 + i % 3)
                )
                slots.append((t_idx, role, i))
    TrackerMember.objects.bulk_create(members)
    through = TrackerMember.territories.through
    through.objects.bulk_create(
        [
            through(trackermember_id=m.pk, territory_id=territories[t_idx].pk)
            for m, (t_idx, _, _) in zip(members, slots, strict=True)
        ]
    )
    # Synthetic rows are nobody's change: no history rows (accounts.demo.history_off).
    with history_off("accounts_account", "leads_task"), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_slot (t_idx int, role text, idx int, user_id bigint)"
        )
        cursor.execute(
            "INSERT INTO bench_slot SELECT * FROM unnest(%s::int[], %s::text[], %s::int[], %s::bigint[])",
            [
                [s[0] for s in slots],
                [str(s[1]) for s in slots],
                [s[2] for s in slots],
                [m.user_id for m in members],
            ],
        )
        cursor.execute(
            """
            INSERT INTO accounts_account
                (name, domain, organization_id, country, region, business_type, plan,
                 credit_balance, has_discount_agreement, health, owner_role, new_owner_trait,
                 am_managed, is_lead, created_at, updated_at, territory_id)
            SELECT 'Bench account ' || g, '', %(prefix)s || g, 'US', 'US', '', 'monthly',
                   0, false, '', '', '', false, true, %(now)s, %(now)s,
                   (%(territories)s::bigint[])[1 + g %% %(n_territories)s]
            FROM generate_series(0, %(accounts)s - 1) g
            """,
            {
                "prefix": ORG_PREFIX,
                "now": now,
                "territories": [t.pk for t in territories],
                "n_territories": len(territories),
                "accounts": accounts,
            },
        )
        cursor.execute(
            "SELECT min(id) FROM accounts_account WHERE organization_id = %s", [ORG_PREFIX + "0"]
        )
        (first_account,) = cursor.fetchone()
        cursor.execute(
            """
            INSERT INTO leads_task
                (source, lead_type, message, score, score_breakdown, status, reassignment_count,
                 explanation, pool, unassigned_reason, disqualification_reason,
                 disqualification_comment, created_at, account_id, territory_id, assignee_id,
                 assigned_at, last_touched_at, closed_at, idempotency_scope, idempotency_digest)
            SELECT 'contact_form',
                   CASE WHEN s.product_led THEN 'product_led' ELSE 'new_business' END,
                   '', 30, '{}', s.status, s.reassigned, 'round robin (bench seed)', '[]', '',
                   CASE WHEN s.status = 'disqualified' THEN 'spam' ELSE '' END, '',
                   %(now)s - make_interval(days => s.days + 1),
                   %(first_account)s + s.a_idx,
                   (%(territories)s::bigint[])[1 + s.a_idx %% %(n_territories)s],
                   slot.user_id,
                   %(now)s - make_interval(days => s.days),
                   %(now)s - make_interval(days => s.days),
                   CASE WHEN s.status IN ('converted', 'disqualified') THEN %(now)s END, '', ''
            FROM (
                SELECT g, g %% %(accounts)s AS a_idx, (g / 10) %% 10 = 0 AS product_led,
                       (ARRAY['converted', 'converted', 'disqualified', 'disqualified',
                              'nurturing', 'in_progress', 'in_progress', 'new', 'in_progress',
                              'new'])[1 + g %% 10] AS status,
                       (ARRAY[30, 30, 30, 30, 20, 2, 2, 12, 15, 9])[1 + g %% 10] AS days,
                       CASE WHEN g %% 10 = 8 THEN 1 ELSE 0 END AS reassigned
                FROM generate_series(0, %(tasks)s - 1) g
            ) s
            JOIN bench_slot slot
              ON slot.t_idx = s.a_idx %% %(n_territories)s
             AND slot.role = CASE WHEN s.product_led THEN 'TAM' ELSE 'TAE' END
             AND slot.idx = s.g %% CASE WHEN s.product_led THEN %(tams)s ELSE %(taes)s END
            ORDER BY s.g
            """,
            {
                "now": now,
                "first_account": first_account,
                "territories": [t.pk for t in territories],
                "n_territories": len(territories),
                "accounts": accounts,
                "tasks": tasks,
                "tams": TAMS_PER_TERRITORY,
                "taes": TAES_PER_TERRITORY,
            },
        )
        cursor.execute("DROP TABLE bench_slot")


def run(*, accounts: int, tasks: int = TASKS) -> dict[str, float]:
    """Seed, run the stale job and the monthly reset; return the figures."""
    now = timezone.now()
    started = time.perf_counter()
    seed(accounts=accounts, tasks=tasks, now=now)
    # Fresh statistics and a frozen heap, as autovacuum would leave them in production.
    vacuum_analyze()
    seed_seconds = time.perf_counter() - started

    debug, settings.DEBUG = settings.DEBUG, False  # no SQL text logging while timing
    try:
        with _count_queries() as stale_queries:
            started = time.perf_counter()
            result = stale.process_stale_tasks(now=now)
            stale_seconds = time.perf_counter() - started
        with _count_queries() as again_queries:
            started = time.perf_counter()
            again = stale.process_stale_tasks(now=now)
            again_seconds = time.perf_counter() - started

        update_seconds, updated = _one_update_of_the_same_rows(now=now)

        # The reset: every member still in last month's period.
        TrackerMember.objects.update(period=latest_complete_month(company_today(now=now)))
        with _count_queries() as reset_queries:
            started = time.perf_counter()
            reset = reset_month(now=now)
            reset_seconds = time.perf_counter() - started
    finally:
        settings.DEBUG = debug

    return {
        "tasks": float(tasks),
        "seed_seconds": seed_seconds,
        "stale_seconds": stale_seconds,
        "stale_queries": float(stale_queries[0]),
        "stale_batches": float(result.batches),
        "stale_batch_size": float(stale.STALE_BATCH_SIZE),
        "reassigned": float(result.reassigned),
        "autoclosed": float(result.autoclosed),
        "left": float(result.left),
        "tasks_walked_per_second": tasks / stale_seconds,
        "changed_per_second": result.rows / stale_seconds,
        "second_run_seconds": again_seconds,
        "second_run_queries": float(again_queries[0]),
        "second_run_rows": float(again.rows),
        "reset_members": float(reset),
        "reset_queries": float(reset_queries[0]),
        "reset_seconds": reset_seconds,
        "stale_seconds_vs_target": stale_seconds / TARGET_STALE_SECONDS,
        "one_update_rows": float(updated),
        "one_update_seconds": update_seconds,
        "stale_to_one_update_ratio": stale_seconds / update_seconds,
    }


class _Rollback(Exception):
    pass


def _one_update_of_the_same_rows(*, now: dt.datetime) -> tuple[float, int]:
    """Seconds of one set-based UPDATE of the rows the stale job changed, rolled back.

    The floor of any implementation of the job: the same rows get new
    versions of the columns the job writes (assignee, explanation, pool,
    stamps, counter; status and close time), with the same index maintenance,
    in one statement and no decision. Autoclosed rows are those closed as
    stale, reassigned ones those the job touched at ``now``.
    """
    from leads.models import DisqualificationReason

    updated = 0
    # From a checkpoint, as the job started (vacuum_analyze): each first change of
    # a page after one writes the whole page to the WAL, and the job's own changes
    # would otherwise spare the UPDATE that cost.
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
    started = time.perf_counter()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE leads_task
                SET assignee_id = assignee_id, explanation = explanation || '', pool = pool,
                    assigned_at = assigned_at + interval '1 second',
                    last_touched_at = last_touched_at + interval '1 second',
                    reassignment_count = reassignment_count + 1,
                    status = status, closed_at = closed_at + interval '1 second'
                WHERE (last_touched_at = %(now)s AND reassignment_count = 1)
                   OR disqualification_reason = %(stale)s
                """,
                {"now": now, "stale": DisqualificationReason.STALE_AUTOCLOSED.value},
            )
            updated = cursor.rowcount
            seconds = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    return seconds, updated


@register("jobs")
def bench_jobs(options: BenchOptions) -> dict[str, float]:
    figures = run(accounts=options.accounts, tasks=options.size(TASKS, smoke=2_000))
    for name, value in figures.items():
        print(f"  {name:>26}: {value:,.3f}" if value % 1 else f"  {name:>26}: {value:,.0f}")
    verdict = "meets" if figures["stale_seconds"] < TARGET_STALE_SECONDS else "misses"
    print(
        f"  stale job {figures['stale_seconds']:.1f} s for {figures['tasks']:,.0f} tasks "
        f"({verdict} the {TARGET_STALE_SECONDS:.0f} s target); "
        f"{figures['stale_queries']:.0f} queries in {figures['stale_batches']:.0f} batches; "
        f"reset {figures['reset_queries']:.0f} statement(s) for {figures['reset_members']:.0f} members"
    )
    print(
        f"  one set-based UPDATE of the same {figures['one_update_rows']:,.0f} rows: "
        f"{figures['one_update_seconds']:.1f} s; stale job / UPDATE = "
        f"{figures['stale_to_one_update_ratio']:.1f}×"
    )
    return figures
