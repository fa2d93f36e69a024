#!/usr/bin/env bash
# ThreadSanitizer over every test case tagged [concurrency] (the multi-threaded server, event
# streams, background tasks, shared templates, metrics shards, WebSocket rooms, the offload pool,
# the rate limiter's shards, the MySQL pool against a real MariaDB): the tsan workflow preset,
# which scripts/test.sh also runs. About four minutes on two cores, cold.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/install-deps.sh" clang libclang-rt-14-dev lld
cmake --workflow --preset tsan
echo "tsan: ok"
