#!/usr/bin/env bash
# The container image (Containerfile), built and run without a registry or an OCI runtime:
#   reliability/container.sh
# 1. base   mmdebstrap builds Debian 12 minbase, trimmed the way the official slim image is (no
#           docs, man pages or locales), cached as $SPUR_CONTAINER_CACHE/bookworm-slim.tar
#           (default /var/cache/spur-container) and imported under the names the FROM lines
#           use, unless images by those names exist (a registry's, or a previous run's).
# 2. build  podman build --isolation chroot (layers cached by podman between runs), of spur-app's
#           image and of the AI service's (services/ai/Containerfile).
# 3. facts  podman image inspect: size under 150 MB, a non-root user, port 3001, a health check
#           on /healthz, SIGTERM as the stop signal.
# 4. run    `podman run` cannot work on this machine (crun fails at setrlimit), so the image's
#           filesystem is mounted read-only (as compose.yaml runs it), with /run, /tmp, /proc
#           and /dev as a runtime mounts them and a volume at the WORKDIR; the image's
#           ENTRYPOINT runs in it by chroot as the image's USER, with the image's ENV, then
#           compose.yaml's environment for the app, in its WORKDIR, against a fresh MariaDB on
#           the host (its socket bind-mounted in). Secrets are *_FILE files under /run/secrets,
#           as Docker and Podman mount them. Checked: `migrate`, then `serve`: /healthz, the
#           HEALTHCHECK command, a register -> mailed link -> verify -> login -> /me round trip,
#           a text's summary from the AI service (its image run the same way), the web page at
#           /, Swagger UI at /docs, a clean exit 0 on SIGTERM, and the HEALTHCHECK failing after.
# Prints each phase's time and the image's size. Needs root (mounts, chroot).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${SPUR_CONTAINER_CACHE:-/var/cache/spur-container}
image=${SPUR_CONTAINER_IMAGE:-localhost/spur-app:test}
ai_image=${SPUR_CONTAINER_AI_IMAGE:-localhost/spur-ai:test}
max_bytes=$((150 * 1000 * 1000))
[[ $(id -u) -eq 0 ]] || { echo "container.sh: needs root (mount, chroot)" >&2; exit 2; }
"$root/scripts/install-deps.sh" podman mmdebstrap docker-compose python3-yaml

start=$SECONDS; last=$SECONDS; times=()
phase() { times+=("$(printf '%-8s %5ds' "$1" $((SECONDS - last)))"); last=$SECONDS; }
report() { echo "== container.sh phase times"; printf '  %s\n' "${times[@]}"; printf '  %-8s %5ds\n' total $((SECONDS - start)); }

work=$(mktemp -d /tmp/spur-container.XXXXXX)
mounts=()  # unmounted in reverse order
pid=''; ai_pid=''
cleanup() {
  local status=$?
  [[ -n $pid ]] && { kill -9 "$pid" 2>/dev/null || true; }
  [[ -n $ai_pid ]] && { kill -9 "$ai_pid" 2>/dev/null || true; }
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[i]}" 2>/dev/null || true; done
  podman image unmount "$image" "$ai_image" >/dev/null 2>&1 || true
  "$root/scripts/mariadb.sh" stop "$work/db" 2>/dev/null || true
  rm -rf "$work"
  report
  exit $status
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [[ -s $work/serve.log ]] && tail -n 30 "$work/serve.log" >&2; exit 1; }

# --- 1. base images -------------------------------------------------------------------------
mkdir -p "$cache"
# This machine reaches npm's registry through a TLS-inspecting proxy whose CA the host trusts
# (/usr/local/share/ca-certificates, npm's cafile): the base image gets the same, so the build
# stage's `npm ci` works here. The Containerfile is unchanged; a registry's base image has none.
local_ca=()
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  local_ca=(--customize-hook='mkdir -p "$1/usr/local/share/ca-certificates" &&
    cp /usr/local/share/ca-certificates/*.crt "$1/usr/local/share/ca-certificates/" &&
    echo cafile=/etc/ssl/certs/ca-certificates.crt >"$1/etc/npmrc"')
fi
if ! podman image exists docker.io/library/debian:bookworm-slim; then
  if [[ ! -s $cache/bookworm-slim.tar ]]; then
    # The dpkg path excludes are debuerreotype's for the official slim image; they stay in the
    # image's /etc/dpkg/dpkg.cfg.d, so packages installed on it are trimmed too. The merged-usr
    # hook merges /usr as the official image does, without the usrmerge package (which would
    # bring 45 MB of perl). The apt options match this machine's archive, whose Release files
    # may be past Valid-Until.
    mmdebstrap --variant=minbase --format=tar --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/groff/*' \
      --dpkgopt='path-exclude=/usr/share/lintian/*' \
      --aptopt='Acquire::Check-Valid-Until "false"' --aptopt='Acquire::Check-Date "false"' \
      "${local_ca[@]}" bookworm "$cache/bookworm-slim.tar.part" \
      "deb http://deb.debian.org/debian bookworm main" \
      "deb http://deb.debian.org/debian bookworm-updates main" \
      "deb http://deb.debian.org/debian-security bookworm-security main" 2>"$work/mmdebstrap.log" ||
      { cat "$work/mmdebstrap.log" >&2; exit 1; }
    mv "$cache/bookworm-slim.tar.part" "$cache/bookworm-slim.tar"
  fi
  podman import -q "$cache/bookworm-slim.tar" docker.io/library/debian:bookworm-slim >/dev/null
fi
# The build stage's debian:bookworm differs from slim only in documentation: the same base does.
podman image exists docker.io/library/debian:bookworm ||
  podman tag docker.io/library/debian:bookworm-slim docker.io/library/debian:bookworm
phase base

# --- 2. build -------------------------------------------------------------------------------
# --format docker: the OCI image format has no HEALTHCHECK; podman drops it from an OCI image.
podman build --isolation chroot --format docker --build-arg BUILD_JOBS="${BUILD_JOBS:-2}" \
  -f "$root/Containerfile" -t "$image" "$root" >"$work/build.log" 2>&1 ||
  { tail -n 60 "$work/build.log" >&2; fail "podman build"; }
phase build
# The AI service's image (compose.yaml's `ai`).
podman build --isolation chroot --format docker -f "$root/services/ai/Containerfile" -t "$ai_image" "$root/services/ai" \
  >"$work/build-ai.log" 2>&1 || { tail -n 60 "$work/build-ai.log" >&2; fail "podman build (services/ai)"; }
phase build-ai

# --- 3. image facts -------------------------------------------------------------------------
fact() { podman image inspect --format "$1" "$image"; }
size=$(fact '{{.Size}}')
user=$(fact '{{.Config.User}}')
echo "image $image: $size bytes ($((size / 1000 / 1000)) MB), user $user"
((size < max_bytes)) || fail "the image is $size bytes, over $max_bytes"
[[ -n $user && ${user%%:*} != 0 && ${user%%:*} != root ]] || fail "the image runs as root ('$user')"
[[ $(fact '{{json .Config.ExposedPorts}}') == *'"3001/tcp"'* ]] || fail "port 3001 is not exposed"
[[ $(fact '{{json .Config.Healthcheck.Test}}') == *"/healthz"* ]] || fail "no HEALTHCHECK on /healthz"
[[ $(fact '{{.Config.StopSignal}}') == SIGTERM ]] || fail "the stop signal is not SIGTERM"
phase facts

# --- 4. run the image's entrypoint ----------------------------------------------------------
# A fresh MariaDB; spur-app (uid 10001 in the image) reaches its socket through the bind mount.
"$root/scripts/mariadb.sh" start "$work/db" spur --fresh >/dev/null
chmod 711 "$work/db"
# runtime_mounts ROOT: what a container runtime mounts over an image's files: /run, /tmp,
# /proc and /dev's basic nodes.
runtime_mounts() {
  local r=$1 dir node
  for dir in run tmp; do mount -t tmpfs -o mode=1777 tmpfs "$r/$dir"; mounts+=("$r/$dir"); done
  mount -t proc proc "$r/proc"; mounts+=("$r/proc")
  mount -t tmpfs -o mode=755 tmpfs "$r/dev"; mounts+=("$r/dev")
  for node in null zero random urandom; do
    touch "$r/dev/$node"; mount --bind "/dev/$node" "$r/dev/$node"; mounts+=("$r/dev/$node")
  done
}
free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_healthy() {  # wait_healthy URL PID NAME
  for _ in $(seq 300); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || fail "$3 exited"
    sleep 0.1
  done
  fail "$3 did not answer $1 in 30 s"
}

# The AI service from its image, as its entrypoint, user and ENV; on a free port, not 3002: the
# host's network is shared.
ai_root=$(podman image mount "$ai_image")
runtime_mounts "$ai_root"
ai_port=$(free_port)
ai_fact() { podman image inspect --format "$1" "$ai_image"; }
mapfile -t ai_env < <(ai_fact '{{range .Config.Env}}{{println .}}{{end}}' | sed '/^$/d')
mapfile -t ai_entrypoint < <(ai_fact '{{range .Config.Entrypoint}}{{println .}}{{end}}' | sed '/^$/d')
chroot --userspec="$(ai_fact '{{.Config.User}}')" "$ai_root" /usr/bin/env -i "${ai_env[@]}" \
  "${ai_entrypoint[@]}" "$ai_port" >"$work/ai.log" 2>&1 &
ai_pid=$!
wait_healthy "http://127.0.0.1:$ai_port/healthz" "$ai_pid" "the AI service"

mp=$(podman image mount "$image")
# The image's files read-only, as compose.yaml runs them (read_only: true), with what a runtime
# mounts and compose's app-data volume at /var/lib/spur-app.
r=$mp
runtime_mounts "$r"
mkdir -p "$r/run/mysqld"; mount --bind "$work/db" "$r/run/mysqld"; mounts+=("$r/run/mysqld")
workdir=$(fact '{{.Config.WorkingDir}}')
mkdir -p "$work/volume"; chown --reference="$r$workdir" "$work/volume"
mount --bind "$work/volume" "$r$workdir"; mounts+=("$r$workdir")
# Secrets as Docker/Podman mount them, owned by the image's user, mode 0400.
uid=${user%%:*}; gid=${user#*:}; [[ $gid == "$user" ]] && gid=$uid
mkdir -p "$r/run/secrets"
password=$(cat "$work/db/password")
printf 'mysql://spur:%s@localhost/spur?socket=/run/mysqld/mysqld.sock\n' "$password" >"$r/run/secrets/database_url"
head -c 48 /dev/urandom | base64 >"$r/run/secrets/jwt_secret"
chown "$uid:$gid" "$r/run/secrets"/*; chmod 400 "$r/run/secrets"/*

port=$(free_port)
mapfile -t image_env < <(fact '{{range .Config.Env}}{{println .}}{{end}}' | sed '/^$/d')
mapfile -t entrypoint < <(fact '{{range .Config.Entrypoint}}{{println .}}{{end}}' | sed '/^$/d')
mapfile -t cmd < <(fact '{{range .Config.Cmd}}{{println .}}{{end}}' | sed '/^$/d')
# compose.yaml's environment for the app, as docker-compose resolves it (defaults, no caller's
# variables), so the test runs what compose would; then this test's own: a free port (the host's
# network is shared), the AI service's address (no compose network to name it), quick job
# polling, a cheaper bcrypt.
mapfile -t settings < <(cd "$root" && env -i PATH=/usr/bin:/bin docker-compose -f compose.yaml config |
  /usr/bin/python3 -c 'import sys, yaml
for key, value in yaml.safe_load(sys.stdin)["services"]["app"]["environment"].items():
    print(f"{key}={value if value is not None else str()}")')
settings+=(PORT="$port" AI_SERVICE_URL="http://127.0.0.1:$ai_port" JOB_POLL_MS=50 BCRYPT_COST=10)
public_url=$(printf '%s\n' "${settings[@]}" | sed -n 's/^PUBLIC_URL=//p')
mail_dir=$(printf '%s\n' "${settings[@]}" | sed -n 's/^MAIL_DIR=//p')
[[ -n $public_url && $mail_dir == "$workdir"/* ]] || fail "compose.yaml's app sets no PUBLIC_URL, or a MAIL_DIR outside $workdir"
# "${in_image[@]}" CMD...: CMD in the image, as its user, with its ENV (then the test's
# settings) and WORKDIR. An array, not a function: started in the background, chroot is then $!
# itself (and by its exec, spur-app), not a subshell that a signal would stop instead.
in_image=(chroot --userspec="$uid:$gid" "$r" /usr/bin/env -i -C "${workdir:-/}" "${image_env[@]}" "${settings[@]}")
"${in_image[@]}" "${entrypoint[@]}" migrate >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log" >&2; fail "spur-app migrate"; }
"${in_image[@]}" "${entrypoint[@]}" "${cmd[@]}" >"$work/serve.log" 2>&1 &
pid=$!
base=http://127.0.0.1:$port
wait_healthy "$base/healthz" "$pid" spur-app
phase start

[[ $(curl -sS "$base/healthz") == *'"ok"'* ]] || fail "/healthz is not ok"
# The HEALTHCHECK's own command (["CMD", ...] or ["CMD-SHELL", "..."]) inside the image.
mapfile -t check < <(fact '{{range .Config.Healthcheck.Test}}{{println .}}{{end}}' | sed '/^$/d')
case ${check[0]} in
  CMD) check=("${check[@]:1}") ;;
  CMD-SHELL) check=(/bin/sh -c "${check[1]}") ;;
  *) fail "unknown HEALTHCHECK form ${check[0]}" ;;
esac
"${in_image[@]}" "${check[@]}" || fail "the HEALTHCHECK command fails against a healthy server"

json=(-sS -H 'Content-Type: application/json')
email="container-$RANDOM@example.com"
code=$(curl "${json[@]}" -o "$work/register.json" -w '%{http_code}' \
  -d "{\"email\":\"$email\",\"password\":\"password123\",\"name\":\"Con\"}" "$base/api/auth/register")
[[ $code == 201 ]] || fail "register answered $code: $(cat "$work/register.json")"
eml=
for _ in $(seq 200); do  # the job queue writes the verification mail into MAIL_DIR
  eml=$(grep -l "^To: $email" "$r$mail_dir"/*.eml 2>/dev/null | head -n1) && [[ -n $eml ]] && break
  sleep 0.05
done
[[ -n $eml ]] || fail "no verification mail in MAIL_DIR"
token=$(/usr/bin/python3 -c '
import email, re, sys
body = email.message_from_binary_file(open(sys.argv[1], "rb")).get_payload(decode=True).decode()
print(re.search(re.escape(sys.argv[2]) + r"/verify-email\?token=([A-Za-z0-9_-]+)", body).group(1))' "$eml" "$public_url") ||
  fail "no $public_url/verify-email link in the mail"
[[ $(curl "${json[@]}" -d "{\"token\":\"$token\"}" "$base/api/auth/verify-email/confirm") == *'"email_verified":true'* ]] ||
  fail "the mailed verification link did not verify the address"
login=$(curl "${json[@]}" -d "{\"email\":\"$email\",\"password\":\"password123\"}" "$base/api/auth/login")
jwt=$(/usr/bin/python3 -c 'import json, sys; print(json.loads(sys.argv[1])["token"])' "$login") || fail "login: $login"
[[ $(curl -sS -H "Authorization: Bearer $jwt" "$base/api/auth/me") == *"\"email\":\"$email\""* ]] ||
  fail "/api/auth/me with the login's token is not the account"
# A text, and its summary streamed by the AI service's container.
bearer=(-H "Authorization: Bearer $jwt")
content="Rivers shape the valleys they run through. Farmers plant rice beside the rivers. The bakery sells bread. Rivers bring water and rich soil to the farmers of the valleys."
created=$(curl "${json[@]}" "${bearer[@]}" -d "{\"title\":\"Rivers\",\"content\":\"$content\"}" "$base/api/texts")
id=$(/usr/bin/python3 -c 'import json, sys; print(json.loads(sys.argv[1])["text"]["id"])' "$created") || fail "POST /api/texts: $created"
summary=$(curl -sS -N -X POST "${bearer[@]}" "$base/api/texts/$id/summary?sentences=2")
[[ $summary == *"event: sentence"*"Rivers"*"event: done"* ]] || fail "no summary from the AI service: $summary"

page=$(curl -fsS "$base/") || fail "GET / failed"
[[ $page == *'<div id="root">'* && $page == *'<script'* ]] || fail "/ is not the web front end"
asset=$(grep -o '/assets/[^"]*\.js' <<<"$page" | head -n1)
[[ -n $asset ]] && curl -fsS -o /dev/null "$base$asset" || fail "the front end's script $asset is not served"
curl -fsS "$base/docs" | grep -q 'swagger-ui-bundle.js' || fail "/docs is not Swagger UI"
curl -fsS -o /dev/null "$base/docs/assets/swagger-ui-bundle.js" || fail "Swagger UI's bundle is not served"
phase checks

# SIGTERM (the image's STOPSIGNAL): drain, exit 0; then the health check must fail.
kill -TERM "$pid"
wait "$pid" || fail "spur-app exited with $? on SIGTERM"
pid=
grep -q "spur-app: stopped" "$work/serve.log" || fail "no 'stopped' line after SIGTERM"
if "${in_image[@]}" "${check[@]}" 2>/dev/null; then fail "the HEALTHCHECK command passes with no server"; fi
# The AI service stops on SIGTERM too (uvicorn, exec'd by serve.sh).
kill -TERM "$ai_pid"
wait "$ai_pid" || fail "the AI service exited with $? on SIGTERM"
ai_pid=
phase stop

echo "PASS: $image ($((size / 1000 / 1000)) MB) built, migrated, served and stopped"
