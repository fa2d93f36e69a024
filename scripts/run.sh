#!/usr/bin/env bash
# The main job: install what is missing (Debian packages, then npm's locked packages), build
# (Release), apply migrations and serve spur-app on $PORT (default 3001) until Ctrl-C; the API's
# interactive docs are at /docs. Without DATABASE_URL a private MariaDB runs under
# var/mariadb (created on the first run, reused after) and stops with the app. A JWT secret is
# generated once into var/jwt_secret (mode 0600) unless JWT_SECRET is set, so tokens survive restarts.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
# Swagger UI's files for /docs, as pinned in package-lock.json (no install scripts: see
# package.json); the test tooling beside them too, so the test command works from this tree.
(cd "$root" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
(cd "$root" && cmake --preset release >/dev/null && cmake --build --preset release)
mkdir -p "$root/var"
if [[ -z ${DATABASE_URL:-} ]]; then
  DATABASE_URL=$("$root/scripts/mariadb.sh" start "$root/var/mariadb" spur)
  export DATABASE_URL
  trap '"$root/scripts/mariadb.sh" stop "$root/var/mariadb"' EXIT
fi
if [[ -z ${JWT_SECRET:-} ]]; then
  [[ -s $root/var/jwt_secret ]] || (umask 077 && head -c 48 /dev/urandom | base64 | tr -d '\n=' >"$root/var/jwt_secret")
  JWT_SECRET=$(cat "$root/var/jwt_secret")
  export JWT_SECRET
fi
export PORT=${PORT:-3001}
"$root/build/release/app/spur-app" migrate
# Not exec: when spur-app has drained and exited on Ctrl-C, the trap stops the private MariaDB.
"$root/build/release/app/spur-app" serve "$@"
