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
