#!/usr/bin/env bash
# Runs the server for development: starts a local Redis if none is running, uses SQLite in
# ./data, creates the demo accounts and prints their logins, then serves on
# http://127.0.0.1:8080 (override with LISTEN=…).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cargo build --bin remote-hearing
bin="${CARGO_TARGET_DIR:-target}/debug/remote-hearing"
echo "demo logins (officer page: /officer/, auditor page: /auditor/, citizen page: /):"
"$bin" demo --data-dir "${DATA_DIR:-data}"
exec "$bin" serve --data-dir "${DATA_DIR:-data}" --listen "${LISTEN:-127.0.0.1:8080}"
