#!/usr/bin/env bash
# The real spur-app binary: --help lists the settings, a short JWT secret is refused, `migrate`
# is idempotent and `migrate status` lists the migrations as applied, `openapi` prints the
# document, `serve` answers /healthz, /readyz, /openapi.json and /docs and exits 0 on SIGTERM,
# METRICS_LISTEN
# moves /metrics to an admin address (404 on the public port); with
# TLS_CERT/TLS_KEY (the test certificate in $3) it also answers over HTTPS, where the browser
# session cookie is Secure, and HTTP/2 is spoken: h2 by ALPN (HTTP2=0 turns it off) and h2c on
# the plain port with H2C=1. Mail: a warning when it is off; with MAIL_DIR, register's
# verification mail is a .eml file whose path is logged.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bin=$1; url=$2; tls_dir=${3:-}
# Captured whole: `| grep -q` would stop reading early and the rest would hit a closed pipe.
help_text=$("$bin" --help)
[[ $help_text == *JWT_SECRET* && $help_text == *LISTEN_UNIX* ]] || { echo "--help does not list JWT_SECRET and LISTEN_UNIX"; exit 1; }
if DATABASE_URL=$url JWT_SECRET=short "$bin" serve 2>/tmp/spur-app-err.$$; then echo "accepted a short secret"; exit 1; fi
grep -q "at least 32 bytes" /tmp/spur-app-err.$$ || { cat /tmp/spur-app-err.$$; exit 1; }
rm -f /tmp/spur-app-err.$$
# Secrets from files: refused while group or others can read them, used once they cannot.
secrets=$(mktemp -d)
printf '%s\n' 0123456789abcdef0123456789abcdef >"$secrets/jwt"
printf '%s\n' "$url" >"$secrets/db"
chmod 644 "$secrets/jwt"; chmod 600 "$secrets/db"
if JWT_SECRET_FILE=$secrets/jwt DATABASE_URL_FILE=$secrets/db "$bin" migrate 2>"$secrets/err"; then
  echo "accepted a world-readable secret file"; exit 1
fi
grep -q "chmod 600" "$secrets/err" || { cat "$secrets/err"; exit 1; }
chmod 600 "$secrets/jwt"
JWT_SECRET_FILE=$secrets/jwt DATABASE_URL_FILE=$secrets/db "$bin" migrate || { echo "secret files refused"; exit 1; }
if JWT_SECRET=x JWT_SECRET_FILE=$secrets/jwt DATABASE_URL=$url "$bin" migrate 2>/dev/null; then echo "accepted both JWT_SECRET and JWT_SECRET_FILE"; exit 1; fi
rm -rf "$secrets"
export DATABASE_URL=$url JWT_SECRET=0123456789abcdef0123456789abcdef BCRYPT_COST=10 LOG_FORMAT=off
"$bin" migrate && "$bin" migrate up
# `migrate status`: every compiled-in migration applied, none pending (spur::mysql::migrate_cli).
status=$("$bin" migrate status) || { echo "migrate status failed"; exit 1; }
[[ $status == *" applied, 0 pending"* && $status != *"changed"* ]] || { echo "migrate status: $status"; exit 1; }
# `openapi` prints the document without a database (nothing connects, no secret needed).
env -u DATABASE_URL -u JWT_SECRET "$bin" openapi | grep -q '"openapi":"3.1.0"' || { echo "spur-app openapi printed no document"; exit 1; }
log=$(mktemp)
"$bin" serve --port 0 2>"$log" &  # the space form, as getopt_long takes it
pid=$!
trap 'kill -9 $pid 2>/dev/null || true; rm -f "$log"' EXIT
port=$(wait_for_port "$log")
curl -fsS "http://127.0.0.1:$port/healthz" | grep -q '"ok"'
curl -fsS "http://127.0.0.1:$port/readyz" | grep -q '"ready"'
curl -fsS "http://127.0.0.1:$port/openapi.json" | grep -q '"/api/texts/{id}"' || { echo "no /openapi.json"; exit 1; }
if grep -q "API docs at /docs are off" "$log"; then
  echo "no Swagger UI files: run npm ci"; exit 1
fi
curl -fsS "http://127.0.0.1:$port/docs" | grep -q 'swagger-ui-bundle.js' || { echo "no /docs page"; exit 1; }
kill -TERM $pid
wait $pid
# Neither SMTP_URL nor MAIL_DIR: a warning that mail is off.
grep -q "warn.*mail is off" "$log" || { echo "no warning that mail is off"; cat "$log"; exit 1; }
# The access log is written by a thread of its own (spur::BufferedLog): every line is out by
# the time SIGTERM's drain has ended and the process exits.
: >"$log"
LOG_FORMAT=dev "$bin" serve --port 0 2>"$log" &
pid=$!
port=$(wait_for_port "$log")
for i in $(seq 50); do curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz?n=$i"; done
kill -TERM $pid
wait $pid
[[ $(grep -c '^GET /healthz?n=[0-9]* 200 ' "$log") == 50 ]] || { echo "access log lines lost at SIGTERM"; cat "$log"; exit 1; }
# MAIL_DIR: register's verification mail is a .eml file, its path logged. (Other tests' queued
# mails may be written first: the database is shared; ours is the one to our address.)
maildir=$(mktemp -d)
: >"$log"
MAIL_DIR=$maildir/mail JOB_POLL_MS=50 PUBLIC_URL=http://app.test "$bin" serve --port 0 2>"$log" &
pid=$!
port=$(wait_for_port "$log")
email="mail-$$-$RANDOM@example.com"
curl -fsS -o /dev/null -H 'Content-Type: application/json' -d "{\"email\":\"$email\",\"password\":\"password123\"}" \
  "http://127.0.0.1:$port/api/auth/register"
eml=
for _ in $(seq 200); do
  eml=$(grep -l "^To: $email" "$maildir"/mail/*.eml 2>/dev/null | head -n1) && [[ -n $eml ]] && break
  sleep 0.05
done
[[ -n $eml ]] && grep -q "http://app.test/verify-email?token=" "$eml" || { echo "no verification mail in MAIL_DIR"; cat "$log"; exit 1; }
# The log reaches stderr from a thread of its own, a few milliseconds after the file.
for _ in $(seq 100); do grep -q "mail written.*$(basename "$eml")" "$log" && break; sleep 0.05; done
grep -q "mail written.*$(basename "$eml")" "$log" || { echo "the mail's path is not logged"; cat "$log"; exit 1; }
kill -TERM $pid
wait $pid
rm -rf "$maildir"
# METRICS_LISTEN: /metrics on the admin address only; the public port answers 404.
if METRICS_LISTEN=nonsense "$bin" serve 2>/dev/null; then echo "accepted METRICS_LISTEN=nonsense"; exit 1; fi
mport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# A fresh log: the child truncates it only once it runs, and the last run's "listening on" line
# (a closed port) would win the race.
: >"$log"
METRICS_LISTEN=127.0.0.1:$mport "$bin" serve --port 0 2>"$log" &
pid=$!
port=$(wait_for_port "$log")
[[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics") == 404 ]] || { echo "public /metrics is not 404"; exit 1; }
curl -fsS "http://127.0.0.1:$mport/metrics" | grep -q '^http_requests_total' || { echo "no metrics on METRICS_LISTEN"; exit 1; }
# Prometheus's own parser and linter read the real exposition (Debian's prometheus package).
if command -v promtool >/dev/null; then
  curl -fsS "http://127.0.0.1:$mport/metrics" | promtool check metrics || { echo "promtool rejects /metrics"; exit 1; }
elif [[ -n ${CI:-} ]]; then echo "promtool missing"; exit 1; fi
curl -fsS "http://127.0.0.1:$mport/readyz" | grep -q '"ready"'
kill -TERM $pid
wait $pid
if [[ -n $tls_dir ]]; then
  : >"$log"
  H2C=1 TLS_CERT=$tls_dir/cert.pem TLS_KEY=$tls_dir/key.pem TLS_PORT=0 "$bin" serve --port 0 2>"$log" &  # the space form, as getopt_long takes it
  pid=$!
  tls_port=$(wait_for_port "$log" https)
  port=$(wait_for_port "$log")
  curl -fsS --cacert "$tls_dir/cert.pem" --resolve "localhost:$tls_port:127.0.0.1" \
    "https://localhost:$tls_port/healthz" | grep -q '"ok"'
  # Over TLS the browser session cookie is Secure, and named with the __Host- prefix; curl
  # negotiates HTTP/2 by ALPN (HTTP2 defaults to 1).
  https=(curl -sS --http2 --cacert "$tls_dir/cert.pem" --resolve "localhost:$tls_port:127.0.0.1" -H 'Content-Type: application/json')
  email="tls-$$-$RANDOM@example.com"
  [[ $("${https[@]}" -o /dev/null -w '%{http_version} %{http_code}' -d "{\"email\":\"$email\",\"password\":\"password123\"}" \
       "https://localhost:$tls_port/api/auth/register") == "2 201" ]] || { echo "register over h2 is not HTTP/2 201"; exit 1; }
  "${https[@]}" -D - -o /dev/null -d "{\"email\":\"$email\",\"password\":\"password123\"}" "https://localhost:$tls_port/api/auth/session" |
    grep -i '^set-cookie: __Host-spur_session=' | grep -q 'Secure' || { echo "the session cookie is not __Host-spur_session, Secure, over TLS"; exit 1; }
  # h2c by prior knowledge (H2C=1) and HTTP/1.1 on the same plain port.
  [[ $(curl -sS --http2-prior-knowledge -o /dev/null -w '%{http_version} %{http_code}' "http://127.0.0.1:$port/healthz") == "2 200" ]] ||
    { echo "h2c prior knowledge is not HTTP/2 200"; exit 1; }
  [[ $(curl -sS --http1.1 -o /dev/null -w '%{http_version} %{http_code}' "http://127.0.0.1:$port/healthz") == "1.1 200" ]] ||
    { echo "HTTP/1.1 beside h2c is not 1.1 200"; exit 1; }
  kill -TERM $pid
  wait $pid
  # HTTP2=0: HTTP/1.1 only over TLS, whatever the client offers; no h2c without H2C.
  : >"$log"
  HTTP2=0 TLS_CERT=$tls_dir/cert.pem TLS_KEY=$tls_dir/key.pem TLS_PORT=0 "$bin" serve --port 0 2>"$log" &
  pid=$!
  tls_port=$(wait_for_port "$log" https)
  port=$(wait_for_port "$log")
  [[ $(curl -sS --http2 --cacert "$tls_dir/cert.pem" --resolve "localhost:$tls_port:127.0.0.1" -o /dev/null \
       -w '%{http_version}' "https://localhost:$tls_port/healthz") == "1.1" ]] || { echo "HTTP2=0 still negotiates h2"; exit 1; }
  if curl -sS --max-time 5 --http2-prior-knowledge -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null; then
    echo "h2c answered without H2C=1"; exit 1
  fi
  kill -TERM $pid
  wait $pid
fi
echo "ok: spur-app served and exited cleanly"
