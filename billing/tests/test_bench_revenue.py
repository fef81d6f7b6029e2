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
    # The refresh after one more month's import recomputed something (a full run
    # once measured "0 months": its import wrote no row).
    assert figures["refresh_after_month_import_months"] >= 1
    assert "identical to the hand-written query's: yes" in capsys.readouterr().out
