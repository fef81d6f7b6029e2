"""Benchmark: the company-wide account search (issue 19) at ``--accounts`` accounts.

Tops the database up with synthetic accounts (prefix ``bench_search_``, names
and domains built from a word list, every 20th with an owner) until it holds
N, analyses, then for a set of typical queries (part of a name, a domain, an
organisation id, an owner, a two-letter query, a miss) times
``accounts.search.search_accounts`` (best of 5) with the trigram indexes and,
in the same run, with index scans switched off (the sequential scan the
indexes replace); prints the plan of each, and the ratio indexed ÷ scan.
The target is 100 ms per search at 100,000 accounts.

    python -m bench search [--accounts N]
"""

from __future__ import annotations

import os
from typing import Any

from bench import BenchOptions, register
from bench._common import best_seconds, setup_django, vacuum_analyze

if not os.environ.get("DJANGO_SETTINGS_MODULE"):
    os.environ.setdefault("DEBUG", "true")
setup_django()

from django.db import connection  # noqa: E402

BATCH = 10_000
WORDS = [
    "acme",
    "hedgehog",
    "otter",
    "quokka",
    "lynx",
    "falcon",
    "heron",
    "badger",
    "marten",
    "walrus",
    "orca",
    "puffin",
    "ibis",
    "koala",
    "gecko",
    "panda",
    "tapir",
    "yak",
    "zebra",
    "bison",
]
SUFFIXES = ("Labs", "Analytics", "Cloud", "Systems", "Health", "Pay", "Games", "AI")
QUERIES = {
    "name_part": "hedgeh",
    "name_word": "quokka cloud",
    "domain": "orca-pay",
    "organisation_id": "search_0042",
    "owner": "Search Owner 7",
    "two_letters": "zq",
    "miss": "no-such-account",
}


def _top_up(accounts: int) -> int:
    from accounts.models import Account, OwnerRole, User

    missing = max(0, accounts - Account.objects.count())
    owners = [
        User.objects.get_or_create(
            email=f"bench-search-owner-{i}@example.test", defaults={"name": f"Search Owner {i}"}
        )[0]
        for i in range(10)
    ]
    start = Account.objects.filter(organization_id__startswith="bench_search_").count()
    for offset in range(0, missing, BATCH):
        rows = []
        for i in range(start + offset, start + offset + min(BATCH, missing - offset)):
            first, second = WORDS[i % len(WORDS)], WORDS[(i // len(WORDS)) % len(WORDS)]
            suffix = SUFFIXES[i % len(SUFFIXES)]
            owner = owners[i % len(owners)] if i % 20 == 0 else None
            rows.append(
                Account(
                    name=f"{first.title()} {second.title()} {suffix} {i}",
                    domain=f"{first}-{second}-{suffix.lower()}-{i}.example.com",
                    organization_id=f"bench_search_{i:07d}",
                    owner=owner,
                    owner_role=OwnerRole.TAM if owner else "",
                )
            )
        Account.objects.bulk_create(rows)
    return missing


def _plan(sql: str, params: Any) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS OFF, TIMING OFF, SUMMARY ON) {sql}", params)
        return [row[0] for row in cursor.fetchall()]


def run(*, accounts: int) -> dict[str, float]:
    from accounts.models import Account
    from accounts.search import search_accounts

    added = _top_up(accounts)
    vacuum_analyze()
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%%_trgm'")
        indexes = sorted(row[0] for row in cursor.fetchall())
    total = Account.objects.count()
    print(f"{total} accounts ({added} added); trigram indexes: {', '.join(indexes) or 'none'}")
    results: dict[str, float] = {"accounts": float(total)}
    for name, query in QUERIES.items():

        def one(q: str = query) -> list[Any]:
            return search_accounts(query=q)

        indexed = best_seconds(one, repeat=5)
        with connection.cursor() as cursor:
            cursor.execute("SET enable_bitmapscan = off")
            cursor.execute("SET enable_indexscan = off")
        try:
            scan = best_seconds(one, repeat=3)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET enable_bitmapscan")
                cursor.execute("RESET enable_indexscan")
        found = len(search_accounts(query=query))
        results[f"{name}_ms"] = round(indexed * 1000, 2)
        results[f"{name}_scan_ms"] = round(scan * 1000, 2)
        results[f"{name}_ratio"] = round(indexed / scan, 3) if scan else 0.0
        print(
            f"{name:16} {query!r:20} {indexed * 1000:8.1f} ms indexed, {scan * 1000:8.1f} ms "
            f"scanning ({indexed / scan:5.2f}×), {found} shown"
        )
    # The plan of the accounts query of one search, to show which indexes answer it.
    from django.db.models import Q

    sample = QUERIES["name_part"]
    sql, params = (
        Account.objects.filter(
            Q(name__icontains=sample)
            | Q(domain__icontains=sample)
            | Q(organization_id__icontains=sample)
        )
        .order_by("name")[:20]
        .query.sql_with_params()
    )
    print(f"\nPlan of the accounts query for {sample!r}:")
    for line in _plan(sql, params):
        print("  " + line)
    return results


@register("search")
def bench_search(options: BenchOptions) -> dict[str, float]:
    """The account search at ``--accounts`` accounts, indexed vs scanning."""
    return run(accounts=options.accounts)
