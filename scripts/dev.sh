#!/usr/bin/env bash
# Runs the server for development: starts a local Redis if none is running, uses SQLite in
# ./data, creates the demo accounts and prints their logins, then serves on
# http://127.0.0.1:8080 (override with LISTEN=…). The system of record is the local fake
# (records-fake on RECORDS_LISTEN, seeded from tests/data/records-fake.json; docs/records-api.md);
# RH_RECORDS__PROVIDER=manual runs without it.
# TURN: with TURN=1 (or RH_CALL__TURN_SECRET set) a local coturn (`turnserver`, Debian package
# `coturn`) listens on ${TURN_LISTEN:-127.0.0.1}:3478 (UDP and TCP) with that REST secret
# (use-auth-secret), and the server hands out turn: URLs with credentials it mints per join.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh $( [ "${TURN:-0}" = 1 ] || [ -n "${RH_CALL__TURN_SECRET:-}" ] && echo turn)
cargo build --bin remote-hearing
bin="${CARGO_TARGET_DIR:-target}/debug/remote-hearing"
echo "demo logins (officer page: /officer/, auditor page: /auditor/, citizen page: /):"
"$bin" demo --data-dir "${DATA_DIR:-data}"
RECORDS_LISTEN="${RECORDS_LISTEN:-127.0.0.1:8090}"
export RH_RECORDS__PROVIDER="${RH_RECORDS__PROVIDER:-fake}"
export RH_RECORDS__URL="${RH_RECORDS__URL:-http://$RECORDS_LISTEN}"
export RH_RECORDS__SECRET="${RH_RECORDS__SECRET:-dev-records-secret}"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
if [ "$RH_RECORDS__PROVIDER" = fake ]; then
  "$bin" records-fake --data tests/data/records-fake.json --listen "$RECORDS_LISTEN" &
  pids+=($!)
fi
if [ "${TURN:-0}" = 1 ] || [ -n "${RH_CALL__TURN_SECRET:-}" ]; then
  command -v turnserver >/dev/null || { echo "TURN needs coturn: apt-get install coturn" >&2; exit 1; }
  export RH_CALL__TURN_SECRET="${RH_CALL__TURN_SECRET:-dev-turn-secret}"
  turn_ip="${TURN_LISTEN:-127.0.0.1}"
  export RH_CALL__TURN_URLS="${RH_CALL__TURN_URLS:-[\"turn:$turn_ip:3478?transport=udp\", \"turn:$turn_ip:3478?transport=tcp\"]}"
  mkdir -p "${DATA_DIR:-data}"
  # Loopback peers are allowed only because server and browser share this machine.
  turnserver -n --listening-ip="$turn_ip" --relay-ip="$turn_ip" --listening-port=3478 \
    --use-auth-secret --static-auth-secret="$RH_CALL__TURN_SECRET" --realm=remote-hearing.dev \
    --fingerprint --no-tls --no-dtls --no-cli --allow-loopback-peers --min-port=49160 --max-port=49200 \
    --pidfile="${DATA_DIR:-data}/turnserver.pid" --log-file="${DATA_DIR:-data}/turnserver.log" --simple-log &
  pids+=($!)
  echo "TURN: coturn on $turn_ip:3478 (UDP and TCP), log ${DATA_DIR:-data}/turnserver.log"
fi
"$bin" serve --data-dir "${DATA_DIR:-data}" --listen "${LISTEN:-127.0.0.1:8080}"
