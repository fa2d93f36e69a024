#!/usr/bin/env bash
# Slow clients (slowhttptest: slowloris, slow body, slow read) against examples/hello with
# spur's default limits and timeouts. Prints one JSON line per attack and PASS/FAIL.
#   reliability/slow_clients.sh [--connections N] [--seconds S]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh" slowhttptest
(cd "$root" && cmake --preset release -DSPUR_BUILD_EXAMPLES=ON >/dev/null && cmake --build --preset release)
ulimit -n "$(ulimit -Hn)"
exec /usr/bin/python3 "$root/reliability/slow_clients.py" --server "$root/build/release/examples/hello" \
  --dir "$root/build/reliability/slow" "$@"
