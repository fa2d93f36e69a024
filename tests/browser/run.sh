#!/usr/bin/env bash
# Runs a browser test against a real spur-app: migrates DATABASE_URL, serves on a free port,
# runs `node SCRIPT http://127.0.0.1:PORT` (Playwright + Debian's chromium), stops the app.
# Usage: run.sh SPUR_APP_BINARY DATABASE_URL SCRIPT.mjs
set -euo pipefail
source "$(dirname "$0")/../smoke/lib.sh"
bin=$1; url=$2; script=$3
# Every person of the tests logs in from 127.0.0.1, many times: throttles out of the way.
export DATABASE_URL=$url JWT_SECRET=browser-test-secret-0123456789abcdef BCRYPT_COST=10 LOG_FORMAT=off \
  LOGIN_BURST_PER_IP=1000 LOGIN_BURST_PER_EMAIL=1000 REGISTER_BURST_PER_IP=1000
export CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || echo /usr/bin/chromium)}
"$bin" migrate >/dev/null
log=$(mktemp)
"$bin" serve --host 127.0.0.1 --port 0 2>"$log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
port=$(wait_for_port "$log")
if grep -q "API docs at /docs are off" "$log"; then echo "spur-app found no Swagger UI files: run npm ci"; exit 1; fi
node "$script" "http://127.0.0.1:$port"
