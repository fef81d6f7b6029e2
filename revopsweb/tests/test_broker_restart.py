"""The worker survives a Redis restart while it holds unacknowledged messages.

A private redis-server (own port, own process, own data directory: the shared
one is never touched) is restarted while a task is running in a real worker
process. Before revopsweb.broker the worker exited with ``AttributeError:
'NoneType' object has no attribute 'hostname'``; now it reconnects, the
in-flight task is done (again, after the visibility timeout: tasks are
idempotent), and new work is taken.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from celery import Celery

from revopsweb.tests.processes import app_env, free_port, port_open, running, stop, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(360)]

TASK = "revopsweb.tests.worker_tasks.touch_after"


def _start_redis(*, port: int, data: Path) -> subprocess.Popen[bytes]:
    # appendonly: the broker's data (queues and the unacked messages) survives
    # the restart, as the README asks of production Redis.
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "yes", "--dir", str(data)],
        stdout=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    wait_for(lambda: port_open(port), timeout=10, what="redis-server")
    return process


@pytest.mark.django_db(transaction=True)
def test_the_worker_keeps_working_after_redis_restarts_under_a_running_task(tmp_path):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    redis = _start_redis(port=port, data=tmp_path)
    log = tmp_path / "worker.log"
    env = app_env(REDIS_URL=url, CELERY_VISIBILITY_TIMEOUT_SECONDS="5")
    worker_args = [
        sys.executable, "-m", "celery", "-A", "revopsweb", "worker", "--concurrency", "1",
        "--include", "revopsweb.tests.worker_tasks", "--without-mingle", "--without-gossip",
        "--loglevel", "INFO",
    ]  # fmt: skip
    sender = Celery(broker=url)
    try:
        with running(worker_args, env=env, log=log) as worker:
            wait_for(lambda: "ready." in log.read_text(), timeout=60, what="the worker", log=log)
            in_flight, after = tmp_path / "in-flight", tmp_path / "after"
            sender.send_task(TASK, kwargs={"path": str(in_flight), "seconds": 3})
            wait_for(lambda: "received" in log.read_text(), timeout=20, what="delivery", log=log)

            subprocess.run(["redis-cli", "-p", str(port), "shutdown"], check=False)
            redis.wait(10)
            wait_for(lambda: "lost" in log.read_text(), timeout=20, what="the lost link", log=log)
            redis = _start_redis(port=port, data=tmp_path)

            # Generous waits: the worker retries its connection with a growing
            # interval, and this machine may be busy.
            wait_for(in_flight.exists, timeout=120, what="the in-flight task", log=log)
            sender.send_task(TASK, kwargs={"path": str(after), "seconds": 0})
            wait_for(after.exists, timeout=120, what="a task sent after the restart", log=log)
            assert worker.poll() is None, log.read_text()[-3000:]
        assert "Unrecoverable error" not in log.read_text()
    finally:
        sender.close()
        stop(redis)
