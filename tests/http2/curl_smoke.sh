#!/usr/bin/env bash
# curl (nghttp2 inside) against h2_server: HTTP/2 over TLS by ALPN, h2c by prior knowledge, and
# HTTP/1.1 still on both ports; nghttp for streams at once. Usage: curl_smoke.sh path/to/h2_server
set -euo pipefail
server=$1
dir=$(mktemp -d)
pid=
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
"$server" --tls-cert "$dir/cert.pem" --tls-key "$dir/key.pem" --h2c >"$dir/out" 2>"$dir/server.log" &
pid=$!
plain= tls=
for _ in $(seq 200); do
  read -r _ plain _ tls <"$dir/out" 2>/dev/null && [[ -n $tls ]] && break
  sleep 0.05
done
[[ -n $tls ]] || { echo "h2_server did not start:"; cat "$dir/server.log"; exit 1; }

fail() { echo "FAIL: $*"; echo "--- server log"; cat "$dir/server.log"; exit 1; }
# check NAME EXPECTED curl-args...: curl's body followed by " v<http_version>" must equal EXPECTED.
check() {
  local name=$1 expected=$2 got
  shift 2
  got=$(curl -sS --max-time 10 -w ' v%{http_version}' "$@") || fail "$name: curl failed"
  [[ $got == "$expected" ]] || fail "$name: expected '$expected', got '$got'"
  echo "ok: $name"
}

check "TLS, ALPN h2" "hello v2" --http2 -k "https://127.0.0.1:$tls/"
check "TLS, version seen by the handler" "20 v2" --http2 -k "https://127.0.0.1:$tls/version"
check "TLS, POST echoed" "ping v2" --http2 -k --data-binary ping -H 'Content-Type: text/plain' "https://127.0.0.1:$tls/echo"
check "TLS, HTTP/1.1 when asked" "hello v1.1" --http1.1 -k "https://127.0.0.1:$tls/"
check "h2c prior knowledge" "hello v2" --http2-prior-knowledge "http://127.0.0.1:$plain/"
check "h2c, version seen by the handler" "20 v2" --http2-prior-knowledge "http://127.0.0.1:$plain/version"
check "h2c, POST echoed" "pong v2" --http2-prior-knowledge --data-binary pong "http://127.0.0.1:$plain/echo"
check "HTTP/1.1 on the h2c port" "11 v1.1" --http1.1 "http://127.0.0.1:$plain/version"

# A 1 MiB body both ways, through the windows curl and spur advertise.
head -c $((1 << 20)) /dev/urandom >"$dir/blob"
curl -sS --max-time 20 --http2 -k --data-binary @"$dir/blob" -o "$dir/back" "https://127.0.0.1:$tls/echo" ||
  fail "1 MiB echo: curl failed"
cmp -s "$dir/blob" "$dir/back" || fail "1 MiB echo: the body came back different"
echo "ok: 1 MiB echo over h2"

# Several streams at once on one connection, by nghttp2's own client when it is installed (curl
# 7.88's --parallel with --http2-prior-knowledge fails its second transfer, against nghttpd too).
if command -v nghttp >/dev/null; then
  got=$(nghttp -n -s "http://127.0.0.1:$plain/slow?ms=200&a" "http://127.0.0.1:$plain/slow?ms=200&b" \
    "http://127.0.0.1:$plain/slow?ms=200&c") || fail "nghttp failed: $got"
  [[ $(grep -c ' 200 *4 /slow' <<<"$got") == 3 ]] || fail "nghttp: expected three 4-byte answers, got: $got"
  echo "ok: three streams on one connection (nghttp)"
fi

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
[[ $status == 0 ]] || fail "h2_server exited $status after SIGTERM"
echo "curl http2 ok"
