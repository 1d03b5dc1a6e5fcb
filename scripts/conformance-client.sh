#!/usr/bin/env bash
# Runs the official MCP conformance suite's client scenarios against an MCP client binary.
#
#   scripts/conformance-client.sh <client binary> [node binary]
#
# Builds nothing: pass the binary (e.g. target/ci/oxmcp-conformance-client). Node defaults
# to the pinned Node 22 of the interop harness (scripts/setup-interop.sh installs it).
# The suite's scenario servers listen on every interface, so each scenario runs inside a
# network namespace that has only loopback (`unshare -n`, which needs root or
# CAP_SYS_ADMIN). Results go to OXMCP_CONFORMANCE_OUT if set, else to a temporary
# directory that is removed when every scenario passed and kept otherwise. The script fails unless every scenario's checks.json has at least one SUCCESS and no
# FAILURE or WARNING.
set -euo pipefail

die() {
    echo "conformance-client: error: $*" >&2
    exit 1
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ $# -ge 1 && $# -le 2 ]] || die "usage: $0 <client binary> [node binary]"
client="$(realpath "$1")"
node="${2:-$root/tests/interop/node_modules/.bin/node}"
suite="$root/tests/interop/node_modules/@modelcontextprotocol/conformance/dist/index.js"
[[ -x "$client" ]] || die "no client binary at $client"
[[ -x "$node" && -f "$suite" ]] || die "the conformance suite is not installed: run scripts/setup-interop.sh (expected $node and $suite)"
command -v unshare >/dev/null && command -v ip >/dev/null || die "needs unshare (util-linux) and ip (iproute2)"
unshare -n true 2>/dev/null || die "cannot create a network namespace (unshare -n needs root or CAP_SYS_ADMIN)"

if [[ -n "${OXMCP_CONFORMANCE_OUT:-}" ]]; then
    out="$OXMCP_CONFORMANCE_OUT"
    keep=1
else
    out="$(mktemp -d)"
    keep=0
fi
mkdir -p "$out"
scenarios=(initialize tools_call elicitation-sep1034-client-defaults sse-retry)
failed=0
for scenario in "${scenarios[@]}"; do
    dir="$out/$scenario"
    rm -rf "$dir"
    mkdir -p "$dir"
    echo "conformance-client: scenario $scenario"
    # The suite exits non-zero on any failure or warning; the checks file is judged below
    # either way, so its verdict is kept but not trusted alone.
    set +e
    unshare -n sh -c 'ip link set lo up && exec "$0" "$1" client --command "$2" --scenario "$3" -o "$4"' \
        "$node" "$suite" "$client" "$scenario" "$dir" </dev/null >"$dir/suite.log" 2>&1
    status=$?
    set -e
    checks="$(find "$dir" -name checks.json | head -n 1)"
    if [[ -z "$checks" ]]; then
        echo "conformance-client: $scenario wrote no checks.json (suite exit $status):" >&2
        cat "$dir/suite.log" >&2
        failed=1
        continue
    fi
    summary="$("$node" -e '
        const checks = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        const n = (s) => checks.filter((c) => c.status === s).length;
        const bad = checks.filter((c) => c.status === "FAILURE" || c.status === "WARNING");
        for (const c of bad) console.error(`  ${c.status} ${c.id}: ${c.errorMessage ?? ""}`);
        console.log(`${n("SUCCESS")} ${n("FAILURE")} ${n("WARNING")}`);
    ' "$checks")"
    read -r ok failures warnings <<<"$summary"
    echo "conformance-client: $scenario: $ok passed, $failures failed, $warnings warnings (suite exit $status)"
    if [[ "$ok" -eq 0 || "$failures" -ne 0 || "$warnings" -ne 0 || "$status" -ne 0 ]]; then
        echo "conformance-client: $scenario did not pass; the suite said:" >&2
        cat "$dir/suite.log" >&2
        failed=1
    fi
done
if [[ "$failed" -ne 0 ]]; then
    echo "conformance-client: FAILED (results in $out)" >&2
    exit 1
fi
if [[ "$keep" -eq 1 ]]; then
    echo "conformance-client: all ${#scenarios[@]} scenarios passed with no warnings (results in $out)"
else
    rm -rf "$out"
    echo "conformance-client: all ${#scenarios[@]} scenarios passed with no warnings"
fi
