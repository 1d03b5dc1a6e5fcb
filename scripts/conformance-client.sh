#!/usr/bin/env bash
# Runs the official MCP conformance suite's client scenarios against an MCP client binary:
# the stable line (0.1.16) runs the handshake-era scenarios, the preview line
# (0.2.0-alpha.12, `conformance-next`) the 2026-07-28 ones with `--spec-version 2026-07-28`
# (the suite then sets MCP_CONFORMANCE_PROTOCOL_VERSION=2026-07-28 for the client).
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
next_suite="$root/tests/interop/node_modules/conformance-next/dist/index.js"
[[ -x "$client" ]] || die "no client binary at $client"
[[ -x "$node" && -f "$suite" && -f "$next_suite" ]] || die "the conformance suite is not installed: run scripts/setup-interop.sh (expected $node, $suite and $next_suite)"
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
# "suite scenario [extra suite arguments]" per line.
runs=(
    "$suite initialize"
    "$suite tools_call"
    "$suite elicitation-sep1034-client-defaults"
    "$suite sse-retry"
    "$next_suite tools_call --spec-version 2026-07-28"
    "$next_suite request-metadata --spec-version 2026-07-28"
    "$next_suite sep-2322-client-request-state --spec-version 2026-07-28"
    "$next_suite http-standard-headers --spec-version 2026-07-28"
    "$next_suite http-custom-headers --spec-version 2026-07-28"
    "$next_suite http-invalid-tool-headers --spec-version 2026-07-28"
    "$next_suite json-schema-ref-no-deref --spec-version 2026-07-28"
)
failed=0
for run in "${runs[@]}"; do
    read -r run_suite scenario extra <<<"$run"
    label="$scenario${extra:+ ($extra)}"
    dir="$out/$scenario${extra:+-2026}"
    rm -rf "$dir"
    mkdir -p "$dir"
    echo "conformance-client: scenario $label"
    # The suite exits non-zero on any failure or warning; the checks file is judged below
    # either way, so its verdict is kept but not trusted alone.
    set +e
    # shellcheck disable=SC2086 # $extra is a list of arguments
    unshare -n sh -c 'ip link set lo up && n="$0" s="$1" c="$2" sc="$3" o="$4" && shift 4 && exec "$n" "$s" client --command "$c" --scenario "$sc" -o "$o" "$@"' \
        "$node" "$run_suite" "$client" "$scenario" "$dir" $extra </dev/null >"$dir/suite.log" 2>&1
    status=$?
    set -e
    checks="$(find "$dir" -name checks.json | head -n 1)"
    if [[ -z "$checks" ]]; then
        echo "conformance-client: $label wrote no checks.json (suite exit $status):" >&2
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
    echo "conformance-client: $label: $ok passed, $failures failed, $warnings warnings (suite exit $status)"
    if [[ "$ok" -eq 0 || "$failures" -ne 0 || "$warnings" -ne 0 || "$status" -ne 0 ]]; then
        echo "conformance-client: $label did not pass; the suite said:" >&2
        cat "$dir/suite.log" >&2
        failed=1
    fi
done
if [[ "$failed" -ne 0 ]]; then
    echo "conformance-client: FAILED (results in $out)" >&2
    exit 1
fi
if [[ "$keep" -eq 1 ]]; then
    echo "conformance-client: all ${#runs[@]} scenarios passed with no warnings (results in $out)"
else
    rm -rf "$out"
    echo "conformance-client: all ${#runs[@]} scenarios passed with no warnings"
fi
