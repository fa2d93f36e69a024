#!/usr/bin/env bash
# Hostile load against spur-app (issue #31): declared lengths, a forged Forwarded header, JSON
# parsed beside a bystander, readers that never read, downloads beside logins.
#   reliability/hostile.sh [--only declared_length,forged_forwarded,json_bystander,non_readers,upload_flood,downloads_and_logins]
# Installs what is missing (Debian packages as root, npm's locked packages), builds spur-app
# (Release) and runs reliability/hostile.py: one JSON object per scenario and PASS/FAIL; exits
# non-zero on FAIL.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
(cd "$root" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
(cd "$root" && cmake --preset release >/dev/null && cmake --build --preset release)
ulimit -n "$(ulimit -Hn)"
exec /usr/bin/python3 "$root/reliability/hostile.py" --app "$root/build/release/app/spur-app" \
  --mariadb-sh "$root/scripts/mariadb.sh" --dir "$root/build/reliability/hostile" "$@"
