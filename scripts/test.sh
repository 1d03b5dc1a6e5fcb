#!/usr/bin/env bash
# Runs every test: unit, integration (in-memory and over stdio), doc tests, and interop with
# the official TypeScript SDK (installed, pinned, by scripts/setup-interop.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-interop.sh
# One build profile for everything (release code with debug assertions): see Cargo.toml.
cargo test --workspace --locked --profile ci
