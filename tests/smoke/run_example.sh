#!/usr/bin/env bash
# Smoke-tests an example: start it on port 0, read the real port from its log line, run each
# check "METHOD PATH [JSON-BODY] => EXPECTED" (EXPECTED must appear in "HTTP <status> <body>";
# the body has no spaces), then SIGTERM it and require a clean exit 0. A check "WS PATH => ws ok"
# runs $WS_PROBE (tests/smoke/ws_probe.cpp: two clients, one broadcast) against PATH instead;
# "SSE PATH [LAST-EVENT-ID] => TEXT" reads the event stream for 1.5 s. "FORM PATH a=1&b=2" posts a
# form as a browser does (urlencoded, same-origin); "XFORM" posts it from another site
# (Sec-Fetch-Site: cross-site); "UPLOAD PATH a=1&f=@text" posts multipart/form-data, a value
# starting with @ as a file part f.txt holding the text. Cookies persist from check to check.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bin=$1; shift
log=$(mktemp)
"$bin" 0 2>"$log" &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true; rm -f "$log"' EXIT

port=$(wait_for_port "$log")

jar=$(mktemp)
for check in "$@"; do
  read -r method path data <<<"${check%% => *}"
  expected=${check#* => }
  if [[ $method == WS ]]; then
    got=$("$WS_PROBE" "$port" "$path")
    [[ $got == *"$expected"* ]] || { echo "WS $path: expected '$expected' in '$got'"; exit 1; }
    echo "ok: WS $path"
    continue
  fi
  # "SSE PATH [LAST-EVENT-ID]" reads an event stream for a moment, as curl -N shows it.
  if [[ $method == SSE ]]; then
    got=$(curl -sN --max-time 1.5 ${data:+-H "Last-Event-ID: $data"} "http://127.0.0.1:$port$path" || true)
    [[ $got == *"$expected"* ]] || { echo "SSE $path: expected '$expected' in '$got'"; exit 1; }
    echo "ok: SSE $path"
    continue
  fi
  args=(-s -b "$jar" -c "$jar" -o "$log.body" -w '%{http_code}')
  # "HTML /path" is a GET from a browser: Accept: text/html.
  if [[ $method == HTML ]]; then args+=(-H 'Accept: text/html' -X GET)
  elif [[ $method == FORM || $method == XFORM ]]; then
    args+=(-X POST -H 'Content-Type: application/x-www-form-urlencoded' --data-raw "${data:-}")
    [[ $method == XFORM ]] && args+=(-H 'Sec-Fetch-Site: cross-site')
    data=
  elif [[ $method == UPLOAD ]]; then
    IFS='&' read -ra parts <<<"${data:-}"
    for part in "${parts[@]}"; do
      if [[ ${part#*=} == @* ]]; then
        printf '%s' "${part#*=@}" >"$log.${part%%=*}.txt"
        args+=(-F "${part%%=*}=@$log.${part%%=*}.txt;filename=${part%%=*}.txt;type=text/plain")
      else args+=(-F "$part"); fi
    done
    data=
  else args+=(-X "$method"); fi
  [[ -n ${data:-} ]] && args+=(-H 'Content-Type: application/json' --data "$data")
  status=$(curl "${args[@]}" "http://127.0.0.1:$port$path")
  got="HTTP $status $(cat "$log.body")"
  if [[ $got != *"$expected"* ]]; then
    echo "$method $path: expected '$expected' in '$got'"; exit 1
  fi
  echo "ok: $method $path"
done
rm -f "$jar" "$log.body" "$log".*.txt
# SAVE_OPENAPI=FILE keeps the example's OpenAPI document for the contract check.
if [[ -n ${SAVE_OPENAPI:-} ]]; then curl -fsS -o "$SAVE_OPENAPI" "http://127.0.0.1:$port/openapi.json"; echo "ok: saved $SAVE_OPENAPI"; fi

# An example that stops itself (graceful_shutdown) is left to exit alone: a signal could
# arrive after its handler is gone and turn a clean exit into 143.
[[ -n ${EXPECT_SELF_EXIT:-} ]] || kill -TERM $pid 2>/dev/null || true
for _ in $(seq 200); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
if kill -0 $pid 2>/dev/null; then echo "did not exit"; exit 1; fi
status=0
wait $pid || status=$?
[[ $status -eq 0 ]] || { echo "exit status $status"; cat "$log"; exit 1; }
echo "ok: clean exit after SIGTERM"
