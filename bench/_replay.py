"""The database's own ceiling for one intake: its exact statements, replayed by pgbench.

``intake_task`` runs once per territory under ``CaptureQueriesContext``; the
captured SQL (what PostgreSQL received, values inlined) becomes a pgbench
script. pgbench's C client then sends it from 8 connections with no Python at
all, in two shapes:

- **statements**: the same statements as separate round trips, in one
  transaction (what the Django code does, minus Python);
- **one call**: the same statements in one ``DO`` block, a single round trip
  per assignment (the most a stored procedure could win).

``pinned_script`` gives each pgbench client one territory's script
(``:client_id`` modulo the number of territories), as the benchmark's worker
processes each take one territory's leads: with one script per territory
drawn at random per transaction, three or four clients at a time queued on one
territory's member locks while another territory's sat idle, and the replay
measured contention the app does not have (15-35 % fewer tps in four
alternated pairs at 100,000 accounts).

Each replay writes a new account, contact, task, task events, ledger event,
ownership change and counter update, and locks the same member rows as the
original, so the contention between territories is the real one. The unique
values are made fresh per transaction: the lead's domain gets a random
``:n``, and the ids that later statements reference (account, contact, task)
become ``currval()`` of their sequences, which are first moved to distinctive
values so the captured ids can be found in the text (also inside string
literals such as "Round robin with task …" and array literals).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# The tables whose new ids later statements reference.
REFERENCED_TABLES = ("accounts_account", "accounts_contact", "leads_task")
# Captured ids are moved to the next multiple of this (plus 1, 2, 3), above any
# id in use, so they are tokens that appear nowhere else in the text.
MARKER_STEP = 10**13
_QUOTED = re.compile(r"('(?:[^']|'')*')")
_ESCAPE_PREFIX = re.compile(r"(?<![A-Za-z0-9_])[Ee]$")
_RETURNING = re.compile(r"\s+RETURNING\s+[^']*$")
# Every script's first line: the per-transaction value that makes the domain unique.
_SET_N = "\\set n random(1, 1000000000000)\n"


def capture(intake: Callable[[], Any], *, domain: str) -> list[str]:
    """The SQL of one ``intake()`` call, rewritten for replay (``:n`` makes it unique)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    markers: dict[str, str] = {}
    with connection.cursor() as cursor:
        for offset, table in enumerate(REFERENCED_TABLES, start=1):
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")  # noqa: S608 - our names
            first = (cursor.fetchone()[0] // MARKER_STEP + 1) * MARKER_STEP + offset
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, false)", [table, first]
            )
            # A scalar subquery: a bare currval() is volatile, which rules out
            # the primary-key index in a WHERE clause.
            markers[str(first)] = f"(SELECT currval(pg_get_serial_sequence('{table}', 'id')))"
    with CaptureQueriesContext(connection) as captured:
        intake()
    statements = []
    for query in captured.captured_queries:
        sql = query["sql"].strip().rstrip(";")
        if sql.upper() in {"BEGIN", "COMMIT", "ROLLBACK"} or sql.upper().startswith(
            ("SAVEPOINT", "RELEASE SAVEPOINT")
        ):
            continue
        statements.append(_freshen(sql, domain=domain, markers=markers))
    return statements


def _freshen(sql: str, *, domain: str, markers: dict[str, str]) -> str:
    """Make the statement's unique values per-transaction: new domain, currval() ids."""
    fresh_domain = domain.replace(".", "-r:n.", 1)
    token = re.compile(r"\b(" + "|".join(markers) + r")\b")
    parts = _QUOTED.split(sql.replace("\n", " "))
    for index, part in enumerate(parts):
        if not index % 2:
            parts[index] = token.sub(lambda m: markers[m.group(1)], part)
            continue
        part = part.replace(domain, fresh_domain)
        if token.search(part):
            # An id inside text ("task 7300…: …", an array literal '{…}', a
            # JSON row): the literal becomes a concatenation around currval().
            # An escape string (E'…', psycopg's quoting of a backslash) keeps
            # its E on every piece.
            prefix = ""
            if _ESCAPE_PREFIX.search(parts[index - 1]):
                parts[index - 1] = parts[index - 1][:-1]
                prefix = "E"
            pieces = token.split(part[1:-1])
            part = (
                "("
                + " || ".join(
                    markers[piece] if n % 2 else f"{prefix}'{piece}'"
                    for n, piece in enumerate(pieces)
                )
                + ")"
            )
        parts[index] = part
    return "".join(parts)


def pinned_script(scripts: list[str]) -> str:
    """One pgbench script running ``scripts[client_id % len(scripts)]``: each client
    sends one script (one territory's intake) for the whole run. ``scripts`` are
    ``statements_script``'s or ``one_call_script``'s, each setting ``:n`` first."""
    branches = []
    for index, script in enumerate(scripts):
        if not script.startswith(_SET_N):
            raise ValueError("Each script must start by setting :n.")
        branches.append(("\\if" if index == 0 else "\\elif") + f" :t = {index}\n")
        branches.append(script[len(_SET_N) :])
    return f"{_SET_N}\\set t :client_id % {len(scripts)}\n" + "".join(branches) + "\\endif\n"


def statements_script(statements: list[str]) -> str:
    """A pgbench script sending each statement as its own round trip, in one transaction."""
    return f"{_SET_N}BEGIN;\n" + "".join(f"{sql};\n" for sql in statements) + "COMMIT;\n"


def one_call_script(statements: list[str]) -> str:
    """A pgbench script sending all statements in one DO block: one round trip."""
    body = []
    for sql in statements:
        sql = _RETURNING.sub("", sql) if sql.upper().startswith("INSERT") else sql
        if sql.upper().startswith("SELECT"):
            sql = "PERFORM" + sql[len("SELECT") :]
        elif sql.upper().startswith("WITH"):
            # Data-modifying CTEs cannot follow PERFORM; their result row goes
            # into a variable (PL/pgSQL takes the INTO from the end).
            sql += " INTO result"
        body.append(f"  {sql};")
    return (
        f"{_SET_N}DO $replay$ DECLARE result record; BEGIN\n"
        + "\n".join(body)
        + "\nEND $replay$;\n"
    )
