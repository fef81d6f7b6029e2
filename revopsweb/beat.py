"""Celery beat that refuses to run twice.

Two beats dispatch every scheduled job twice. Jobs survive that (each holds
its advisory lock and is idempotent), but notifications and the ledger's
"work done once" should not depend on it, and operators do start a second
beat by mistake (a second host, a rolling deploy). ``SingleBeatScheduler``
takes a PostgreSQL advisory lock on a connection of its own when it starts
and keeps it for its whole life:

- a second beat finds the lock taken and exits with status 1 and a message
  (under systemd ``Restart=on-failure`` it retries, so it is a standby that
  takes over within ``RestartSec`` of the first beat's death);
- the lock dies with the first beat's process or connection, so a killed
  beat never blocks its successor;
- on every tick the beat checks its lock connection; if the connection was
  lost (database restart), the lock may already be someone else's, so it
  exits rather than risk running beside another beat.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.beat import PersistentScheduler
from django.db import connections

from .jobs import _lock_key

logger = logging.getLogger(__name__)

BEAT_LOCK = "revopsweb.celery-beat"


class AnotherBeatIsRunning(SystemExit):
    pass


class SingleBeatScheduler(PersistentScheduler):
    """``PersistentScheduler`` holding the beat lock (see the module docstring)."""

    _lock_connection: Any = None

    def setup_schedule(self) -> None:
        self._take_lock()
        super().setup_schedule()

    def _take_lock(self) -> None:
        # A connection outside Django's handler: nothing closes it between
        # requests or tasks, so the session lock lives as long as the process.
        self._lock_connection = connections.create_connection("default")
        with self._lock_connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [_lock_key(BEAT_LOCK)])
            acquired = bool(cursor.fetchone()[0])
        if not acquired:
            self._lock_connection.close()
            message = "Another celery beat holds the beat lock: refusing to start a second one."
            logger.error(message)
            raise AnotherBeatIsRunning(message)
        logger.info("Holding the beat lock: this is the only beat.")

    def tick(self, *args: Any, **kwargs: Any) -> float:
        try:
            with self._lock_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception as exc:
            message = f"Lost the beat lock's database connection ({exc}); stopping."
            logger.error(message)
            raise SystemExit(message) from exc
        interval: float = super().tick(*args, **kwargs)
        return interval

    def close(self) -> None:
        super().close()
        if self._lock_connection is not None:
            self._lock_connection.close()
