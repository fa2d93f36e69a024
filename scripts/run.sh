#!/usr/bin/env bash
# The main job: install what is missing, build in Release, and serve on $PORT (default 3001).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" build/release Release -DSPUR_BUILD_TESTS=OFF
port=${PORT:-3001}
echo "spur: serving on http://localhost:$port (Ctrl-C to stop)"
exec "$root/build/release/examples/hello" "$port"
