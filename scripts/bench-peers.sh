#!/usr/bin/env bash
# The full comparison of issue 7: builds oxmcp and the peers of bench/peers (rmcp, the
# TypeScript and Python SDKs, a bare hyper floor), each pinned, then measures every server
# with `oxmcp bench` (server on one core, load generator on the other), and writes the
# tables into docs/BENCHMARKS.md (between its bench-peers markers) and the raw JSON into
# target/bench-peers/.
#
#   scripts/bench-peers.sh            # everything (about 15 minutes on 2 cores)
#   QUICK=1 scripts/bench-peers.sh    # 1 s warm-up, 2 s runs: a smoke run, not figures
#
# Needs: cargo, npm (scripts/setup-interop.sh brings the pinned Node 22), python3 (3.10+)
# with venv, taskset, and at least 2 cores. Nothing else may run meanwhile: busy cores
# read as a slower server.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/target/bench-peers
mkdir -p "$out"
rm -f "$out"/*.json "$out/failed.txt"

die() {
    echo "bench-peers: $*" >&2
    exit 1
}
command -v taskset >/dev/null || die "taskset (util-linux) is needed to pin server and load generator"
[[ $(nproc) -ge 2 ]] || die "needs 2 cores: one for the server, one for the load generator"
python=$(command -v python3.11 || command -v python3) || die "python3 is needed for the Python SDK peer"

SERVER_CORE=${SERVER_CORE:-0}
LOAD_CORE=${LOAD_CORE:-1}
# REPEAT: runs of each 64-connection and stdio point; the one with the median server CPU
# per request is kept (on a shared VM one 5 s window can be off by a third).
if [[ -n ${QUICK:-} ]]; then
    WARMUP=1s DURATION=2s IDLE=1000 REPEAT=1
else
    WARMUP=2s DURATION=5s IDLE=10000 REPEAT=${REPEAT:-3}
fi
PORT=18480
VERSION=2025-11-25

echo "bench-peers: building oxmcp (release)"
cargo build --release --locked --bin oxmcp
oxmcp=$root/target/release/oxmcp

echo "bench-peers: building the Rust peers (bench/peers/rust, own Cargo.lock)"
(cd bench/peers/rust && CARGO_TARGET_DIR="$root/bench/peers/rust/target" cargo build --release --locked)
peers=$root/bench/peers/rust/target/release

echo "bench-peers: Node 22 and the TypeScript SDK peer"
node=$(scripts/setup-interop.sh | sed -n 's/^OXMCP_INTEROP_NODE=//p')
[[ -x $node ]] || die "scripts/setup-interop.sh gave no Node binary"
(cd bench/peers/ts && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error </dev/null)

echo "bench-peers: the Python SDK peer (venv)"
venv=$root/bench/peers/python/.venv
[[ -x $venv/bin/python ]] || "$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r bench/peers/python/requirements.txt </dev/null

pid=
stop() {
    if [[ -n $pid ]]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        pid=
    fi
}
trap stop EXIT

# start CMD...: a server on the server core, waited for until its port accepts.
start() {
    taskset -c "$SERVER_CORE" "$@" >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 300); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then return; fi
        kill -0 "$pid" 2>/dev/null || die "server exited at start: $*"
        sleep 0.1
    done
    die "server did not listen on $PORT: $*"
}

# failed RESULT: a measurement that failed is reported as missing, not as a figure; the
# run goes on with the next one.
failed() {
    echo "bench-peers: $1 FAILED (see above); it is left out of the tables" >&2
    rm -f "$out/$1.json"
    echo "$1" >>"$out/failed.txt"
}

bench() {
    taskset -c "$LOAD_CORE" "$oxmcp" bench --warmup "$WARMUP" --duration "$DURATION" --json "$@"
}

# median RESULT CMD...: runs CMD (which writes one JSON result to stdout) REPEAT times and
# keeps, as RESULT.json, the run with the median server CPU per request.
median() {
    local result=$1
    shift
    local runs=()
    for r in $(seq "$REPEAT"); do
        "$@" >"$out/$result.run$r.json" || return 1
        runs+=("$out/$result.run$r.json")
    done
    "$python" - "$out/$result.json" "${runs[@]}" <<'PY'
import json, shutil, sys
dest, runs = sys.argv[1], sys.argv[2:]
cpu = lambda f: json.load(open(f)).get("server_cpu_us_per_request") or 0.0
shutil.copy(sorted(runs, key=cpu)[len(runs) // 2], dest)
PY
    rm -f "${runs[@]}"
}

# load NAME ARGS...: the server just started, at 1, 16 and 64 connections.
load() {
    local name=$1
    shift
    for c in 1 16; do
        echo "bench-peers: $name, $c connections"
        bench --url "http://127.0.0.1:$PORT/mcp" --connections "$c" --server-pid "$pid" "$@" >"$out/$name.c$c.json" ||
            failed "$name.c$c"
    done
    echo "bench-peers: $name, 64 connections (median of $REPEAT)"
    median "$name.c64" bench --url "http://127.0.0.1:$PORT/mcp" --connections 64 --server-pid "$pid" "$@" ||
        failed "$name.c64"
}

idle() {
    echo "bench-peers: $1, $IDLE idle sessions"
    bench --url "http://127.0.0.1:$PORT/mcp" --protocol "$VERSION" --idle-sessions "$IDLE" --server-pid "$pid" >"$out/$1.idle.json" ||
        failed "$1.idle"
}

# http NAME KIND CMD...: KIND is modern, stateful or stateless.
http() {
    local name=$1 kind=$2
    shift 2
    start "$@"
    case $kind in
    modern) load "$name" ;;
    stateful)
        load "$name" --protocol "$VERSION" --sessions per-connection
        idle "$name"
        ;;
    stateless) load "$name" --protocol "$VERSION" --sessions none ;;
    esac
    stop
}

listen=127.0.0.1:$PORT
http hyper stateless "$peers/hyper-echo" --listen "$listen"
http oxmcp-modern modern "$oxmcp" serve --listen "$listen"
http oxmcp-stateful stateful env OXMCP_HTTP_MAX_SESSIONS=20000 "$oxmcp" serve --listen "$listen"
http oxmcp-stateless stateless "$oxmcp" serve --listen "$listen" --stateless --json-response
http rmcp-stateful stateful "$peers/rmcp-echo" --listen "$listen" --mode stateful
http rmcp-stateless stateless "$peers/rmcp-echo" --listen "$listen" --mode stateless
http ts-stateful stateful "$node" bench/peers/ts/server.mjs --port "$PORT" --mode stateful
http ts-stateless stateless "$node" bench/peers/ts/server.mjs --port "$PORT" --mode stateless
http py-stateful stateful "$venv/bin/python" bench/peers/python/server.py --port "$PORT" --mode stateful
http py-stateless stateless "$venv/bin/python" bench/peers/python/server.py --port "$PORT" --mode stateless

echo "bench-peers: oxmcp, open loop at 40,000 req/s"
start "$oxmcp" serve --listen "$listen"
bench --url "http://127.0.0.1:$PORT/mcp" --connections 64 --rate 40000 --server-pid "$pid" >"$out/oxmcp-modern.open40k.json"
stop
start "$oxmcp" serve --listen "$listen" --stateless --json-response
bench --url "http://127.0.0.1:$PORT/mcp" --connections 64 --rate 40000 --protocol "$VERSION" --sessions none --server-pid "$pid" >"$out/oxmcp-stateless.open40k.json"
stop

# stdio, pipelined: 16 requests in flight on the child's pipes; the child is pinned too.
stdio() {
    local name=$1
    shift
    echo "bench-peers: $name over stdio"
    median "$name.stdio" bench --stdio "taskset -c $SERVER_CORE $*" --protocol "$VERSION" --connections 16 ||
        failed "$name.stdio"
}
stdio oxmcp "$oxmcp" serve --stdio
stdio rmcp "$peers/rmcp-echo" --stdio
stdio ts "$node" bench/peers/ts/server.mjs --stdio
stdio py "$venv/bin/python" bench/peers/python/server.py --stdio

echo "bench-peers: oxmcp cold start"
taskset -c "$LOAD_CORE" "$oxmcp" bench --url "http://127.0.0.1:$PORT/mcp" --json \
    --cold-start "taskset -c $SERVER_CORE $oxmcp serve --listen $listen" >"$out/oxmcp.cold.json"

# The machine and the versions, for the report.
{
    echo "date=$(date -u +%Y-%m-%d)"
    echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
    echo "cores=$(nproc)"
    echo "memory=$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
    echo "kernel=$(uname -r)"
    echo "rustc=$(rustc --version)"
    echo "node=$("$node" --version)"
    echo "python=$("$venv/bin/python" --version 2>&1)"
    echo "oxmcp=$(git rev-parse --short HEAD)"
    echo "quick=${QUICK:-}"
    echo "idle=$IDLE"
    echo "warmup=$WARMUP"
    echo "duration=$DURATION"
} >"$out/machine.txt"

"$python" scripts/bench-report.py "$out" docs/BENCHMARKS.md
echo "bench-peers: docs/BENCHMARKS.md updated from $out"
