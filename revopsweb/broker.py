"""The Celery broker transport: kombu's Redis transport, surviving a Redis restart.

When Redis goes away while the worker holds unacknowledged messages (a
running ``acks_late`` job, a task waiting for its ETA), Celery closes the
broker connection and kombu tries to put those messages back on their queues.
In kombu 5.7.0 that restore can run after the transport has dropped its
connection settings (``transport.client`` is None): it then fails with
``AttributeError: 'NoneType' object has no attribute 'hostname'``, which is
not a connection error, so it escapes kombu's own handling and the worker
exits ("Unrecoverable error") instead of reconnecting.

Here that case is reported as what it is, a lost connection, so kombu goes
on: the worker reconnects when Redis is back. The messages are not lost: the
Redis transport also keeps every delivered, unacknowledged message in Redis
(the ``unacked`` hash) and puts it back on its queue once
``visibility_timeout`` has passed (``CELERY_VISIBILITY_TIMEOUT_SECONDS``),
provided Redis keeps its data across the restart (``appendonly yes``, see the
README). The restore could not have reached Redis at that moment anyway.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection.client is None:
            raise RedisConnectionError("the broker connection is closed")
        params: dict[str, Any] = super()._connparams(asynchronous=asynchronous)  # type: ignore[misc]
        return params


class Transport(kombu_redis.Transport):
    Channel = Channel
