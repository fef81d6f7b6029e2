#!/usr/bin/env bash
# One command to set up and run revopsweb locally with a demo company.
# Uses an SQLite file and runs background tasks inline unless DATABASE_URL /
# REDIS_URL say otherwise.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
ensure_venv ""

export DEBUG="${DEBUG:-true}"
export DATABASE_URL="${DATABASE_URL:-sqlite:///$ROOT/db.sqlite3}"
PORT="${PORT:-8000}"

"$VENV/bin/python" manage.py migrate --no-input -v 0
"$VENV/bin/python" manage.py seed_demo --if-empty

cat <<MSG

  revopsweb is running at http://127.0.0.1:$PORT/
  Demo logins (password: demo):
$("$VENV/bin/python" -c 'import django, os; os.environ.setdefault("DJANGO_SETTINGS_MODULE", "revopsweb.settings"); django.setup(); from accounts.demo import DEMO_LOGINS; print("\n".join(f"    {email:34} {role}" for email, role in DEMO_LOGINS.items()))')

MSG
exec "$VENV/bin/python" manage.py runserver "127.0.0.1:$PORT"
