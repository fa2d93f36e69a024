#!/usr/bin/env bash
# Builds and runs a consumer project:
#   run.sh find_package <spur build dir> <work dir>     installs that build into work/prefix (no rebuild)
#   run.sh fetch_content <spur source dir> <work dir>   clones the checkout's HEAD with FetchContent
# Each builds the consumer program, which links spur and serves one request through it, and runs
# it. fetch_content compiles its own copy of spur (as such a user does), as one unity build at
# -O0: what it proves is the CMake integration and the link, which no other build shows.
# (add_subdirectory is what FetchContent_MakeAvailable does with the fetched tree, so it needs no
# consumer of its own.)
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
cmake --build "$work/build" -j "$(nproc)" >/dev/null
"$work/build/consumer"
