#!/usr/bin/env bash
# Every test, from a fresh clone: installs what is missing, then runs the three test presets of
# CMakePresets.json and prints each stage's time:
#   ci    GCC, optimised, warnings as errors: every test, the examples, the browser tests, the
#         consumers and the Galera cluster smoke;
#   asan  clang, AddressSanitizer + UndefinedBehaviorSanitizer: the framework's tests, and each
#         libFuzzer target for a few seconds;
#   tsan  clang, ThreadSanitizer: every test case tagged [concurrency].
# The sanitizer trees build in the background while the ci tree builds and tests. Why it is
# shaped this way, and how to run one test: docs/ci.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh clang libclang-rt-14-dev lld chromium systemd prometheus galera-4 rsync haproxy \
  docker-compose python3-yaml  # compose.yaml's schema check (the container_files test)
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

start=$SECONDS; last=$SECONDS; times=(); background=()
stage() { times+=("$(printf '%-38s %5ds' "$1" $((SECONDS - last)))"); last=$SECONDS; }
report() { echo "== stage times"; printf '  %s\n' "${times[@]}"; printf '  %-38s %5ds\n' total $((SECONDS - start)); }
trap 'status=$?; for pid in "${background[@]}"; do kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null; done; report; exit $status' EXIT

# The three trees are configured first, side by side and at normal priority: a configure at
# nice 19 behind the ci build took four minutes before its tree could start building.
# Every build runs $(nproc) jobs, not ninja's nproc + 2: three trees' compilers already share
# two cores, and more processes only evict each other's caches.
mkdir -p build
jobs=$(nproc)
for preset in asan tsan; do
  cmake --preset $preset >"build/$preset-configure.log" 2>&1 & background+=($!)
done
cmake --preset ci >/dev/null
for pid in "${background[@]}"; do wait "$pid" || { echo "== configure FAILED:"; tail -n 50 build/*-configure.log; exit 1; }; done
background=()
# At nice 19, in its own process group (so that a failing run stops it); not setsid: a new
# session is a new scheduler autogroup, which would get an equal share of the CPU.
build_in_background() {
  perl -e 'setpgrp(0, 0); exec @ARGV or die "exec: $!"' nice -n 19 \
    cmake --build --preset "$1" -j "$jobs" >"build/$1-build.log" 2>&1 &
  background+=($!)
}
wait_for_build() {  # wait_for_build PRESET PID
  wait "$2" || { echo "== $1 build FAILED:"; tail -n 100 "build/$1-build.log"; exit 1; }
}
build_in_background asan; asan=$!
build_in_background tsan; tsan=$!

cmake --build --preset ci -j "$jobs";                       stage "build (ci)"
ctest --preset ci -j "$(nproc)";                            stage "tests (ci, cluster smoke included)"
wait_for_build asan "$asan";                                stage "build (asan), what is left"
ctest --preset asan -j "$(nproc)";                          stage "tests + fuzz (asan)"
wait_for_build tsan "$tsan";                                stage "build (tsan), what is left"
ctest --preset tsan -j "$(nproc)";                          stage "tests (tsan)"
trap - EXIT
report
echo "spur: all tests passed in $((SECONDS - start))s"
