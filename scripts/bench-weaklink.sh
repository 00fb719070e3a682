#!/usr/bin/env bash
# The weak-link benchmark (issue 14 §2, docs/benchmarks.md "Weak links"): a call between the
# citizen's Chromium (fake camera, in a network namespace behind NAT and an impaired link) and the
# officer's Chromium in the root namespace, through the server binary, per link profile (good 4G,
# 3G, bad, 10 s outage), and the same two browsers calling each other directly for comparison.
# Prints a Markdown table (per-run JSON on stderr). Not a test: figures depend on the machine.
# Needs root, ip, iptables, tc, /usr/bin/python3, /usr/bin/chromium, Redis on 127.0.0.1:6379.
# Env: RH_BIN (server binary; default: cargo build, target/debug/remote-hearing).
# Args are passed on: --seconds N (default 30), --profiles good4g,3g,bad,outage, --direct.
# `--check` instead measures what each profile's link gives (ping RTT and loss, TCP download).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" != 0 ]; then
  echo "bench-weaklink: needs root (network namespaces)" >&2
  exit 1
fi
if [ -z "${RH_BIN:-}" ]; then
  (cd "$repo" && cargo build --quiet --bin remote-hearing)
  export RH_BIN="${CARGO_TARGET_DIR:-$repo/target}/debug/remote-hearing"
fi
cd "$repo/tests/e2e"
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
echo "machine: $(nproc) cores, $(uname -r), load $(cut -d" " -f1-3 /proc/loadavg), $(/usr/bin/chromium --version 2>/dev/null | head -1)" >&2
if [ "${1:-}" = --check ]; then exec node bench/linkcheck.mjs; fi
exec node bench/weaklink.mjs "${@:---direct}"
