#!/usr/bin/env bash
# Runs a browser test against a real spur-app: starts the AI service (services/ai/serve.sh, for
# the summaries) on a free port, migrates DATABASE_URL, serves spur-app on a free port, runs
# `node SCRIPT http://127.0.0.1:PORT` (Playwright + Debian's chromium), stops both. spur-app
# writes its mails into MAIL_DIR, exported to the script: one directory per database, shared by
# the browser tests that run at once — they share the database and so its job queue, and any
# spur-app's workers may send another test's mail. Each test looks for its own addresses.
# Usage: run.sh SPUR_APP_BINARY DATABASE_URL SCRIPT.mjs
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../smoke/lib.sh"
bin=$1; url=$2; script=$3
# Every person of the tests logs in from 127.0.0.1, many times: throttles out of the way.
export DATABASE_URL=$url JWT_SECRET=browser-test-secret-0123456789abcdef BCRYPT_COST=10 LOG_FORMAT=off \
  LOGIN_BURST_PER_IP=1000 LOGIN_BURST_PER_EMAIL=1000 REGISTER_BURST_PER_IP=1000 RESET_BURST_PER_IP=1000 \
  JOB_POLL_MS=100  # mails go out through the job queue: a test waits for them at most this long
export CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || echo /usr/bin/chromium)}

pid= ai_pid=
log=$(mktemp) ai_log=$(mktemp)
# No SMTP_URL: spur-app writes each mail (verification, password reset) as a file here.
export MAIL_DIR=${TMPDIR:-/tmp}/spur-browser-mail-$(printf '%s' "$url" | sha256sum | cut -c1-16)
mkdir -p -m 700 "$MAIL_DIR"
stop() {
  local rc=$?
  set +e  # a `wait` for a process just killed fails (143): that must not cut the clean-up short
  [[ -n $pid ]] && { kill "$pid"; wait "$pid"; } 2>/dev/null
  # The service's whole process group: serve.sh and the uvicorn it runs.
  if [[ -n $ai_pid ]]; then
    kill -- "-$ai_pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 -- "-$ai_pid" 2>/dev/null || break; sleep 0.1; done  # uvicorn shuts down gracefully
    kill -KILL -- "-$ai_pid" 2>/dev/null
    wait "$ai_pid" 2>/dev/null
  fi
  if [[ $rc != 0 && -s $ai_log ]]; then echo "--- the AI service's log:"; tail -n 40 "$ai_log"; fi
  rm -f "$log" "$ai_log"  # not MAIL_DIR: another browser test may still read it
  exit "$rc"
}
trap stop EXIT

# The AI service, on a free port: serve.sh does not take port 0 (services/ai/README.md).
# In its own process group (setsid), so that stopping it stops whatever serve.sh started.
ai_port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
setsid "$here/../../services/ai/serve.sh" "$ai_port" >"$ai_log" 2>&1 &
ai_pid=$!
for _ in $(seq 300); do  # 30 s: numpy and networkx take a few seconds to import on a busy machine
  grep -q "Uvicorn running on http://[^ ]*:$ai_port" "$ai_log" && break
  kill -0 "$ai_pid" 2>/dev/null || { echo "the AI service exited before it was ready"; exit 1; }
  sleep 0.1
done
grep -q "Uvicorn running on" "$ai_log" || { echo "the AI service did not say it was running within 30 s"; exit 1; }
curl -fsS "http://127.0.0.1:$ai_port/healthz" >/dev/null || { echo "the AI service does not answer /healthz"; exit 1; }
# AI_PACE_MS: the service waits this long between sentences, so that a test sees a summary
# arrive sentence by sentence, and can stop it midway.
export AI_SERVICE_URL=http://127.0.0.1:$ai_port AI_PACE_MS=400

"$bin" migrate >/dev/null
"$bin" serve --host 127.0.0.1 --port 0 2>"$log" &
pid=$!
port=$(wait_for_port "$log")
if grep -q "API docs at /docs are off" "$log"; then echo "spur-app found no Swagger UI files: run npm ci"; exit 1; fi
node "$script" "http://127.0.0.1:$port"
