#!/usr/bin/env bash
# ThreadSanitizer over spur's concurrency tests: the multi-threaded server (cancellation, drain,
# event streams, background tasks), shared compiled templates, metrics shards, concurrent
# requests of one MariaDB session, WebSocket rooms across I/O threads, the offload pool, the
# rate limiter's shards, and the MySQL pool against a real MariaDB (with the background KILL
# QUERY). About two minutes on two cores, cold. Not in scripts/test.sh since session 8: CI must
# stay under 15 minutes (docs/reliability.md); run it before merging anything that touches
# threads, strands, atomics or locks.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/install-deps.sh" clang libclang-rt-14-dev lld
cmake -S . -B build/tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSPUR_TSAN=ON -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_CXX_FLAGS_DEBUG="-O0 -g1" -DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld -DCMAKE_UNITY_BUILD=ON \
  -DSPUR_BUILD_EXAMPLES=OFF -DSPUR_BUILD_BENCH=OFF -DSPUR_INSTALL=OFF -DSPUR_BUILD_WEB=OFF >/dev/null
cmake --build build/tsan -j "$(nproc)" --target spur_tests spur_mysql_tests
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
build/tsan/tests/spur_tests "[server],[websocket],[offload],[rate_limit],[background],[health],[sse],[views],[metrics],[extension]"
tsan_db=$(scripts/mariadb.sh start build/tsan/mariadb spur_test --fresh)
trap 'scripts/mariadb.sh stop build/tsan/mariadb' EXIT
SPUR_TEST_DATABASE_URL=$tsan_db build/tsan/tests/spur_mysql_tests "[pool],[transaction],[nonblocking],[kill],[session]"
echo "tsan: ok"
