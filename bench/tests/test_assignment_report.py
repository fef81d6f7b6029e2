"""The assignment bench's lines: the goal beside the ratio that has one (issue 20)."""

from __future__ import annotations

import pytest

from bench.assignment import mode_report


def test_only_the_do_block_ratio_is_printed_with_the_goal():
    figures, (to_pgbench, to_replay) = mode_report(
        "processes",
        rate=150.0,
        assigned=2000,
        pgbench_tps=6000.0,
        one_call_tps=300.0,
        minimal_tps=1500.0,
    )

    # simple-update is context: no issue sets a goal on it.
    assert to_pgbench == (
        "assignment (processes): 2000 leads assigned at 150.0/s with 8 worker processes; "
        "pgbench simple-update 6000.0 tps; ratio 0.025"
    )
    assert "target" not in to_pgbench
    assert to_replay == (
        "assignment (processes): ratio 0.500 to its SQL replayed in one DO block "
        "(300.0 tps around it; target ≥ 0.5), 0.100 to the minimal SQL function"
    )
    assert figures == {
        "processes_assignments_per_second": 150.0,
        "processes_ratio_to_pgbench": pytest.approx(0.025),
        "processes_replay_one_call_tps": 300.0,
        "processes_ratio_to_replay_one_call": 0.5,
        "processes_ratio_to_minimal": 0.1,
        "processes_assigned": 2000.0,
    }


def test_a_zero_baseline_gives_a_zero_ratio():
    figures, _ = mode_report(
        "threads", rate=10.0, assigned=5, pgbench_tps=0.0, one_call_tps=0.0, minimal_tps=0.0
    )

    assert figures["threads_ratio_to_pgbench"] == 0.0
    assert figures["threads_ratio_to_replay_one_call"] == 0.0
    assert figures["threads_ratio_to_minimal"] == 0.0
