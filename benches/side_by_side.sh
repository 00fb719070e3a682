#!/usr/bin/env bash
# Issue 18, side by side: every headline figure beside its peer measured in the same run, as a
# ratio, in one table (docs/benchmarks.md "Side by side").
#   §2  booking at a given load (benches/booking_open.rs): open-loop offered rates on SQLite and
#       PostgreSQL beside the raw booking write transaction, and the morning release;
#   §4  auditors at scale (benches/audit_scale.rs): search, paging, summary and bundle on a log
#       of HEARINGS hearings × 10 entries, `audit verify-log` beside raw SHA-256.
#   §1  media relay beside Janus (benches/media_load, TARGET=ours,janus): N 1:1 recorded
#       hearings against our server, then against Janus's videocall plugin (when `janus` is
#       installed: bash scripts/deps.sh janus; else the row says "janus not installed");
#   §3 (benches/durable.rs) is not run here.
#
#   bash benches/side_by_side.sh            # the issue's sizes (≈ 15 min of a quiet 2-core VM)
#   QUICK=1 bash benches/side_by_side.sh    # small sizes, a minute or two: the script works
#
# Sizes: RATES (250,500,1000,2000), SECONDS_EACH (20), RAW (5000), RELEASE (10000),
# RELEASE_SECONDS (2), HEARINGS (100000), REQUESTS (100), AUDIT_DIR (reuse a filled database),
# MEDIA_HEARINGS (10,25,50,100), MEDIA_SECONDS (20); MEDIA=0 skips §1.
# PostgreSQL: PG_ADMIN_URL (postgres://postgres:postgres@127.0.0.1/postgres); a fresh database is
# created for the run and dropped after; PG=0 skips it. Needs Redis (REDIS_URL).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${QUICK:-0}" = 1 ]; then
  : "${RATES:=250,500}" "${SECONDS_EACH:=5}" "${RAW:=1000}" "${RELEASE:=2000}"
  : "${HEARINGS:=5000}" "${REQUESTS:=20}" "${MEDIA_HEARINGS:=2}" "${MEDIA_SECONDS:=5}"
fi
MEDIA_HEARINGS=${MEDIA_HEARINGS:-10,25,50,100}
MEDIA_SECONDS=${MEDIA_SECONDS:-20}
RATES=${RATES:-250,500,1000,2000}
SECONDS_EACH=${SECONDS_EACH:-20}
RAW=${RAW:-5000}
RELEASE=${RELEASE:-10000}
RELEASE_SECONDS=${RELEASE_SECONDS:-2}
HEARINGS=${HEARINGS:-100000}
REQUESTS=${REQUESTS:-100}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres:postgres@127.0.0.1/postgres}
ulimit -n 65536 2>/dev/null || true
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}

out=$(mktemp -d)
echo "logs in $out"
cargo bench --bench booking_open --bench audit_scale --bench media_load --no-run 2>&1 | tail -2

status=0
# Before each row: the page cache written back (the media rows leave hundreds of MB of
# recordings, the audit rows a GB database), so that a row's fsyncs do not wait behind the
# previous row's writeback (at most a minute).
settle() {
  sync
  for _ in $(seq 60); do
    dirty=$(awk '/^(Dirty|Writeback):/ {s += $2} END {print s}' /proc/meminfo)
    [ "${dirty:-0}" -lt 16384 ] && return
    sleep 1
  done
}
run() {
  local name=$1
  shift
  settle
  echo "== $name: $*"
  cargo bench --bench "$@" 2>&1 | grep -v '^\s*\(Finished\|Running\)' | tee "$out/$name.log" || status=1
}

if [ "${MEDIA:-1}" = 1 ]; then
  if command -v janus >/dev/null; then
    HEARINGS=$MEDIA_HEARINGS SECONDS=$MEDIA_SECONDS TARGET=ours,janus run media-janus media_load
  else
    echo "janus not installed (bash scripts/deps.sh janus)" | tee "$out/media-janus.log"
  fi
fi

booking_args=(--rates "$RATES" --seconds "$SECONDS_EACH" --raw "$RAW" --release "$RELEASE"
  --release-seconds "$RELEASE_SECONDS")
run booking-sqlite booking_open -- --db sqlite "${booking_args[@]}"

if [ "${PG:-1}" = 1 ]; then
  db="rh_bench_open_$(date +%s)"
  pg_url="${PG_ADMIN_URL%/*}/$db"
  if psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $db" >/dev/null; then
    run booking-postgres booking_open -- --db "$pg_url" "${booking_args[@]}"
    psql "$PG_ADMIN_URL" -qc "DROP DATABASE $db WITH (FORCE)" >/dev/null || true
  else
    echo "PostgreSQL unreachable at $PG_ADMIN_URL: skipped" | tee "$out/booking-postgres.log"
  fi
fi

audit_args=(--hearings "$HEARINGS" --requests "$REQUESTS")
[ -n "${AUDIT_DIR:-}" ] && audit_args+=(--dir "$AUDIT_DIR")
run audit-scale audit_scale -- "${audit_args[@]}"

echo
echo "## Side by side ($(date -u +%F), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "| what | ours | beside it, same run | ratio |"
echo "|---|---|---|---|"
if grep -q '^TABLE|' "$out/media-janus.log" 2>/dev/null; then
  :
elif [ "${MEDIA:-1}" = 1 ]; then
  echo "| media relay beside Janus (issue 18 §1) | $(grep -m1 -o 'janus not installed' "$out/media-janus.log" 2>/dev/null || echo 'failed: see the log') | | |"
else
  echo "| media relay beside Janus (issue 18 §1): skipped (MEDIA=0) | | | |"
fi
cat "$out"/media-janus.log "$out"/booking-sqlite.log "$out"/booking-postgres.log "$out"/audit-scale.log 2>/dev/null \
  | grep '^TABLE|' | awk -F'|' '{ printf "| %s | %s | %s | %s |\n", $2, $3, $4, $5 }'
exit $status
