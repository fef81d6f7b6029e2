# Shared by scripts/run.sh, scripts/manage.sh and scripts/test.sh: find Python
# 3.12+, build .venv (with uv when it can), the quick start's settings file and
# its embedded PostgreSQL server.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
# The quick start's own files, git-ignored: settings, PostgreSQL data, the
# Celery broker's folders, logs. Deleting it starts the demo over.
QUICKSTART_DIR="${QUICKSTART_DIR:-$ROOT/.quickstart}"
export QUICKSTART_DIR
# Where the bootstrapped uv lives when none is on PATH (shared by checkouts).
UV_BOOTSTRAP="${XDG_CACHE_HOME:-$HOME/.cache}/revopsweb/uv"
UV_VERSION_RANGE="uv>=0.13,<0.14"
# Never let uv fetch a Python build of its own: use the interpreter found here.
export UV_PYTHON_DOWNLOADS=never
# Some machines set this globally; then every process compiles Django again
# (seconds per start). Bytecode goes to __pycache__, which git ignores.
unset PYTHONDONTWRITEBYTECODE

find_python() {
  local candidates=()
  [ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
  candidates+=(python3.13 python3.12 python3)
  for dir in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13* "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12* /root/.pyenv/versions/3.13* /root/.pyenv/versions/3.12*; do
    [ -x "$dir/bin/python3" ] && candidates+=("$dir/bin/python3")
  done
  local c path
  for c in "${candidates[@]}"; do
    path="$(command -v "$c" 2>/dev/null)" || continue
    # A shim (pyenv) may name a version that is not installed: ask the interpreter itself.
    if "$path" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      "$path" -c 'import sys; print(sys.executable)'
      return 0
    fi
  done
  echo "revopsweb needs Python 3.12 or newer (Django 6), and none was found." >&2
  echo "Install one (e.g. apt-get install python3.13, or pyenv install 3.13) or point PYTHON=/path/to/python3.12 at it." >&2
  return 1
}

# find_uv PYTHON: print the path of a uv binary (on PATH, or bootstrapped once
# with pip into UV_BOOTSTRAP); fail when neither works (callers fall back to pip).
find_uv() {
  local python="$1"
  if command -v uv >/dev/null 2>&1; then
    command -v uv
    return 0
  fi
  if [ ! -x "$UV_BOOTSTRAP/bin/uv" ]; then
    "$python" -m pip install --quiet --disable-pip-version-check --target "$UV_BOOTSTRAP" \
      "$UV_VERSION_RANGE" >/dev/null 2>&1 || return 1
  fi
  [ -x "$UV_BOOTSTRAP/bin/uv" ] && echo "$UV_BOOTSTRAP/bin/uv"
}

# _has_extras STAMP_EXTRAS WANTED: whether every extra of WANTED (a,b) is in STAMP_EXTRAS.
_has_extras() {
  local have=",$1," extra
  IFS=',' read -ra wanted <<<"$2"
  for extra in "${wanted[@]}"; do
    [ -z "$extra" ] && continue
    case "$have" in *",$extra,"*) ;; *) return 1 ;; esac
  done
  return 0
}

# ensure_venv EXTRAS: .venv with a suitable Python and the project installed
# with EXTRAS (comma-separated, e.g. "dev,quickstart"; "" for the app alone).
# Reinstalls only when pyproject.toml changed or an extra is missing. The
# stamp .venv/.installed reads "<sha256 of pyproject.toml> [extras]".
ensure_venv() {
  local extras="$1" python="" uv="" hash stamp_hash="" stamp_extras="" all
  if [ -x "$VENV/bin/python" ] && ! "$VENV/bin/python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
    rm -rf "$VENV"
  fi
  hash="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
  if [ -f "$VENV/.installed" ]; then
    read -r stamp_hash stamp_extras <"$VENV/.installed" || true
    stamp_extras="${stamp_extras#[}"
    stamp_extras="${stamp_extras%]}"
  fi
  if [ -x "$VENV/bin/python" ] && [ "$stamp_hash" = "$hash" ] && _has_extras "$stamp_extras" "$extras"; then
    return 0
  fi
  # Keep the extras installed before (run.sh after test.sh keeps the dev tools).
  all="$extras"
  [ "$stamp_hash" = "$hash" ] && [ -n "$stamp_extras" ] && all="$stamp_extras,$extras"
  all="$(tr ',' '\n' <<<"$all" | sed '/^$/d' | sort -u | paste -sd, -)"
  python="$(find_python)" || exit 1
  if uv="$(find_uv "$python")"; then
    [ -x "$VENV/bin/python" ] || "$uv" venv --quiet --python "$python" "$VENV"
    "$uv" pip install --quiet --python "$VENV/bin/python" -e "$ROOT${all:+[$all]}"
  else
    echo "uv is not available (no uv on PATH and pip could not install it); using pip (slower)"
    [ -x "$VENV/bin/python" ] || "$python" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT${all:+[$all]}"
  fi
  echo "$hash [$all]" >"$VENV/.installed"
}

# load_quickstart_env: the quick start's settings. run.sh writes them once to
# .quickstart/env (a random SECRET_KEY, DEBUG=true, PORT); run.sh and
# manage.sh read them. A variable already set in the environment wins.
load_quickstart_env() {
  local file="$QUICKSTART_DIR/env" key value
  mkdir -p "$QUICKSTART_DIR/broker/queue" "$QUICKSTART_DIR/broker/control"
  if [ ! -f "$file" ]; then
    {
      echo "# The quick start's settings (scripts/run.sh wrote them; scripts/manage.sh reads them)."
      echo "# A variable set in the environment wins. See README, Configuration."
      echo "DEBUG=true"
      echo "SECRET_KEY=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')"
      echo "PORT=8000"
    } >"$file"
  fi
  while IFS='=' read -r key value; do
    [[ "$key" =~ ^[A-Z_][A-Z0-9_]*$ ]] || continue
    [ -n "${!key+set}" ] || export "$key=$value"
  done <"$file"
}

# start_embedded_postgres DIR: start (or find running) the server whose data
# is in DIR/postgres; export DATABASE_URL, set PG_VERSION, and PG_STARTED=1
# when this call started it. On failure the helper has said why in one line.
start_embedded_postgres() {
  local out state
  out="$("$VENV/bin/python" "$ROOT/scripts/embedded_postgres.py" start "$1")" || return 1
  read -r state PG_VERSION DATABASE_URL <<<"$out"
  PG_STARTED=0
  [ "$state" = "started" ] && PG_STARTED=1
  export DATABASE_URL
}

stop_embedded_postgres() {
  "$VENV/bin/python" "$ROOT/scripts/embedded_postgres.py" stop "$1" || true
}
