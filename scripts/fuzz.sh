#!/usr/bin/env bash
# Runs the cargo-fuzz targets in fuzz/ one after another, each for SECONDS, with one job;
# keeps the new corpus entries (merged into fuzz/corpus/<target> with -merge=1
# -use_counters=0, so only inputs that reach new code are kept) and appends one line per
# run to fuzz/runs.log.
#
#   scripts/fuzz.sh SECONDS [TARGET...]     # default: every target
#   scripts/fuzz.sh 660                     # the 11-minute run of every target
#   scripts/fuzz.sh 60 era                  # one target, one minute
#
# Needs the nightly toolchain (cargo +nightly); installs cargo-fuzz (pinned) if missing.
# A crash leaves its input in fuzz/artifacts/<target>/ and the script goes on with the
# next target; it exits non-zero if any run crashed or failed.
set -euo pipefail

CARGO_FUZZ_VERSION=0.13.2
TARGETS_ALL=(line_framer jsonrpc era http_front)
# No sanitizer: the code under test is safe Rust (oxmcp-proto forbids unsafe), and the
# executions per second count for more. Debug assertions and overflow checks stay on.
BUILD_FLAGS=(--sanitizer none --debug-assertions)

usage() {
    echo "usage: $0 SECONDS [TARGET...]   (targets: ${TARGETS_ALL[*]})" >&2
    exit 2
}

[[ $# -ge 1 && $1 =~ ^[0-9]+$ && $1 -gt 0 ]] || usage
seconds=$1
shift
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${TARGETS_ALL[@]}")
for t in "${targets[@]}"; do
    [[ " ${TARGETS_ALL[*]} " == *" $t "* ]] || { echo "unknown target: $t" >&2; usage; }
done

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if ! cargo +nightly fuzz --version 2>/dev/null | grep -q " $CARGO_FUZZ_VERSION\$"; then
    echo "installing cargo-fuzz $CARGO_FUZZ_VERSION" >&2
    cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
fi

log=fuzz/runs.log
if [[ ! -f $log ]]; then
    {
        echo "# One line per run of scripts/fuzz.sh: date (UTC), commit (+dirty: uncommitted changes),"
        echo "# target, seconds run, executions (libFuzzer's stat::number_of_executed_units),"
        echo "# corpus files before -> after the merge, outcome."
    } > "$log"
fi
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain --untracked-files=no 2>/dev/null) ]]; then
    commit="$commit+dirty"
fi

echo "building ${targets[*]}" >&2
for t in "${targets[@]}"; do
    cargo +nightly fuzz build "${BUILD_FLAGS[@]}" "$t"
done

status=0
for t in "${targets[@]}"; do
    corpus=fuzz/corpus/$t
    artifacts=fuzz/artifacts/$t
    mkdir -p "$corpus" "$artifacts"
    work=$(mktemp -d)
    mkdir "$work/new"
    before=$(find "$corpus" -type f | wc -l)
    args=(-max_total_time="$seconds" -print_final_stats=1 -timeout=60 -rss_limit_mb=4096
        -artifact_prefix="$artifacts/")
    [[ -f fuzz/dicts/$t.dict ]] && args+=(-dict="fuzz/dicts/$t.dict")
    echo "fuzzing $t for ${seconds}s" >&2
    start=$(date +%s)
    set +e
    # New entries go to $work/new (the first folder); the committed corpus is only read.
    cargo +nightly fuzz run "${BUILD_FLAGS[@]}" "$t" "$work/new" "$corpus" -- "${args[@]}" \
        > "$work/out" 2>&1
    rc=$?
    set -e
    ran=$(( $(date +%s) - start ))
    tail -n 40 "$work/out" >&2
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/out" | tail -n1 | grep -o '[0-9]*$' || true)
    crash=$(grep -o 'Test unit written to [^ ]*' "$work/out" | tail -n1 | sed 's/Test unit written to //' || true)
    if [[ -n $crash ]]; then
        outcome="crash $crash"
        status=1
    elif [[ $rc -ne 0 ]]; then
        outcome="failed (exit $rc, see the output above)"
        status=1
    else
        outcome="no crash"
    fi
    # Keep what this run found that reaches code the corpus does not (edges only, not hit
    # counts: the committed corpus stays small); the corpus itself is never minimised away.
    if [[ -n $(ls -A "$work/new") ]]; then
        cargo +nightly fuzz run "${BUILD_FLAGS[@]}" "$t" "$corpus" "$work/new" -- -merge=1 -use_counters=0 \
            > "$work/merge" 2>&1 || { tail -n 20 "$work/merge" >&2; outcome="$outcome; merge failed"; status=1; }
    fi
    after=$(find "$corpus" -type f | wc -l)
    line="$(date -u +%Y-%m-%dT%H:%M:%SZ) commit=$commit target=$t seconds=$ran execs=${execs:-?} corpus=$before->$after outcome=$outcome"
    echo "$line" >> "$log"
    echo "$line" >&2
    rm -rf "$work"
done
exit $status
