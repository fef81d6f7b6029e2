"""The benchmark harness runs end to end (tiny sizes, no timing assertions).

``python -m bench --smoke`` seeds a 200-account company on its own database
and runs every registered benchmark in the runner's order, as the full run
does at 100,000 accounts; a harness that crashes (a cast that overflows after
another benchmark moved a sequence, a page that needs collectstatic) fails
here instead of on the next person who measures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(900)
def test_every_benchmark_runs_end_to_end_and_writes_its_figures(tmp_path: Path) -> None:
    db = settings.DATABASES["default"]
    url = (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}_bench_smoke"
    )
    results = tmp_path / "results.json"
    env = {**os.environ, "BENCH_DATABASE_URL": url}
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the runner picks production settings itself
    _drop_database(url)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "bench", "--smoke", "--results", str(results)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=840,
        )
    finally:
        _drop_database(url)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    from bench import load_benchmarks

    written = json.loads(results.read_text())
    assert set(written["benchmarks"]) == set(load_benchmarks())
    assert written["environment"]["jit"] in {"on", "off"}
    for name, run in written["benchmarks"].items():
        assert run["figures"], f"{name} returned no figures"
        assert len(run["load_average"]) == 2


def _drop_database(url: str) -> None:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = str(conninfo_to_dict(url)["dbname"])
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
