#!/usr/bin/env bash
# Smoke test for the benchmark peers: starts each peer in each mode on 127.0.0.1,
# runs the request sequence from README.md (curl for HTTP, piped JSON lines for
# stdio), checks that the `echo` tool answers "hello", and stops the peer.
#
# Needs the peers built/installed first (see README.md). Usage:
#   bench/peers/verify.sh [BASE_PORT]      (default 18300; uses BASE_PORT..+6)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=${CARGO_TARGET_DIR:-$here/rust/target}/release
port=${1:-18300}
pid=
failures=0

INIT='{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"verify","version":"0"}}}'
INITIALIZED='{"jsonrpc":"2.0","method":"notifications/initialized"}'
CALL='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"}}}'
ACCEPT='Accept: application/json, text/event-stream'
JSON='Content-Type: application/json'

stop() { if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=; fi; }
trap stop EXIT

# start NAME CMD...: run a server in the background and wait for its port.
start() {
  "$@" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/mcp" -X OPTIONS; then return; fi
    sleep 0.1
  done
  echo "server did not start: $*" >&2
  exit 1
}

# check NAME OUTPUT: pass when OUTPUT holds the echo result "hello".
check() {
  if grep -q '"content":\[{"type":"text","text":"hello"}\]\|"content":\[{"text":"hello","type":"text"}\]' <<<"$2"; then
    echo "ok   $1"
  else
    echo "FAIL $1: $2"
    failures=$((failures + 1))
  fi
}

stateless() {
  check "$1" "$(curl -s "http://127.0.0.1:$port/mcp" -H "$JSON" -H "$ACCEPT" -d "$CALL")"
}

stateful() {
  local url="http://127.0.0.1:$port/mcp" headers sid
  headers=$(curl -s -D - -o /dev/null "$url" -H "$JSON" -H "$ACCEPT" -d "$INIT")
  sid=$(tr -d '\r' <<<"$headers" | awk 'tolower($1) == "mcp-session-id:" { print $2 }')
  [[ -n $sid ]] || { echo "FAIL $1: no Mcp-Session-Id"; failures=$((failures + 1)); return; }
  curl -s -o /dev/null "$url" -H "$JSON" -H "$ACCEPT" -H "Mcp-Session-Id: $sid" \
    -H 'MCP-Protocol-Version: 2025-06-18' -d "$INITIALIZED"
  check "$1" "$(curl -s "$url" -H "$JSON" -H "$ACCEPT" -H "Mcp-Session-Id: $sid" \
    -H 'MCP-Protocol-Version: 2025-06-18' -d "$CALL")"
  curl -s -o /dev/null -X DELETE "$url" -H "Mcp-Session-Id: $sid"
}

# stdio NAME CMD...: pipe the three lines, keep stdin open until the reply came.
stdio() {
  local name=$1
  shift
  check "$name" "$( (printf '%s\n' "$INIT" "$INITIALIZED" "$CALL"; sleep 3) | timeout 10 "$@" 2>/dev/null || true)"
}

start "$bin/hyper-echo" --listen "127.0.0.1:$port"; stateless hyper-echo; stop; port=$((port + 1))
start "$bin/rmcp-echo" --listen "127.0.0.1:$port" --mode stateful; stateful "rmcp stateful"; stop; port=$((port + 1))
start "$bin/rmcp-echo" --listen "127.0.0.1:$port" --mode stateless; stateless "rmcp stateless"; stop; port=$((port + 1))
start node "$here/ts/server.mjs" --port "$port" --mode stateful; stateful "ts stateful"; stop; port=$((port + 1))
start node "$here/ts/server.mjs" --port "$port" --mode stateless; stateless "ts stateless"; stop; port=$((port + 1))
start "$here/python/.venv/bin/python" "$here/python/server.py" --port "$port" --mode stateful; stateful "python stateful"; stop; port=$((port + 1))
start "$here/python/.venv/bin/python" "$here/python/server.py" --port "$port" --mode stateless; stateless "python stateless"; stop
stdio "rmcp stdio" "$bin/rmcp-echo" --stdio
stdio "ts stdio" node "$here/ts/server.mjs" --stdio
stdio "python stdio" "$here/python/.venv/bin/python" "$here/python/server.py" --stdio

echo "$((10 - failures)) passed, $failures failed"
[[ $failures -eq 0 ]]
