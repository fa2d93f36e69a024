#!/usr/bin/env bash
# spur-app as systemd runs it, on real sockets: (1) socket activation through Debian's
# systemd-socket-activate, plain and TLS sockets named by --fdname; (2) a unix-domain socket
# read with curl --unix-socket; (3) DRAIN_DELAY; (4) restarts under load with the listening socket held
# outside the process (tests/smoke/socket_holder.cpp, as a socket unit holds it): every
# request sent during three restarts must succeed.
# systemd.sh SPUR_APP DATABASE_URL TLS_DIR SOCKET_HOLDER LOAD_SCRIPT
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bin=$1; url=$2; tls_dir=$3; holder=$4; load=$5
export DATABASE_URL=$url JWT_SECRET=0123456789abcdef0123456789abcdef BCRYPT_COST=10 LOG_FORMAT=off
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
"$bin" migrate

stop_cleanly() {  # PID: SIGTERM, then require exit status 0 within 10 s
  kill -TERM "$1"
  local status=0
  for _ in $(seq 200); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
  wait "$1" || status=$?
  [[ $status -eq 0 ]] || { echo "exit status $status"; cat "$work"/*.log; exit 1; }
}

# 1. Socket activation: systemd-socket-activate binds both ports, starts spur-app on the first
#    connection (which waits in the kernel's queue meanwhile) and passes the sockets as fds 3, 4.
#    Its ports are below the kernel's ephemeral range (32768-60999 here), so no outgoing
#    connection can hold one; another test's listener still could, so a port pair that will not
#    bind is replaced by another (up to five tries).
for attempt in 1 2 3 4 5; do
  http_port=$((20000 + RANDOM % 12000)); https_port=$((http_port + 1))
  systemd-socket-activate -l "127.0.0.1:$http_port" -l "127.0.0.1:$https_port" --fdname=http:https \
    -E DATABASE_URL -E JWT_SECRET -E BCRYPT_COST -E LOG_FORMAT -E "TLS_CERT=$tls_dir/cert.pem" -E "TLS_KEY=$tls_dir/key.pem" \
    -E PORT=1 -E TLS_PORT=1 "$bin" serve 2>"$work/activated.log" &
  activated=$!
  for _ in $(seq 100); do
    [[ $(grep -c "Listening on" "$work/activated.log" 2>/dev/null) -ge 2 ]] && break
    kill -0 $activated 2>/dev/null || break  # it could not bind: try another pair
    sleep 0.05
  done
  kill -0 $activated 2>/dev/null && break
  wait $activated 2>/dev/null || true
  echo "ports $http_port/$https_port taken (try $attempt): $(tail -n 1 "$work/activated.log")"
done
pids+=($activated)
curl -fsS --max-time 10 "http://127.0.0.1:$http_port/healthz" | grep -q '"ok"' || { echo "no answer on the activated plain socket"; cat "$work/activated.log"; exit 1; }
curl -fsS --max-time 10 --cacert "$tls_dir/cert.pem" "https://127.0.0.1:$https_port/readyz" | grep -q '"ready"' \
  || { echo "no answer on the activated TLS socket"; cat "$work/activated.log"; exit 1; }
# It served systemd's sockets, not PORT/TLS_PORT (1, which it could not bind as a test user anyway).
grep -q "listening on http://127.0.0.1:$http_port" "$work/activated.log" && grep -q "listening on https://127.0.0.1:$https_port" "$work/activated.log" \
  || { echo "did not report the inherited sockets"; cat "$work/activated.log"; exit 1; }
stop_cleanly "$activated"
echo "ok: socket activation, plain and TLS"

# 2. A unix-domain socket with its mode; the file is gone after a clean stop.
sock=$work/http.sock
LISTEN_UNIX=$sock UNIX_MODE=600 "$bin" serve --port 0 2>"$work/unix.log" &
pids+=($!); unix_pid=$!
for _ in $(seq 100); do [[ -S $sock ]] && break; sleep 0.05; done
[[ $(stat -c %a "$sock") == 600 ]] || { echo "socket mode $(stat -c %a "$sock")"; exit 1; }
curl -fsS --unix-socket "$sock" http://localhost/healthz | grep -q '"ok"' || { echo "no answer on the unix socket"; exit 1; }
curl -sS --unix-socket "$sock" -o /dev/null -w '%{http_code}' http://localhost/api/texts | grep -q 401
stop_cleanly "$unix_pid"
[[ ! -e $sock ]] || { echo "socket file left behind"; exit 1; }
echo "ok: unix socket"

# 3. DRAIN_DELAY: after SIGTERM /readyz answers 503 while the port still serves, then it closes.
if UNIX_MODE=999 "$bin" serve --port 0 2>/dev/null; then echo "accepted UNIX_MODE=999"; exit 1; fi
DRAIN_DELAY=1 "$bin" serve --port 0 2>"$work/drain.log" &
pids+=($!); drain_pid=$!
dport=$(wait_for_port "$work/drain.log")
curl -fsS "http://127.0.0.1:$dport/readyz" | grep -q '"ready"'
kill -TERM "$drain_pid"
sleep 0.2
[[ $(curl -sS -o "$work/readyz" -w '%{http_code}' "http://127.0.0.1:$dport/readyz") == 503 ]] || { echo "readyz not 503 while draining"; exit 1; }
grep -q '"draining"' "$work/readyz"
curl -fsS "http://127.0.0.1:$dport/healthz" | grep -q '"ok"'
for _ in $(seq 100); do kill -0 "$drain_pid" 2>/dev/null || break; sleep 0.05; done
wait "$drain_pid"
echo "ok: DRAIN_DELAY keeps serving with /readyz at 503, then exits 0"

# 4. Restarts under load: SIGHUP makes the holder stop spur-app (it drains) and start a new
#    one on the same socket; connections made in between wait in the kernel's accept queue.
"$holder" "$bin" serve >"$work/holder.out" 2>"$work/holder.log" &
pids+=($!); holder_pid=$!
port=$(wait_for_port "$work/holder.out")
for _ in $(seq 100); do curl -fsS --max-time 1 "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
node "$load" "http://127.0.0.1:$port/healthz" 7000 8 >"$work/load.out" &
load_pid=$!
for _ in 1 2 3; do sleep 1.5; kill -HUP "$holder_pid"; done
load_status=0
wait "$load_pid" || load_status=$?
cat "$work/load.out"
restarts=$(grep -c "restarted" "$work/holder.log" || true)
[[ $restarts -eq 3 ]] || { echo "expected 3 restarts, saw $restarts"; cat "$work/holder.log"; exit 1; }
[[ $load_status -eq 0 ]] || { echo "requests failed during restarts"; cat "$work/holder.log"; exit 1; }
stop_cleanly "$holder_pid"
grep -q "exited badly" "$work/holder.log" && { echo "spur-app did not exit cleanly on a restart"; cat "$work/holder.log"; exit 1; }
echo "ok: 3 restarts under load, no request lost"
