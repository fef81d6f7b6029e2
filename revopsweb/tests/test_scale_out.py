"""Scale-out, proven: two web servers, two workers and beat, all at once.

Two gunicorn processes, two Celery workers and beat (the single-beat
scheduler) run on loopback against this test's PostgreSQL database and a
private redis-server. 100 intakes arrive concurrently over HTTP, spread over
both web servers, while every scheduled job is sent to both workers at the
same moment (each worker listens on its own queue too). Then: every intake
made exactly one task, assigned exactly once; every job's runs did their
work once (the stale tasks reassigned once each, no two successful runs of a
job overlapping); the round-robin ledger reconciles with the counters.
"""

from __future__ import annotations

import datetime as dt
import sys
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from functools import partial
from pathlib import Path

import httpx
import pytest
from celery import Celery
from django.conf import settings
from django.utils import timezone

from accounts.api import issue_integration_token
from leads.ledger import reconcile_counters
from leads.models import LedgerKind, RoundRobinEvent, Task
from leads.tests.factories import TaskFactory, member
from leads.tests.test_api import PAYLOAD
from revopsweb.models import JobRun
from revopsweb.tests.processes import (
    app_env,
    free_port,
    port_open,
    private_redis,
    running,
    wait_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

INTAKES = 100
STALE = 20


def _ready(log: Path) -> bool:
    return "ready." in log.read_text()


def _intake(client: httpx.Client, base: str, token: str, n: int) -> int:
    payload = {**PAYLOAD, "email": f"person{n}@company{n}.example.com", "company": f"Co {n}"}
    response = client.post(
        f"{base}/api/intake/tasks",
        json=payload,
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex},
    )
    return response.status_code


@pytest.mark.django_db(transaction=True)
def test_two_web_servers_two_workers_and_beat_lose_and_double_nothing(tmp_path):
    stuck = member()
    for _ in range(3):
        member()
    long_ago = timezone.now() - dt.timedelta(days=settings.STALE_TASK_DAYS + 2)
    stale = [
        TaskFactory.create(assignee=stuck.user, assigned_at=long_ago, last_touched_at=long_ago).pk
        for _ in range(STALE)
    ]
    token = issue_integration_token(name="Load", scope="intake", created_by=None)[1]
    jobs = sorted({str(entry["task"]) for entry in settings.CELERY_BEAT_SCHEDULE.values()})

    with ExitStack() as stack:
        redis_url = stack.enter_context(private_redis(tmp_path))
        env = app_env(REDIS_URL=redis_url)
        ports = [free_port(), free_port()]
        for i, port in enumerate(ports):
            web = [sys.executable, "-m", "gunicorn", "revopsweb.wsgi", "--workers", "1",
                   "--threads", "8", "--bind", f"127.0.0.1:{port}"]  # fmt: skip
            stack.enter_context(running(web, env=env, log=tmp_path / f"web{i}.log"))
        worker_logs = [tmp_path / "worker1.log", tmp_path / "worker2.log"]
        for i, log in enumerate(worker_logs, start=1):
            worker = [sys.executable, "-m", "celery", "-A", "revopsweb", "worker", "-n",
                      f"w{i}@%h", "-Q", f"celery,w{i}", "--concurrency", "2",
                      "--without-mingle", "--without-gossip", "--loglevel", "INFO"]  # fmt: skip
            stack.enter_context(running(worker, env=env, log=log))
        beat = [sys.executable, "-m", "celery", "-A", "revopsweb", "beat",
                "--schedule", str(tmp_path / "beat-schedule")]  # fmt: skip
        stack.enter_context(running(beat, env=env, log=tmp_path / "beat.log"))

        for i, port in enumerate(ports):
            wait_for(partial(port_open, port), timeout=60, what="gunicorn",
                     log=tmp_path / f"web{i}.log")  # fmt: skip
        for log in worker_logs:
            wait_for(partial(_ready, log), timeout=60, what="a worker", log=log)

        sender = stack.enter_context(Celery(broker=redis_url, backend=redis_url))
        client = stack.enter_context(httpx.Client(timeout=60))
        with ThreadPoolExecutor(max_workers=24) as pool:
            # Every scheduled job, to both workers at once, while the intakes arrive.
            results = [sender.send_task(job, queue=queue) for job in jobs for queue in ("w1", "w2")]
            bases = [f"http://127.0.0.1:{port}" for port in ports]
            statuses = list(
                pool.map(lambda n: _intake(client, bases[n % 2], token, n), range(INTAKES))
            )
            outcomes = [result.get(timeout=120) for result in results]

    assert statuses == [201] * INTAKES
    assert len(outcomes) == 2 * len(jobs)
    assert Task.objects.count() == INTAKES + STALE  # nothing lost, nothing doubled
    assignments = Counter(
        RoundRobinEvent.objects.filter(kind=LedgerKind.ASSIGNMENT).values_list("task", flat=True)
    )
    assert len(assignments) == INTAKES and set(assignments.values()) == {1}
    reassigned = Counter(
        RoundRobinEvent.objects.filter(kind=LedgerKind.REASSIGNMENT).values_list("task", flat=True)
    )
    assert len(reassigned) == STALE and set(reassigned.values()) == {1}
    assert not Task.objects.filter(pk__in=stale, assignee=stuck.user).exists()

    runs = JobRun.objects.order_by("started_at")
    assert not runs.exclude(outcome__in=["succeeded", "skipped"]).exists(), list(runs.values())
    for job in runs.values_list("job", flat=True).distinct():
        done = list(runs.filter(job=job, outcome="succeeded"))
        assert done, job
        for earlier, later in zip(done, done[1:], strict=False):
            assert earlier.finished_at, job
            assert earlier.finished_at <= later.started_at, f"{job} ran twice at once"
    assert reconcile_counters() == []
