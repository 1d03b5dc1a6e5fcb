#!/usr/bin/env bash
# Installs the interop harness (tests/interop): the official MCP TypeScript SDK (1.x and 2.x), the MCP
# conformance suite and a prebuilt Node 22, all pinned by tests/interop/package-lock.json.
#
# - Idempotent: skips `npm ci` when node_modules was installed from the current lockfile
#   (set OXMCP_INTEROP_FORCE=1 to reinstall anyway).
# - CI-safe: never reads stdin, installs nothing globally, runs no install scripts.
# - Needs only a working `npm` (any Node >= 18 to run npm itself); the Node 22 that runs the
#   harness comes from the npm packages node-<os>-<arch>@22.x (the prebuilt binaries that the
#   `node` npm package would fetch), locked with their integrity hashes.
#
# Prints the Node 22 binary path on the last line of stdout as `OXMCP_INTEROP_NODE=<path>`.
set -euo pipefail

die() {
    echo "setup-interop: error: $*" >&2
    exit 1
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/tests/interop"
required_major=22

[[ -f "$dir/package.json" ]] || die "missing $dir/package.json"
[[ -f "$dir/package-lock.json" ]] || die "missing $dir/package-lock.json (it is committed; restore it with git)"
command -v npm >/dev/null 2>&1 || die "npm not found on PATH (install Node.js >= 18 with npm; the harness brings its own Node $required_major)"

# The stamp ties node_modules to the exact manifest and lockfile it was installed from.
hash_inputs() {
    if command -v sha256sum >/dev/null 2>&1; then
        cat "$dir/package.json" "$dir/package-lock.json" | sha256sum | cut -d' ' -f1
    else
        cat "$dir/package.json" "$dir/package-lock.json" | shasum -a 256 | cut -d' ' -f1
    fi
}
stamp="$dir/node_modules/.oxmcp-interop-stamp"
want="$(hash_inputs)"

node_bin="$dir/node_modules/.bin/node"
if [[ "${OXMCP_INTEROP_FORCE:-0}" != "1" && -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$node_bin" ]]; then
    echo "setup-interop: node_modules is current with package-lock.json (OXMCP_INTEROP_FORCE=1 to reinstall)"
else
    echo "setup-interop: npm ci in $dir (npm $(npm --version 2>/dev/null || echo '?'))"
    rm -f "$stamp"
    # --ignore-scripts: no package in the lock needs one, and none may fetch anything
    # outside the lockfile. </dev/null: never wait for a prompt.
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error </dev/null) ||
        die "npm ci failed in $dir"
fi

if [[ ! -x "$node_bin" ]]; then
    die "no Node $required_major binary at $node_bin after npm ci.
  The lock carries prebuilt Node for linux-x64, linux-arm64 and darwin-x64 only
  (platform: $(uname -s)-$(uname -m)); on another platform install Node $required_major yourself."
fi
node_version="$("$node_bin" --version 2>&1)" || die "$node_bin does not run: $node_version"
[[ "$node_version" =~ ^v${required_major}\. ]] ||
    die "$node_bin is $node_version, expected v$required_major.x (stale node_modules? rerun with OXMCP_INTEROP_FORCE=1)"

# The harness's own imports must resolve with that binary.
for spec in @modelcontextprotocol/sdk/client/index.js @modelcontextprotocol/client @modelcontextprotocol/server zod @modelcontextprotocol/conformance/package.json; do
    (cd "$dir" && "$node_bin" --input-type=module -e "import.meta.resolve('$spec')" >/dev/null 2>&1) ||
        die "cannot resolve $spec from $dir with $node_bin"
done
for harness in stdio-client.mjs http.mjs http-server.mjs client2.mjs http-server2.mjs; do
    "$node_bin" --check "$dir/$harness" || die "$dir/$harness does not parse"
done

sdk_version="$("$node_bin" -p "require('$dir/node_modules/@modelcontextprotocol/sdk/package.json').version")" ||
    die "cannot read the SDK version"
# The conformance CLI dies at import on Node < 22; run it once to prove the pair works.
conf_version="$("$node_bin" "$dir/node_modules/@modelcontextprotocol/conformance/dist/index.js" --version 2>&1)" ||
    die "the conformance CLI does not start with $node_bin: $conf_version"
# The preview line (2026-07-28 scenarios), installed under the alias `conformance-next`.
next_version="$("$node_bin" "$dir/node_modules/conformance-next/dist/index.js" --version 2>&1)" ||
    die "the conformance CLI 0.2 (conformance-next) does not start with $node_bin: $next_version"

echo "$want" >"$stamp"
echo "setup-interop: node $node_version, @modelcontextprotocol/sdk $sdk_version, @modelcontextprotocol/conformance $conf_version and $next_version"
echo "setup-interop: run a scenario with: $node_bin $dir/stdio-client.mjs <demo|fixture|fixture-json|fixture-stateless|fixture-stateless-json> [--http] -- <server command...>"
echo "OXMCP_INTEROP_NODE=$node_bin"
