from __future__ import annotations

import pytest

from accounts.tasks import ping
from accounts.tests.factories import AccountFactory


@pytest.mark.celery_worker
def test_a_real_worker_runs_a_task_from_the_redis_broker(celery_worker):
    AccountFactory.create_batch(3)
    result = ping.delay()
    assert result.get(timeout=20) == {"accounts": 3}
