#!/usr/bin/env bash
# Builds and runs a consumer project:
#   run.sh find_package <spur build dir> <work dir>     installs spur into work/prefix first
#   run.sh add_subdirectory <spur source dir> <work dir>
set -euo pipefail
mode=$1; spur=$2; work=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work"
case $mode in
find_package)
  cmake --install "$spur" --prefix "$work/prefix" >/dev/null
  cmake -S "$here/find_package" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null ;;
add_subdirectory)
  cmake -S "$here/add_subdirectory" -B "$work/build" -G Ninja -DSPUR_SOURCE_DIR="$spur" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null ;;
*) echo "unknown mode $mode" >&2; exit 2 ;;
esac
cmake --build "$work/build" -j "$(nproc)" >/dev/null
"$work/build/consumer"
