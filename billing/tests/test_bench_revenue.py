from __future__ import annotations

import importlib

import pytest

# Committed data: the benchmark serves the pages from a thread with its own connection.
pytestmark = pytest.mark.django_db(transaction=True)


def test_benchmark_compares_like_with_like_on_generated_data(capsys):
    # Imported by name: bench/ is a package in main (its runner), a plain
    # directory on this branch.
    run = importlib.import_module("bench.revenue").run
    figures = run(accounts=120)
    assert figures["accounts_with_revenue"] == 120
    assert figures["results_agree"] == 1.0
    assert "identical to the hand-written query's: yes" in capsys.readouterr().out
