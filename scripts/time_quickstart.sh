#!/usr/bin/env bash
# Time the quick start from a fresh clone: first run, then a restart. For each,
# the wall time from `bash scripts/run.sh` until GET /login/ answers 200, and
# the CPU seconds spent until then: run.sh's finished children (uv, initdb, the
# bytecode warm-up, prepare_demo), the web server, and PostgreSQL (postmaster,
# finished and live backends), read from /proc. The steps run one after
# another, so on an idle machine the wall time is about the CPU time plus
# downloads; on a busy one the wall time says more about the other load.
#
#   bash scripts/time_quickstart.sh [PORT]     (default 18400; Linux only)
#
# It clones this checkout's HEAD into a temporary folder with DATABASE_URL and
# REDIS_URL unset (the newcomer's case), and removes the clone afterwards.
set -euo pipefail
port="${1:-18400}"
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$(mktemp -d)/fresh"
git clone --quiet "$src" "$dir"
cd "$dir"
tick="$(getconf CLK_TCK)"
own() { awk -v t="$tick" '{print ($14 + $15) / t}' "/proc/$1/stat"; }
reaped() { awk -v t="$tick" '{print ($16 + $17) / t}' "/proc/$1/stat"; }

run_once() { # run_once LABEL
  local start end runpid children web=0 pg pm p
  start="$(date +%s.%N)"
  env -u DATABASE_URL -u REDIS_URL PORT="$port" setsid bash scripts/run.sh >>"$dir/run.out" 2>&1 &
  runpid=$!
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/login/")" = 200 ]; do
    kill -0 "$runpid" 2>/dev/null || { echo "run.sh stopped; see $dir/run.out" >&2; exit 1; }
    sleep 0.25
  done
  end="$(date +%s.%N)"
  children="$(reaped "$runpid")"
  for p in $(pgrep -P "$runpid"); do
    if grep -q runserver "/proc/$p/cmdline"; then web="$(own "$p")"; fi
  done
  pm="$(head -n1 "$dir/.quickstart/postgres/postmaster.pid")"
  pg="$(echo "$(own "$pm") + $(reaped "$pm")" | bc)"
  for p in $(pgrep -P "$pm"); do pg="$(echo "$pg + $(own "$p")" | bc)"; done
  printf '%-10s first page after %6.1f s (load average %s); CPU until then %5.1f s: scripts and commands %.1f, web server %.1f, PostgreSQL %.1f\n' \
    "$1" "$(echo "$end - $start" | bc)" "$(cut -d' ' -f1 /proc/loadavg)" \
    "$(echo "$children + $web + $pg" | bc)" "$children" "$web" "$pg"
  kill -TERM "$runpid"
  while kill -0 "$runpid" 2>/dev/null; do sleep 0.5; done
}

run_once "first run"
run_once "restart"
rm -rf "$(dirname "$dir")"
