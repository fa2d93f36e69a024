#!/usr/bin/env bash
# Every test: install what is missing, then build and run the suite in two trees:
#   1. optimised with the compiler spur ships with (GCC, RelWithDebInfo, warnings as errors),
#      plus the examples, benchmarks and consumer projects;
#   2. clang with AddressSanitizer + UndefinedBehaviorSanitizer, which also builds every
#      libFuzzer target and fuzzes each for a short while;
# ThreadSanitizer over the concurrency tests is reliability/tsan.sh (two minutes more than CI's
# 15-minute budget allows; run it before merging changes to threads, strands or locks).
# Prints each stage's time at the end.
#
# Why it is shaped this way (CI must stay under 15 minutes cold on two cores):
# - the optimised tree keeps line tables only (-g1): full -g cost 45% more compile time on
#   the heaviest file, and a backtrace needs no more;
# - the sanitizer trees compile without optimisation (-O0: a third of -O1's compile time
#   under ASan; the tests wait on sockets, not on the CPU) and with clang, which compiles
#   spur's Beast-heavy files a third faster than GCC under ASan;
# - every tree links with lld: an ASan test binary takes 2 s to link with it, 10 s with GNU ld;
# - every tree builds the libraries as unity builds (spur's library: 164 s -> 107 s with GCC on
#   two cores, cold), the FetchContent consumer too (89 -> 63 CPU-s). Each library file must
#   still compile on its own: the default build (scripts/build.sh, which the serve command
#   uses) is not a unity build. GCC's -Wsubobject-linkage is off in the unity tree: in a unity
#   source every .cpp is an included file, and the warning is about headers;
# - spur-app's end-to-end tests (RUN_SERIAL, against MariaDB) run in the GCC tree only; the
#   sanitizer trees run the framework's tests and the fuzzers (4 s per target after replaying
#   the corpus; reliability/fuzz.sh fuzzes for long);
# - test files compile at -O0 in every tree (tests/CMakeLists.txt): the library is what is tested;
# - fuzzing shares the ASan tree instead of compiling the library a fourth time;
# - the FetchContent consumer compiles only its own object against the fetched spur (its copy
#   of spur was ~150 CPU-seconds; tests/consumers/run.sh);
# - the sanitizer tree compiles at nice 19 in the background from the start: it takes the CPU
#   the GCC build leaves at its serial tail (links, the last unity file) and the GCC tests
#   leave while they wait on sockets and browsers;
# - in the sanitizer tree each test binary runs as one or two processes, not one per test case
#   (tests/CMakeLists.txt, spur_catch_tests): that stage went from 107-116 s to 50 s;
# - the Galera cluster smoke (three nodes, three spur-app instances, HAProxy, spur::mysql's
#   Galera tests, a short fault run) is reliability/cluster.sh, not part of this command: with it
#   a cold run took 872-911 s on this session's machine (docs/reliability.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# systemd: systemd-socket-activate for the socket-activation test (nothing is started);
# prometheus: promtool, Prometheus's own parser, checks the metrics exposition.
"$root/scripts/install-deps.sh" clang libclang-rt-14-dev lld chromium systemd prometheus
# The npm packages in package-lock.json: Swagger UI for /docs, Ajv and the OpenAPI validator for
# the contract tests. --ignore-scripts: none of them needs one (see package.json).
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

jobs=$(nproc)
total_start=$SECONDS
stage_start=$SECONDS
current_stage=
timings=()
stage() {  # stage NAME: closes the previous stage's clock and opens one for NAME
  [[ -n "${current_stage:-}" ]] && timings+=("$(printf '%-34s %4ds' "$current_stage" $((SECONDS - stage_start)))")
  current_stage=$1
  stage_start=$SECONDS
  echo "== $1"
}
report() {
  [[ -n "${current_stage:-}" ]] && timings+=("$(printf '%-34s %4ds' "$current_stage" $((SECONDS - stage_start)))")
  current_stage=
  echo "== stage times"
  printf '  %s\n' "${timings[@]}"
  printf '  %-34s %4ds\n' "total" $((SECONDS - total_start))
}
asan_pid=
trap 'status=$?; [[ -z $asan_pid ]] || kill -- "-$asan_pid" 2>/dev/null; report; exit $status' EXIT

sanitizer_flags=(-DCMAKE_CXX_COMPILER=clang++ -DCMAKE_CXX_FLAGS_DEBUG="-O0 -g1" -DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld
                 -DCMAKE_UNITY_BUILD=ON
                 -DSPUR_BUILD_EXAMPLES=OFF -DSPUR_BUILD_BENCH=OFF -DSPUR_INSTALL=OFF -DSPUR_BUILD_WEB=OFF)

# The sanitizer tree compiles in the background at nice 19 all along, on the CPU the GCC build
# and tests leave idle.
# Its own process group (perl's setpgrp), so a failing run stops the whole build with it; not
# setsid: a new session is a new scheduler autogroup, which would get an equal share of the CPU
# whatever its nice level (the tests then took 253 s instead of 152).
asan_log=$root/build/asan-build.log
mkdir -p "$root/build"
perl -e 'setpgrp(0, 0); exec @ARGV or die "exec: $!"' nice -n 19 scripts/build.sh build/asan Debug -DSPUR_FUZZ=ON "${sanitizer_flags[@]}" >"$asan_log" 2>&1 &
asan_pid=$!

stage "build (RelWithDebInfo)"
scripts/build.sh build/ci RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
  -DCMAKE_UNITY_BUILD=ON -DCMAKE_CXX_FLAGS=-Wno-subobject-linkage -DSPUR_WERROR=ON -DSPUR_BENCH_WEBSOCKET=OFF \
  -DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld

stage "tests (RelWithDebInfo)"
(cd build/ci && ctest -j "$jobs" --output-on-failure)

stage "build (ASan + UBSan + libFuzzer), what is left"
if ! wait "$asan_pid"; then
  asan_pid=
  echo "== sanitizer build FAILED:"; tail -n 100 "$asan_log"; exit 1
fi
asan_pid=
tail -n 1 "$asan_log"

stage "tests + fuzz (ASan + UBSan)"
# A sanitizer report aborts the test, so it fails the run.
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
(cd build/asan && ctest -j "$jobs" --output-on-failure)

report
trap - EXIT
echo "spur: all tests passed in $((SECONDS - total_start))s"
