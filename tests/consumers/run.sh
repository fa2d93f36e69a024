#!/usr/bin/env bash
# Builds and runs a consumer project:
#   run.sh find_package <spur build dir> <work dir>     installs that build into work/prefix (no rebuild)
#   run.sh fetch_content <spur source dir> <work dir>   clones the checkout's HEAD with FetchContent
# fetch_content configures the consumer with spur fetched from the checkout and compiles the
# consumer's object against it (not spur itself): it proves the CMake integration, not the code,
# which the other builds test; building its `consumer` target links and runs it in full. (add_subdirectory is what
# FetchContent_MakeAvailable does with the fetched tree, so it needs no consumer of its own.)
set -euo pipefail
mode=$1; spur=$2; work=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work"
case $mode in
find_package)
  cmake --install "$spur" --prefix "$work/prefix" >/dev/null
  cmake -S "$here/find_package" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null ;;
fetch_content)
  cmake -S "$here/fetch_content" -B "$work/build" -G Ninja -DSPUR_GIT_REPOSITORY="file://$spur" -DSPUR_GIT_TAG=HEAD \
        -DSPUR_CONSUMER_EXPECT_BUILD_TYPE= -DFETCHCONTENT_QUIET=ON -DCMAKE_UNITY_BUILD=ON >/dev/null ;;
*) echo "unknown mode $mode" >&2; exit 2 ;;
esac
if [[ $mode == fetch_content ]]; then
  cmake --build "$work/build" -j "$(nproc)" --target consumer_object >/dev/null
  echo "consumer ok: compiled against the fetched spur"
else
  cmake --build "$work/build" -j "$(nproc)" >/dev/null
  "$work/build/consumer"
fi
