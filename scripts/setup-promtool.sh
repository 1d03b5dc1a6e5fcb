#!/usr/bin/env bash
# Makes `promtool` available for the operator's kit tests (crates/oxmcp/tests/deploy_kit.rs
# checks and unit-tests deploy/prometheus/alerts.yml with it).
#
# - Already on PATH: nothing is installed.
# - Otherwise, as root with apt-get (Debian, Ubuntu, CI): installs the distribution's
#   `prometheus` package, which ships promtool, non-interactively and without recommends.
#   The package's postinst would start a Prometheus server; a policy-rc.d that forbids
#   service starts is put in place for the install (and removed after, if it was ours),
#   so nothing starts and nothing hangs in a container or on a developer's machine.
# - Otherwise: fails, saying what to install.
#
# Never reads stdin. Prints the promtool version last.
set -euo pipefail

die() {
    echo "setup-promtool: error: $*" >&2
    exit 1
}

if ! command -v promtool >/dev/null 2>&1; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "setup-promtool: installing promtool (Debian package prometheus)"
        policy=/usr/sbin/policy-rc.d
        if [[ ! -e "$policy" ]]; then
            # 101: "action forbidden by policy" — invoke-rc.d and deb-systemd-invoke skip the
            # start. Removed again on exit, whatever happens.
            printf '#!/bin/sh\nexit 101\n' >"$policy"
            chmod 0755 "$policy"
            trap 'rm -f "$policy"' EXIT
        fi
        apt-get update -qq </dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
            prometheus </dev/null
        command -v promtool >/dev/null 2>&1 || die "the prometheus package installed no promtool on PATH"
    else
        die "promtool not found on PATH. Install it: on Debian or Ubuntu, as root, run this script" \
            "again (or: apt-get install --no-install-recommends prometheus); elsewhere, put the" \
            "promtool of a Prometheus release (https://prometheus.io/download/) on PATH."
    fi
fi

promtool --version 2>&1 | head -n 1
