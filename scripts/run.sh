#!/usr/bin/env bash
# The main job: install what is missing (Debian packages, then npm's locked packages), build
# (Release), apply migrations and serve spur-app on $PORT (default 3001) until Ctrl-C; the API's
# interactive docs are at /docs. Without DATABASE_URL a private MariaDB runs under
# var/mariadb (created on the first run, reused after) and stops with the app. A JWT secret is
# generated once into var/jwt_secret (mode 0600) unless JWT_SECRET is set, so tokens survive restarts.
# Without AI_SERVICE_URL the AI service (services/ai, for "Summarize") runs on 127.0.0.1:$AI_PORT
# (default 3002), its log in var/ai-service.log, and stops with the app.
# Without SMTP_URL (and MAIL_DIR) mails — password-reset and verification links — are written
# as .eml files to var/mail/, and spur-app logs each file's path: open it to follow the link.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
# Swagger UI's files for /docs, as pinned in package-lock.json (no install scripts: see
# package.json); the test tooling beside them too, so the test command works from this tree.
(cd "$root" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
(cd "$root" && cmake --preset release >/dev/null && cmake --build --preset release)
mkdir -p "$root/var"
cleanup=()
trap 'for c in "${cleanup[@]}"; do eval "$c"; done' EXIT
if [[ -z ${DATABASE_URL:-} ]]; then
  DATABASE_URL=$("$root/scripts/mariadb.sh" start "$root/var/mariadb" spur)
  export DATABASE_URL
  cleanup+=('"$root/scripts/mariadb.sh" stop "$root/var/mariadb"')
fi
if [[ -z ${AI_SERVICE_URL:-} ]]; then
  ai_port=${AI_PORT:-3002}
  "$root/services/ai/serve.sh" "$ai_port" 2>>"$root/var/ai-service.log" &
  ai_pid=$!
  cleanup+=('kill $ai_pid 2>/dev/null; wait $ai_pid 2>/dev/null || true')
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$ai_port/healthz" >/dev/null 2>&1 && break
    kill -0 $ai_pid 2>/dev/null || { echo "spur: the AI service did not start; see var/ai-service.log" >&2; exit 1; }
    sleep 0.1
  done
  export AI_SERVICE_URL=http://127.0.0.1:$ai_port
  echo "spur: the AI service serves $AI_SERVICE_URL (log: var/ai-service.log)"
fi
if [[ -z ${JWT_SECRET:-} ]]; then
  [[ -s $root/var/jwt_secret ]] || (umask 077 && head -c 48 /dev/urandom | base64 | tr -d '\n=' >"$root/var/jwt_secret")
  JWT_SECRET=$(cat "$root/var/jwt_secret")
  export JWT_SECRET
fi
if [[ -z ${SMTP_URL:-} && -z ${MAIL_DIR:-} ]]; then
  export MAIL_DIR=$root/var/mail
  echo "spur: no SMTP_URL: mails (password reset, address verification) go to var/mail/ as .eml files; the log names each one"
fi
export PORT=${PORT:-3001}
"$root/build/release/app/spur-app" migrate
# Not exec: when spur-app has drained and exited on Ctrl-C, the trap stops the AI service and the
# private MariaDB.
"$root/build/release/app/spur-app" serve "$@"
