"""The session engine (``SESSION_ENGINE``): Django's database sessions, read in one
prepared statement.

Every signed-in request reads its session before anything else. Django's store
builds, compiles and runs an ORM ``get()`` for it: 0.39 ms of Python per request
against 0.06 ms for the same row read here, decoded the same way (issue 20; the
two alternated on the 100,000-account bench database, ``time.process_time``).
Writing, expiring and clearing sessions stay Django's, so sessions made by
``django.contrib.sessions.backends.db`` keep working unchanged.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.models import Session
from django.db import connections, router
from django.utils import timezone

from .sql import prepared_cursor

# What Django's keys are made of (``SessionBase._get_new_session_key``).
_KEY_CHARS = frozenset(VALID_KEY_CHARS)
_opts = Session._meta
# The same row Django's store reads: the key's session unless it has expired.
_READ_SQL = (
    f"SELECT {_opts.get_field('session_data').column}"  # noqa: S608 (names from the model)
    f" FROM {_opts.db_table}"
    f" WHERE {_opts.get_field('session_key').column} = %s"
    f" AND {_opts.get_field('expire_date').column} > %s"
)


class SessionStore(db.SessionStore):
    """Django's ``db.SessionStore`` whose ``load`` is one server-side prepared statement
    (planned once per connection) instead of an ORM query compiled on every request.
    As Django's: an unknown or expired key loads an empty session and drops the key,
    so the next save makes a new one. A cookie whose key holds a character Django's
    keys never have (a NUL among them, which PostgreSQL text refuses) is no session:
    the request is signed out, not a server error."""

    def _validate_session_key(self, key: str | None) -> bool:
        # Django's own rule (at least 8 characters), and its characters only.
        return key is not None and len(key) >= 8 and set(key) <= _KEY_CHARS

    def load(self) -> dict[str, Any]:
        database = connections[router.db_for_read(Session)]
        with prepared_cursor(database) as cursor:
            cursor.execute(_READ_SQL, [self.session_key, timezone.now()])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return {}
        data: dict[str, Any] = self.decode(row[0])
        return data
