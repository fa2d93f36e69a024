#!/usr/bin/env bash
# Every test: install what is missing, then build and run the suite twice —
# optimised, and under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/install-deps.sh"

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

echo "spur: all tests passed in $((SECONDS - start))s"
