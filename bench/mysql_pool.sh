#!/usr/bin/env bash
# The MySQL pool benchmark, end to end: install, build (Release), start a private MariaDB,
# run, stop. Extra arguments go to the benchmark (e.g. --queries 2000 --pool 16).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
(cd "$root" && cmake --preset release -DSPUR_BUILD_BENCH=ON >/dev/null && cmake --build --preset release)
url=$("$root/scripts/mariadb.sh" start "$root/build/bench-mariadb" spur_bench)
trap '"$root/scripts/mariadb.sh" stop "$root/build/bench-mariadb"' EXIT
"$root/build/release/bench/mysql_pool_bench" "$url" "$@"
