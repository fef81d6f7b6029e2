"""bench._common.BackendCpu: the CPU of this database's backends, read from /proc."""

from __future__ import annotations

import pytest
from django.db import connection

from bench._common import BackendCpu

pytestmark = pytest.mark.django_db


def _burn() -> None:
    # About a quarter of a second of one backend's CPU, in the server alone.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute("SELECT count(*) FROM generate_series(1, 3000000) AS n WHERE n % 7 = 3")
        cursor.fetchone()


def test_it_counts_the_backend_that_runs_the_work_unless_excluded():
    connection.ensure_connection()
    own = connection.connection.info.backend_pid

    # revenue's refresh: the bench's own backend does the work.
    with BackendCpu() as counted:
        _burn()
    # pages': the bench's own backend is not the server's work.
    with BackendCpu(exclude=own) as excluded:
        _burn()

    assert counted.cpu >= 0.05
    assert excluded.cpu < 0.05
