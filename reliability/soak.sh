#!/usr/bin/env bash
# Soak: spur-app on a private MariaDB under a fixed rate of mixed traffic.
#   reliability/soak.sh [--seconds 600] [--rate 200]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
(cd "$root" && cmake --preset release >/dev/null && cmake --build --preset release)
url=$("$root/scripts/mariadb.sh" start "$root/build/reliability/soak-mariadb" spur_soak --fresh)
trap '"$root/scripts/mariadb.sh" stop "$root/build/reliability/soak-mariadb"' EXIT
/usr/bin/python3 "$root/reliability/soak.py" --app "$root/build/release/app/spur-app" --database-url "$url" "$@"
