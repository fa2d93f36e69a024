#!/usr/bin/env bash
# Smoke-tests an example: start it on port 0, read the real port from its log line,
# check each "PATH=EXPECTED" (EXPECTED must appear in the body), then SIGTERM it and
# require a clean exit 0.
set -euo pipefail
bin=$1; shift
log=$(mktemp)
"$bin" 0 2>"$log" &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true; rm -f "$log"' EXIT

port=
for _ in $(seq 100); do
  port=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$log" | head -n1)
  [[ -n $port ]] && break
  sleep 0.05
done
[[ -n $port ]] || { echo "no 'listening on' line:"; cat "$log"; exit 1; }

for check in "$@"; do
  path=${check%%=*}; expected=${check#*=}
  body=$(curl -fsS "http://127.0.0.1:$port$path")
  if [[ $body != *"$expected"* ]]; then
    echo "GET $path: expected '$expected' in '$body'"; exit 1
  fi
  echo "ok: GET $path"
done

kill -TERM $pid
for _ in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
if kill -0 $pid 2>/dev/null; then echo "did not exit after SIGTERM"; exit 1; fi
wait $pid; status=$?
[[ $status -eq 0 ]] || { echo "exit status $status"; cat "$log"; exit 1; }
echo "ok: clean exit after SIGTERM"
