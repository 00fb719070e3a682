#!/usr/bin/env bash
# Property-based API testing: runs schemathesis (pinned, in a venv under target/) against the
# live OpenAPI of a debug server on SQLite (its own data dir, port and Redis key prefix), as an
# admin, an officer and a citizen (demo accounts), with bounded examples and time. Exits non-zero
# on any failure; the last line is `schemathesis: N passed, N failed` (operations × callers).
# Needs Redis on 127.0.0.1:6379 (scripts/deps.sh) and Python 3.
#   MAX_EXAMPLES=20 MAX_TIME=60 SEED=1 bash scripts/schemathesis.sh   (the defaults; MAX_TIME per caller)
set -euo pipefail
cd "$(dirname "$0")/.."
version=4.32.5
venv=target/schemathesis-venv
examples=${MAX_EXAMPLES:-20}
max_time=${MAX_TIME:-60}
seed=${SEED:-1}

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$version"; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "schemathesis==$version"
fi
cargo build --quiet --bin remote-hearing
bin="${CARGO_TARGET_DIR:-target}/debug/remote-hearing"

work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export RH_REDIS__PREFIX="schemathesis-$$:"
"$bin" demo --data-dir "$work/data" >"$work/demo.txt"
RH_OPS__LISTEN=127.0.0.1:0 "$bin" serve --data-dir "$work/data" --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
cleanup() {
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 100); do
    curl -fs "$base/readyz" >/dev/null && break
    sleep 0.2
done
curl -fs "$base/readyz" >/dev/null || { cat "$work/server.log"; exit 1; }

json_field() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }
staff_token() { # badge password
    curl -fs -X POST "$base/api/v1/auth/officer" -H 'content-type: application/json' \
        -d "{\"badge\": \"$1\", \"password\": \"$2\"}" | json_field "['token']"
}
demo() { awk -v r="$1" '$1 == r { print $2, $3 }' "$work/demo.txt"; }
citizen_token() {
    local phone=13800138000
    curl -fs -X POST "$base/api/v1/auth/sms-code" -H 'content-type: application/json' \
        -d "{\"phone\": \"$phone\"}" >/dev/null
    local code
    code=$(python3 -c "import json; print([json.loads(l) for l in open('$work/data/sms-outbox.jsonl')][-1]['code'])")
    curl -fs -X POST "$base/api/v1/auth/citizen" -H 'content-type: application/json' \
        -d "{\"phone\": \"$phone\", \"code\": \"$code\"}" | json_field "['token']"
}

passed=0
failed=0
status=0
# One run per caller; logout and the session revokes (they can end the session they are given: the
# list hands out its id) last, with a token of their own.
ends_sessions='^/api/v1/(auth/logout|auth/sessions/|admin/staff/[^/]+/sessions/)'

run() { # name token [schemathesis args…]
    local name=$1 token=$2
    shift 2
    echo "== schemathesis as $name"
    local rc=0
    "$venv/bin/schemathesis" --config-file scripts/schemathesis.toml run "$base/api/v1/openapi.json" \
        -H "Authorization: Bearer $token" --max-examples "$examples" --max-time "$max_time" \
        --seed "$seed" --workers 2 --report junit --report-junit-path "$work/$name.xml" \
        "$@" || rc=$?
    [ "$rc" -eq 0 ] || status=1
    if [ -f "$work/$name.xml" ]; then
        read -r t f < <(python3 - "$work/$name.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
cases = list(ET.parse(sys.argv[1]).getroot().iter("testcase"))
bad = sum(1 for c in cases if c.find("failure") is not None or c.find("error") is not None)
print(len(cases), bad)
PY
        )
        passed=$((passed + t - f))
        failed=$((failed + f))
    else
        failed=$((failed + 1))
    fi
}
# Every session first: the admin run fuzzes the login routes from this same address, and the
# login throttles would then refuse the later logins (an empty token tests nothing).
# shellcheck disable=SC2046
admin_token=$(staff_token $(demo admin))
# shellcheck disable=SC2046
officer_token=$(staff_token $(demo officer))
citizen=$(citizen_token)
# shellcheck disable=SC2046
auditor_token=$(staff_token $(demo auditor))
for t in "$admin_token" "$officer_token" "$citizen" "$auditor_token"; do
    [ -n "$t" ] || { echo "schemathesis: a login failed"; tail -n 20 "$work/server.log"; exit 1; }
done
run admin "$admin_token" --exclude-path-regex "$ends_sessions"
run officer "$officer_token" --exclude-path-regex "$ends_sessions" \
    --include-path-regex '^/api/v1/(hearings|urgent|officer|bookings|recordings)'
run citizen "$citizen" --exclude-path-regex "$ends_sessions" \
    --include-path-regex '^/api/v1/(hearings|bookings|auth/citizen)'
run logout "$auditor_token" --include-path-regex "$ends_sessions"
if [ "$status" -ne 0 ]; then
    echo "== the server's log (last 40 lines)"
    tail -n 40 "$work/server.log"
fi
echo "schemathesis: $passed passed, $failed failed"
exit "$status"
