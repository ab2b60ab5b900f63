#!/usr/bin/env bash
# The one command that runs the whole test suite from a bare machine:
#   bash scripts/test.sh [extra `swift test` arguments, e.g. --filter EmbeddedPostgres]
# It installs what the tests need (PostgreSQL server binaries, a Python virtual environment with
# the client libraries the end-to-end tests drive), then builds and runs the tests.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }

# --- PostgreSQL server binaries -----------------------------------------------------------------
# The tests start private clusters of their own (see Tests/MessagerieTests/Support/TestDatabase.swift),
# even with TEST_DATABASE_URL set (EmbeddedPostgresTests); only initdb/pg_ctl/postgres are needed,
# not a running service.
step "PostgreSQL server binaries"
bash scripts/install-postgres.sh

# --- Python virtual environment -------------------------------------------------------------------
step "Python test environment"
venv=.build/test-venv
requirements=(
    "gql[aiohttp,websockets,requests]"
    graphql-core
    "python-socketio[client]"
    websocket-client
    requests
    openapi-spec-validator
)
if [ ! -x "$venv/bin/python" ]; then
    command -v python3 >/dev/null || { echo "error: python3 not found: install python3 and python3-venv" >&2; exit 1; }
    echo "creating $venv"
    mkdir -p .build
    if ! python3 -m venv "$venv"; then
        echo "error: 'python3 -m venv' failed: install python3-venv (apt-get install python3-venv)" >&2
        rm -rf "$venv"
        exit 1
    fi
fi
wanted=$(printf '%s\n' "${requirements[@]}" | sha256sum | cut -d' ' -f1)
marker="$venv/.requirements.sha256"
if [ "$(cat "$marker" 2>/dev/null)" = "$wanted" ]; then
    echo "requirements already installed"
else
    echo "installing: ${requirements[*]}"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${requirements[@]}"
    echo "$wanted" > "$marker"
fi
MESSAGERIE_TEST_PYTHON="$(pwd)/$venv/bin/python"
export MESSAGERIE_TEST_PYTHON

# --- Leftovers of crashed runs ----------------------------------------------------------------------
# Each test process keeps its clusters in <tmp>/messagerie-test-pg-<pid>. A folder whose process is
# gone is a leftover (its watchdog was killed too): fast-stop its servers, then delete it.
step "Leftover test clusters"
tmp="${TMPDIR:-/tmp}"
tmp="${tmp%/}"
found=0
for dir in "$tmp"/messagerie-test-pg-*; do
    [ -d "$dir" ] || continue
    owner="${dir##*-}"
    if [[ "$owner" =~ ^[0-9]+$ ]] && kill -0 "$owner" 2>/dev/null; then
        continue # a test run still going
    fi
    found=1
    pids=()
    for pidfile in "$dir"/*/pgdata/postmaster.pid; do
        [ -f "$pidfile" ] || continue
        pid=$(head -n 1 "$pidfile")
        if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = postgres ] && kill -INT "$pid" 2>/dev/null; then
            pids+=("$pid")
        fi
    done
    for _ in $(seq 300); do
        alive=()
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
        [ ${#alive[@]} -eq 0 ] && break
        sleep 0.1
    done
    rm -rf "$dir"
    echo "removed $dir (stopped ${#pids[@]} server(s))"
done
[ "$found" -eq 1 ] || echo "none"

# --- Build and test ----------------------------------------------------------------------------------
step "swift build --build-tests"
swift build --build-tests

step "swift test --skip-build $*"
swift test --skip-build "$@"

# --- The benchmark program's own tests ---------------------------------------------------------------
# Its parsing and histogram code (a package of its own, see Benchmarks/); not with extra arguments,
# which are meant for the suite above.
if [ $# -eq 0 ]; then
    step "Benchmarks: swift build --build-tests, swift test --skip-build"
    swift build --build-tests --package-path Benchmarks
    swift test --skip-build --package-path Benchmarks
fi
