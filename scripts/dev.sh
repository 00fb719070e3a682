#!/usr/bin/env bash
# Runs the server for development: starts a local Redis if none is running, uses SQLite in
# ./data, creates the demo accounts and prints their logins, then serves on
# http://127.0.0.1:8080 (override with LISTEN=…). The system of record is the local fake
# (records-fake on RECORDS_LISTEN, seeded from tests/data/records-fake.json; docs/records-api.md);
# RH_RECORDS__PROVIDER=manual runs without it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cargo build --bin remote-hearing
bin="${CARGO_TARGET_DIR:-target}/debug/remote-hearing"
echo "demo logins (officer page: /officer/, auditor page: /auditor/, citizen page: /):"
"$bin" demo --data-dir "${DATA_DIR:-data}"
RECORDS_LISTEN="${RECORDS_LISTEN:-127.0.0.1:8090}"
export RH_RECORDS__PROVIDER="${RH_RECORDS__PROVIDER:-fake}"
export RH_RECORDS__URL="${RH_RECORDS__URL:-http://$RECORDS_LISTEN}"
export RH_RECORDS__SECRET="${RH_RECORDS__SECRET:-dev-records-secret}"
if [ "$RH_RECORDS__PROVIDER" = fake ]; then
  "$bin" records-fake --data tests/data/records-fake.json --listen "$RECORDS_LISTEN" &
  fake_pid=$!
  trap 'kill "$fake_pid" 2>/dev/null || true' EXIT
fi
"$bin" serve --data-dir "${DATA_DIR:-data}" --listen "${LISTEN:-127.0.0.1:8080}"
