"""Settings for the test suite: PostgreSQL and Redis by default.

The suite runs against the real services on this machine; DATABASE_URL and
REDIS_URL override them (scripts/test.sh's smoke run points DATABASE_URL at a
fresh embedded PostgreSQL and empties REDIS_URL, as in the quick start).
"""

from __future__ import annotations

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/revopsweb")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "false")
os.environ.setdefault("AXES_ENABLED", "false")
# Tests travel days ahead with a logged-in client; the working-day idle
# timeout has its own tests (accounts/tests/test_access.py) that set it.
os.environ.setdefault("SESSION_IDLE_HOURS", str(14 * 24))
# Counters live in Redis across runs; the rate-limit test turns it on with its
# own key prefix.
os.environ.setdefault("RATELIMIT_ENABLE", "false")

# Under pytest-xdist (scripts/test.sh runs two workers) each worker gets its own
# Redis database for the cache, the Celery broker and results, as pytest-django
# gives each its own PostgreSQL database; otherwise one worker's cache.clear()
# or a queued task would reach the other's tests.
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
_redis_base, _, _redis_db = os.environ["REDIS_URL"].rpartition("/")
if _xdist_worker.startswith("gw") and _redis_db.isdigit():
    os.environ["REDIS_URL"] = f"{_redis_base}/{(int(_redis_db) + 1 + int(_xdist_worker[2:])) % 16}"

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
