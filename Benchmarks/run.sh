#!/usr/bin/env bash
# One command for the benchmarks of issue 8: builds in release mode, starts a private PostgreSQL,
# runs every scenario against Messagerie (GraphQL over WebSocket and Socket.IO), the two Python
# peers and the bare ceiling server, one after the other on this machine, then writes
# Benchmarks/results/<mode>/ (results.json, results.md, charts). `--quick` is a 2-minute smoke run.
#   bash Benchmarks/run.sh [--quick | --config FILE] [--only fanout,idle,pairs,history] [--targets a,b,...] [--no-build]
# `--config FILE` runs the scenarios of another file (results in Benchmarks/results/<its name>).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
MODE=full CONFIG="" ONLY="" TARGETS="messagerie-graphql,messagerie-socketio,peer-socketio,peer-graphql,ceiling" BUILD=1
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) MODE=quick ;;
        --config) CONFIG="$2"; MODE="$(basename "$2" .json)"; shift ;;
        --only) ONLY="$2"; shift ;;
        --targets) TARGETS="$2"; shift ;;
        --no-build) BUILD=0 ;;
        *) echo "usage: $0 [--quick | --config FILE] [--only fanout,idle,pairs,history] [--targets LIST] [--no-build]" >&2; exit 2 ;;
    esac
    shift
done
[ -n "$CONFIG" ] || CONFIG="Benchmarks/scenarios/$MODE.json"
OUT="Benchmarks/results/$MODE"
WORK="$(mktemp -d /tmp/messagerie-bench.XXXXXX)"
chmod 755 "$WORK"
RAW="$WORK/raw"; mkdir -p "$RAW" "$OUT"
VENV="$ROOT/.build-bench/peers-venv"
LOADGEN="$ROOT/.build-bench/release/loadgen"
CEILING="$ROOT/.build-bench/release/ceiling"
# MESSAGERIE_BIN runs another build of the server (an A/B comparison of two commits).
MESSAGERIE="${MESSAGERIE_BIN:-$ROOT/.build-release/release/messagerie}"
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- Sources Benchmarks 2>/dev/null || echo '+dirty')"
PIDS=()
SKIPPED=()
say() { echo "[run.sh $(date +%H:%M:%S)] $*"; }

# --- tools -----------------------------------------------------------------------------------
bash scripts/install-postgres.sh >/dev/null
PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import socketio, aiohttp, strawberry, uvicorn, asyncpg, matplotlib, starlette, uvloop" 2>/dev/null; then
    say "installing the peers' Python packages into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip >/dev/null
    "$VENV/bin/pip" install -q -r Benchmarks/peers/requirements.txt
fi
if [ "$BUILD" = 1 ]; then
    say "building messagerie and the benchmarks in release mode"
    swift build -c release --product messagerie --scratch-path "$ROOT/.build-release" 2>&1 | grep -E "error|Compiling|Build" | tail -n 3
    swift build -c release --package-path Benchmarks --scratch-path "$ROOT/.build-bench" 2>&1 | grep -E "error|Build" | tail -n 3
fi
[ -x "$MESSAGERIE" ] && [ -x "$LOADGEN" ] && [ -x "$CEILING" ] || { echo "error: release binaries missing (run without --no-build)" >&2; exit 1; }

# --- private PostgreSQL (as the server's embedded mode does: its own cluster, the postgres user when root)
PGDATA="$WORK/pg"
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --user-group --no-create-home --shell /usr/sbin/nologin postgres
    mkdir -p "$PGDATA"; chown postgres:postgres "$PGDATA"
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PGPORT="$(free_port)"
as_pg "$PGBIN/initdb" -D "$PGDATA" -U bench --auth=trust --encoding=UTF8 --locale=C.UTF-8 --no-sync >/dev/null
cat >> "$PGDATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$PGDATA'
max_connections = 400
shared_buffers = 512MB
CONF
# BENCH_PG_CONF adds settings for a profiling run (pg_stat_statements, a statement log); none by default.
[ -z "${BENCH_PG_CONF:-}" ] || printf '%s\n' "$BENCH_PG_CONF" >> "$PGDATA/postgresql.conf"
as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/log" -w start >/dev/null
DB="postgres://bench@127.0.0.1:$PGPORT"

cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 1
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast stop >/dev/null 2>&1 || true
    # Server logs stay for reading (not committed: Benchmarks/results/*/logs is ignored).
    mkdir -p "$OUT/logs" && cp "$WORK"/*.log "$PGDATA/log" "$OUT/logs/" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
"$PGBIN/psql" "$DB/postgres" -qc "CREATE DATABASE messagerie" -c "CREATE DATABASE peers" >/dev/null
say "PostgreSQL on 127.0.0.1:$PGPORT ($("$PGBIN/postgres" --version))"

wait_http() { # url seconds
    for _ in $(seq 1 $(( $2 * 10 ))); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done
    return 1
}
wait_port() { # port seconds
    for _ in $(seq 1 $(( $2 * 10 ))); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
    return 1
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
wants() { [[ ",$TARGETS," == *",$1,"* ]]; }
ONLY_ARG=(); [ -n "$ONLY" ] && ONLY_ARG=(--only "$ONLY")
loadgen() { # target port pid [extra...]
    local target="$1" port="$2" pid="$3"; shift 3
    say "load: $target"
    "$LOADGEN" run --config "$CONFIG" --target "$target" --url "http://127.0.0.1:$port" --server-pid "$pid" \
        --out "$RAW/$target.json" --commit "$COMMIT" "${ONLY_ARG[@]}" "$@" 2>&1 | tee -a "$WORK/loadgen.log" \
        || SKIPPED+=("$target: the load generator failed (see the log above)")
}

# --- Messagerie -------------------------------------------------------------------------------
# A fresh process per door, so that each idle measurement starts from an unused heap; the database,
# secrets and signed-in users are shared (the token cache makes the second sign-in free).
TERMII_PORT="$(free_port)"
JWT="$(head -c 48 /dev/urandom | base64 | tr -d '\n')"
KEYS="k1:$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
run_messagerie() { # target
    local port; port="$(free_port)"
    env DATABASE_URL="$DB/messagerie" HOST=127.0.0.1 PORT="$port" LOG_LEVEL=warning JWT_SECRET="$JWT" MESSAGE_KEYS="$KEYS" \
        OTP_PROVIDER=termii TERMII_API_KEY=bench TERMII_BASE_URL="http://127.0.0.1:$TERMII_PORT" \
        OTP_MAX_PER_IP_PER_HOUR=100000 OTP_MAX_PER_PHONE_PER_HOUR=1000 OTP_RESEND_COOLDOWN_SECONDS=0 \
        ACCESS_TOKEN_TTL_SECONDS=86400 GROUP_MAX_MEMBERS=100000 SOCKETIO_MAX_SESSIONS=100000 \
        WS_MAX_CONNECTIONS_PER_USER=16 SOCKETIO_MAX_CONNECTIONS_PER_USER=16 \
        UPLOADS_DIR="$WORK/uploads" METRICS_TOKEN=bench \
        "$MESSAGERIE" serve >> "$WORK/messagerie.log" 2>&1 &
    local pid=$!; PIDS+=("$pid")
    if wait_http "http://127.0.0.1:$port/readyz" 60; then
        say "messagerie on :$port (pid $pid)"
        loadgen "$1" "$port" "$pid" --termii-port "$TERMII_PORT" --users-cache "$WORK/users.json" \
            --psql "$PGBIN/psql" --database-url "$DB/messagerie"
        kill -0 "$pid" 2>/dev/null || SKIPPED+=("$1: the messagerie process had stopped by the end of the run (see logs/messagerie.log)")
    else
        tail -n 20 "$WORK/messagerie.log"; SKIPPED+=("$1: messagerie did not become ready")
    fi
    stop "$pid"
}
wants messagerie-graphql && run_messagerie messagerie-graphql
wants messagerie-socketio && run_messagerie messagerie-socketio

# --- peers and ceiling ------------------------------------------------------------------------
run_peer() { # target script
    local port; port="$(free_port)"
    PEER_DATABASE_URL="$DB/peers" PORT="$port" "$VENV/bin/python" "Benchmarks/peers/$2" > "$WORK/$1.log" 2>&1 &
    local pid=$!; PIDS+=("$pid")
    if wait_port "$port" 60; then
        sleep 1
        loadgen "$1" "$port" "$pid" --psql "$PGBIN/psql" --database-url "$DB/peers"
    else
        tail -n 20 "$WORK/$1.log"; SKIPPED+=("$1: the server did not start")
    fi
    stop "$pid"
}
wants peer-socketio && run_peer peer-socketio peer_socketio.py
wants peer-graphql && run_peer peer-graphql peer_graphql.py
if wants ceiling; then
    CPORT="$(free_port)"
    "$CEILING" "$CPORT" > "$WORK/ceiling.log" 2>&1 &
    CPID=$!; PIDS+=("$CPID")
    wait_port "$CPORT" 30 && loadgen ceiling "$CPORT" "$CPID" || SKIPPED+=("ceiling: the server did not start")
    stop "$CPID"
fi

# --- report -----------------------------------------------------------------------------------
NOTE="mode $MODE | servers and load generator share the machine's cores; PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') private cluster (fsync on, shared_buffers 512MB) | peers: one process each (python-socketio+aiohttp+uvloop; strawberry+uvicorn+uvloop), auth by user id, no encryption, no search index, no push outbox | Messagerie: LOG_LEVEL=warning, sign-in through requestOtp/verifyOtp with a loopback fake Termii"
SKIP_TEXT="$(IFS='|'; echo "${SKIPPED[*]:-}" | sed 's/|/ | /g')"
shopt -s nullglob
RAWS=("$RAW"/*.json)
[ ${#RAWS[@]} -gt 0 ] || { echo "error: no results were written" >&2; exit 1; }
"$LOADGEN" report --out-dir "$OUT" --commit "$COMMIT" --note "$NOTE" --skipped "$SKIP_TEXT" "${RAWS[@]}" > /dev/null
cp "$WORK/loadgen.log" "$OUT/loadgen.log" 2>/dev/null || true
"$VENV/bin/python" Benchmarks/charts.py "$OUT/results.json" "$OUT"
say "wrote $OUT/results.md, results.json and charts"
cat "$OUT/results.md"
