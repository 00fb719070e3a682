#!/usr/bin/env bash
# Runs every test: unit, integration (real Redis; SQLite, or PostgreSQL when
# TEST_DATABASE_URL=postgres://… is set) and, unless E2E=0, the mini program's tests and the
# browser end-to-end tests in Debian's Chromium. Installs and starts Redis (and Chromium) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
extras=()
[ "${E2E:-1}" = 1 ] && extras+=(chromium)
[ -n "${TEST_DATABASE_URL:-}" ] && extras+=(postgres)
# the network-namespace tests (tests/integration/netns/) need root, coturn, ip and iptables
[ "$(id -u)" = 0 ] && extras+=(netns)
bash scripts/deps.sh "${extras[@]}"
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"

echo "== cargo test (database: ${TEST_DATABASE_URL:-sqlite})"
cargo build --workspace --all-targets --quiet
cargo test --workspace --no-fail-fast

# The WeChat mini program (miniprogram/): TypeScript check, WXML/WXSS compile and its page tests
# (miniprogram-simulate, wx mocked), offline after npm ci; with the browser tests, which bring node.
if [ "${E2E:-1}" = 1 ] && [ -f miniprogram/package.json ]; then
  echo "== mini program tests"
  (cd miniprogram && npm ci --no-audit --no-fund --loglevel=error && npm test)
fi

if [ "${E2E:-1}" = 1 ] && [ -f tests/e2e/run.sh ]; then
  echo "== browser end-to-end tests"
  bash tests/e2e/run.sh
fi
