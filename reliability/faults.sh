#!/usr/bin/env bash
# Faults with data at stake: kill -9 spur-app under writes, then restart MariaDB under load.
#   reliability/faults.sh [--rounds N] [--down-seconds S]
# Prints a JSON summary and PASS/FAIL; exits non-zero on FAIL (see reliability/faults.py).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
(cd "$root" && cmake --preset release >/dev/null && cmake --build --preset release)
exec /usr/bin/python3 "$root/reliability/faults.py" --app "$root/build/release/app/spur-app" \
  --mariadb-sh "$root/scripts/mariadb.sh" --dir "$root/build/reliability" "$@"
