#!/usr/bin/env bash
# Builds and runs a consumer project:
#   run.sh find_package <spur build dir> <work dir>     installs that build into work/prefix (no rebuild)
#   run.sh add_subdirectory <spur source dir> <work dir>
#   run.sh fetch_content <spur source dir> <work dir>   clones the checkout's HEAD with FetchContent
# The two that compile spur from source do so without optimisation or debug info: they
# prove the CMake integration, not the code, which the other builds test.
set -euo pipefail
mode=$1; spur=$2; work=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work"
case $mode in
find_package)
  cmake --install "$spur" --prefix "$work/prefix" >/dev/null
  cmake -S "$here/find_package" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null ;;
add_subdirectory)
  cmake -S "$here/add_subdirectory" -B "$work/build" -G Ninja -DSPUR_SOURCE_DIR="$spur" \
        -DSPUR_CONSUMER_EXPECT_BUILD_TYPE= >/dev/null ;;
fetch_content)
  cmake -S "$here/fetch_content" -B "$work/build" -G Ninja -DSPUR_GIT_REPOSITORY="file://$spur" -DSPUR_GIT_TAG=HEAD \
        -DFETCHCONTENT_QUIET=ON >/dev/null ;;
*) echo "unknown mode $mode" >&2; exit 2 ;;
esac
cmake --build "$work/build" -j "$(nproc)" >/dev/null
"$work/build/consumer"
