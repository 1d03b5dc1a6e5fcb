#!/usr/bin/env bash
# Runs every test: unit, integration (in-memory and over stdio), doc tests, the benches once,
# the instruction-count budget, and interop with
# the official TypeScript SDK (installed, pinned, by scripts/setup-interop.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-interop.sh
# The instruction-count budget (crates/oxmcp/tests/instructions.rs) counts with valgrind.
if ! command -v valgrind >/dev/null 2>&1; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "test: installing valgrind (Debian package) for the instruction-count budget"
        apt-get update -qq </dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind </dev/null
    else
        echo "test: valgrind is needed for the instruction-count budget; install it (e.g. apt-get install valgrind)" >&2
        exit 1
    fi
fi
scripts/setup-promtool.sh # promtool checks deploy/prometheus (tests/deploy_kit.rs)
# One build profile for everything (release code with debug assertions): see Cargo.toml.
# --all-targets also builds the criterion benches and runs each once (criterion's test
# mode); it leaves out the doc tests, which run after.
cargo test --workspace --locked --profile ci --all-targets
cargo test --workspace --locked --profile ci --doc
