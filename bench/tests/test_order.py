"""The full run's order: what later benchmarks measure depends on what earlier ones leave."""

from __future__ import annotations

from bench.__main__ import ordered


def test_the_seed_and_pages_run_first_and_the_benchmarks_that_add_accounts_run_last():
    names = [
        "assignment",
        "books",
        "churn",
        "jobs",
        "leadgen",
        "pages",
        "revenue",
        "search",
        "seed",
    ]

    order = ordered(dict.fromkeys(names))

    assert order[:2] == ["seed", "pages"]
    assert order[-2:] == ["jobs", "leadgen"]
    assert sorted(order) == sorted(names)
