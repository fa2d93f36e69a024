#!/usr/bin/env bash
# Every test: install what is missing, then build and run the suite twice — optimised, and
# under AddressSanitizer + UndefinedBehaviorSanitizer — then the concurrency tests under
# ThreadSanitizer and a short run of every libFuzzer target (clang, ASan + UBSan).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/install-deps.sh" clang libclang-rt-14-dev

start=$SECONDS
echo "== build (RelWithDebInfo)"
scripts/build.sh build/ci RelWithDebInfo
echo "== tests (RelWithDebInfo)"
(cd build/ci && ctest -j "$(nproc)" --output-on-failure)

echo "== build (ASan + UBSan)"
scripts/build.sh build/asan Debug -DSPUR_SANITIZE=ON -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g"
echo "== tests (ASan + UBSan)"
# A sanitizer report aborts the test, so it fails the run.
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
(cd build/asan && ctest -j "$(nproc)" --output-on-failure)

echo "== build (ThreadSanitizer: the concurrency tests)"
cmake -S . -B build/tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSPUR_TSAN=ON -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
  -DSPUR_BUILD_EXAMPLES=OFF -DSPUR_BUILD_BENCH=OFF >/dev/null
cmake --build build/tsan -j "$(nproc)" --target spur_tests spur_mysql_tests
echo "== concurrency tests (ThreadSanitizer)"
# The multi-threaded server, WebSocket rooms across I/O threads, the offload pool, the rate
# limiter's shards, and the MySQL pool against a real MariaDB.
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
build/tsan/tests/spur_tests "[server],[websocket],[offload],[rate_limit]"
tsan_db=$(scripts/mariadb.sh start build/tsan/mariadb spur_test --fresh)
trap 'scripts/mariadb.sh stop build/tsan/mariadb' EXIT
SPUR_TEST_DATABASE_URL=$tsan_db build/tsan/tests/spur_mysql_tests "[pool],[transaction],[nonblocking]"
scripts/mariadb.sh stop build/tsan/mariadb
trap - EXIT

echo "== fuzz (libFuzzer, 20 s per target)"
scripts/build.sh build/fuzz Debug -DSPUR_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g"
(cd build/fuzz && ctest --output-on-failure)

echo "spur: all tests passed in $((SECONDS - start))s"
