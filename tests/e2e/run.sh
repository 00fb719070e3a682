#!/usr/bin/env bash
# End-to-end tests of the pages (called by CI): npm ci here, then node's test runner over the unit
# tests of the in-browser audit verifier (unit/) and the browser flow against the real server
# binary (e2e/). Needs Debian's Chromium at /usr/bin/chromium (apt-get install -y chromium; never a
# downloaded browser) and redis-server on PATH unless REDIS_URL is set.
# Env: RH_BIN (use this server binary instead of building one), CARGO_TARGET_DIR, REDIS_URL,
# CHROMIUM, E2E_LOG=1 (print the server log), E2E_KEEP=1 (keep the data dir).
# Screenshots of every page go to artifacts/screenshots/ at the repository root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "e2e: ${CHROMIUM:-/usr/bin/chromium} is missing (apt-get install -y chromium)" >&2
  exit 1
fi
if [ -z "${RH_BIN:-}" ]; then
  (cd "$repo" && cargo build --quiet --bin remote-hearing)
  target=${CARGO_TARGET_DIR:-$repo/target}
  case "$target" in /*) ;; *) target="$repo/$target" ;; esac
  export RH_BIN="$target/debug/remote-hearing"
fi

cd "$here"
npm ci --no-audit --no-fund --loglevel=error
exec node --test --test-concurrency=1 "$@" unit/ e2e/
