#!/usr/bin/env bash
# manage.py in the quick-start checkout: the quick start's settings
# (.quickstart/env) and database. With DATABASE_URL unset it uses the embedded
# PostgreSQL, starting it for this command (and stopping it after) when
# scripts/run.sh is not running. Example: bash scripts/manage.sh import_accounts accounts.csv --dry-run
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ ! -f "$QUICKSTART_DIR/env" ]; then
  echo "Run 'bash scripts/run.sh' once first: it creates the quick start's settings and database." >&2
  exit 1
fi
load_quickstart_env
if [ -z "${DATABASE_URL:-}" ]; then
  ensure_venv quickstart
  start_embedded_postgres "$QUICKSTART_DIR" || exit 1
  if [ "$PG_STARTED" = 1 ]; then trap 'stop_embedded_postgres "$QUICKSTART_DIR"' EXIT; fi
else
  ensure_venv ""
fi
cd "$ROOT"
"$VENV/bin/python" manage.py "$@"
