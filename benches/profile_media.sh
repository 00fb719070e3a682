#!/usr/bin/env bash
# Where a media server's CPU goes (issue 18 §1: "if we lose, profile and say where the time
# goes"). Runs `media_load` against one server with `perf record` attached to that server for a
# window of the steady state, then writes the folded stacks, a flamegraph (inferno) and a table
# of the CPU by kind of work (benches/support/profile_kinds.py).
#
#   TARGET=ours|janus HEARINGS=25 WINDOW=15 bash benches/profile_media.sh [outdir]
#
# Needs: linux-perf, `cargo install inferno`, Janus for TARGET=janus (`bash scripts/deps.sh
# janus`). Run as root on a quiet machine; a benchmark, never a test.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${TARGET:-ours}
hearings=${HEARINGS:-25}
window=${WINDOW:-15}
out=${1:-artifacts/profile}
mkdir -p "$out"
command -v perf >/dev/null || { echo "needs perf (apt-get install linux-perf)" >&2; exit 2; }
command -v inferno-flamegraph >/dev/null || { echo "needs inferno (cargo install inferno)" >&2; exit 2; }

cargo bench --no-run --bench media_load 2>&1 | grep -v '^ *Compiling' || true
bin=$(ls -t target/release/deps/media_load-* | grep -v '\.d$' | head -1)
name="$out/$target-$hearings"

# the generator runs longer than the profile: setup, then the window well inside the steady state
TARGET=$target HEARINGS=$hearings SECONDS=$((window + 25)) "$bin" --bench >"$name.load.txt" 2>&1 &
load=$!
# setup takes up to ~10 s at 25 hearings (Janus: four hearings at a time, complete ICE
# gathering); the server is looked up after it, when only the one under load runs
sleep 15
if [ "$target" = janus ]; then pid=$(pgrep -n -f '^janus -F' || true); else pid=$(pgrep -n -f 'remote-hearing serve' || true); fi
[ -n "$pid" ] || { echo "no $target server is running" >&2; kill "$load"; exit 1; }
perf record -F 499 --call-graph dwarf,16384 -p "$pid" -o "$name.perf.data" -- sleep "$window" 2>"$name.perf.log" \
  || { cat "$name.perf.log" >&2; kill "$load"; exit 1; }
wait "$load"
perf script -i "$name.perf.data" 2>/dev/null | inferno-collapse-perf --all >"$name.folded"
inferno-flamegraph --title "$target, $hearings hearings, ${window} s" <"$name.folded" >"$name.svg"
python3 benches/support/profile_kinds.py "$name.folded" | tee "$name.kinds.txt"
grep -E '^\| (Ours|Janus)' "$name.load.txt" || true
echo "flamegraph: $name.svg"
