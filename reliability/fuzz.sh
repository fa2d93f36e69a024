#!/usr/bin/env bash
# Long fuzzing run: every libFuzzer target for SECONDS each (default 600), two at a time,
# from the checked-in seeds plus whatever earlier runs found (build/fuzz/fuzz/corpus_*).
#   reliability/fuzz.sh [SECONDS]
# Prints one summary line per target; a crash leaves its input as build/fuzz/crash-* and fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-600}
"$root/scripts/install-deps.sh" clang libclang-rt-14-dev
# Optimised (-O1, libFuzzer's advice) and the fuzz targets only; CI's sanitizer tree runs them at -O0.
(cd "$root" && cmake --preset asan -B build/fuzz -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
  -DSPUR_BUILD_TESTS=OFF -DSPUR_WITH_MYSQL=OFF >/dev/null && cmake --build build/fuzz)
cd "$root/build/fuzz"
run() {
  local name=$1
  mkdir -p "fuzz/corpus_$name"
  local dict="$root/fuzz/$name.dict"  # a target's own dictionary, else the HTTP/1.1 one
  [[ -f $dict ]] || dict="$root/fuzz/http.dict"
  if "./fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
       -dict="$dict" -artifact_prefix="$PWD/crash-$name-" "fuzz/corpus_$name" "$root/fuzz/corpus/$name" \
       >"fuzz-$name.log" 2>&1; then
    echo "fuzz_$name: $(grep -E '^stat::number_of_executed_units' "fuzz-$name.log" | awk '{print $2}') runs," \
         "$(grep -E '^#[0-9]+[[:space:]]+DONE' "fuzz-$name.log" | grep -o 'cov: [0-9]*'), corpus $(ls "fuzz/corpus_$name" | wc -l), crashes 0"
  else
    echo "fuzz_$name: FAILED — see build/fuzz/fuzz-$name.log"; return 1
  fi
}
status=0
for pair in "http router" "parsers json_body" "jwt h2"; do
  pids=()
  for name in $pair; do run "$name" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || status=1; done
done
exit $status
