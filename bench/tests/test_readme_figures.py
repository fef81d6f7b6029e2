"""Every benchmark figure in README.md is the committed results file's (bench/results/readme.json)."""

from __future__ import annotations

import json

from bench import readme


def test_the_readme_figures_are_the_results_file_figures():
    results = json.loads(readme.RESULTS.read_text())
    text = readme.README.read_text()
    assert readme.replace_section(text, readme.render(results)) == text, (
        "README.md's benchmark table differs from bench/results/readme.json: "
        "run python -m bench.readme after a bench run"
    )


def test_each_figure_row_names_its_command_and_date():
    results = json.loads(readme.RESULTS.read_text())
    rows = [line for line in readme.render(results).splitlines() if line.startswith("| `")]
    assert rows
    for line in rows:
        assert "`python -m bench" in line
        assert any(run["date"] in line for run in results["benchmarks"].values())


def test_a_figure_with_a_goal_shows_its_target_and_one_without_a_dash():
    results = {
        "environment": {
            "command": "python -m bench",
            "commit": "abc1234",
            "started": "2026-11-30T00:00:00+00:00",
            "postgresql": "15",
            "jit": "off",
            "cpus": 2,
            "python": "3.13",
        },
        "options": {"accounts": 100_000, "months": 24},
        "benchmarks": {
            "assignment": {
                "date": "2026-11-30",
                "load_average": [1.0, 1.5],
                "figures": {"processes_ratio_to_replay_one_call": 0.61, "pgbench_tps": 900.0},
            }
        },
    }
    rows = [line for line in readme.render(results).splitlines() if line.startswith("| `")]

    assert rows == [
        "| `assignment` | 8 processes / the same writes replayed by pgbench in one DO block | "
        "0.610 | ≥ 0.5 | `python -m bench` | 2026-11-30 | 1.0 → 1.5 |",
        "| `assignment` | pgbench simple-update | 900 tps | – | `python -m bench` | 2026-11-30 "
        "| 1.0 → 1.5 |",
    ]
