from __future__ import annotations

import importlib

import pytest

pytestmark = pytest.mark.django_db


def test_benchmark_compares_like_with_like_on_generated_data(capsys):
    # Imported by name: bench/ is a package in main (its runner), a plain
    # directory on this branch.
    run = importlib.import_module("bench.revenue").run
    figures = run(accounts=40)
    assert figures["accounts_with_revenue"] == 40
    assert figures["results_agree"] == 1.0
    assert "identical to the hand-written query's: yes" in capsys.readouterr().out
