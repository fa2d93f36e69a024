#!/usr/bin/env bash
# spur's HTTP benchmarks in one command: installs wrk, h2load, nginx, Flask + gunicorn (Debian)
# and Express (npm), builds in Release, starts a private MariaDB, runs every server and
# scenario, and writes build/bench-results/results.{md,json,csv}.
#   bench/run.sh            full run (about 17 minutes of measurement)
#   bench/run.sh --quick    one short run per scenario (about 5 minutes)
#   bench/run.sh --only /json,routed   scenarios whose names start with these
#   bench/run.sh --only h2             the HTTP/2 rows: spur and nginx 1.22, h2c and h2 over TLS
#   bench/run.sh --only syscalls       system calls per request (perf), epoll and io_uring
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh" wrk gunicorn python3-flask python3 python3-mysqldb nghttp2-client nginx-light \
  linux-perf liburing-dev
if ! command -v npm >/dev/null; then "$root/scripts/install-deps.sh" nodejs npm; fi
(cd "$root/bench/express" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
(cd "$root" && cmake --preset release -DSPUR_BUILD_BENCH=ON -DSPUR_BUILD_TECHEMPOWER=ON >/dev/null && cmake --build --preset release)
# The same server on Asio's io_uring backend, for the io_uring rows.
(cd "$root" && cmake --preset release-uring >/dev/null && cmake --build build/release-uring --target spur_server)

# The database works on the load generator's core, so the app's core measures only the app.
url=$(taskset -c 1 "$root/scripts/mariadb.sh" start "$root/build/bench-mariadb" spur_bench)
trap '"$root/scripts/mariadb.sh" stop "$root/build/bench-mariadb"' EXIT
ulimit -n "$(ulimit -Hn)"  # 10,000 idle connections on each side need more than 1024
/usr/bin/python3 "$root/bench/run.py" --build "$root/build/release" --build-uring "$root/build/release-uring" \
  --database-url "$url" \
  --out "$root/build/bench-results" "$@"
