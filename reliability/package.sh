#!/usr/bin/env bash
# The Debian packages, for real: builds libspur-dev and spur-app with cpack (the package preset),
# makes a clean Debian 12 root with mmdebstrap, installs both debs there with apt (their
# Depends resolved from Debian's archive), then inside that root:
#   - builds a consumer of libspur-dev with CMake (find_package(spur), spur::mysql too) and one
#     with plain pkg-config (g++ ... $(pkg-config --cflags --libs spur)), runs each and asks it
#     over a real socket; makes a project with the packaged `spur new`, builds it and runs its test;
#   - checks the spur-app system user, the systemd units, /etc/spur-app/env (640 root:spur-app,
#     a conffile) and the generated JWT secret (600 spur-app);
#   - runs spur-app as its unit would (the unit's ExecStartPre and ExecStart, as the spur-app
#     user, with /etc/spur-app/env plus the DATABASE_URL an admin adds there, and the socket
#     handed over the way spur-app.socket does, by systemd-socket-activate) against a MariaDB
#     started here, whose socket is the root's /run/mysqld/mysqld.sock, and GETs /healthz,
#     /docs and /.
# systemd cannot run in the chroot: the units are checked with systemd-analyze verify instead.
# Prints each step's time and the .deb sizes. Needs root (mmdebstrap, chroot).
#   reliability/package.sh [WORK_DIR]     (default: build/package-test; wiped first)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(realpath -m "${1:-$repo/build/package-test}")
root=$work/root
start=$SECONDS; last=$SECONDS; times=()
step() { times+=("$(printf '%-54s %5ds' "$1" $((SECONDS - last)))"); last=$SECONDS; echo "== $1 ($((SECONDS - start))s)"; }
report() {
  echo "== times"; printf '  %s\n' "${times[@]}"; printf '  %-54s %5ds\n' total $((SECONDS - start))
}
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
fail() { echo "FAIL: $*"; exit 1; }

pids=()
cleanup() {
  status=$?
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  if [[ -d $root/run/mysqld ]]; then "$repo/scripts/mariadb.sh" stop "$root/run/mysqld" >/dev/null 2>&1 || true; fi
  mountpoint -q "$root/proc" && umount "$root/proc"
  report
  exit $status
}
trap cleanup EXIT

# dpkg-dev: dpkg-shlibdeps computes spur-app's Depends; mmdebstrap: the clean root; systemd:
# systemd-socket-activate and systemd-analyze.
"$repo/scripts/install-deps.sh" dpkg-dev mmdebstrap systemd
step "install the tools"

# 1. The packages.
(cd "$repo" && cmake --preset package >/dev/null && cmake --build --preset package)
step "build (package preset)"
rm -f "$repo"/build/package/*.deb
(cd "$repo/build/package" && cpack -G DEB >/dev/null)
debs=("$repo"/build/package/*.deb)
[[ ${#debs[@]} -eq 2 ]] || fail "expected two debs, got: ${debs[*]}"
step "cpack -G DEB"
for deb in "${debs[@]}"; do
  echo "== $(basename "$deb"): $(du -h "$deb" | cut -f1) ($(stat -c %s "$deb") bytes), installed $(dpkg-deb -f "$deb" Installed-Size) KiB"
  dpkg-deb -f "$deb" Package Depends Recommends | sed 's/^/     /'
done

# 2. A clean Debian 12 root (apt's lists kept out: updated below).
# A run stopped before its cleanup may have left the root's /proc mounted: never rm -rf through it.
if mountpoint -q "$root/proc"; then umount "$root/proc"; fi
rm -rf --one-file-system "$work" && mkdir -p "$work"
mmdebstrap --quiet --variant=apt bookworm "$root"
# /proc as on a real machine: an installed spur-app finds its share/ from /proc/self/exe.
mount -t proc proc "$root/proc"
step "mmdebstrap --variant=apt bookworm"
mkdir -p "$root/tmp/debs" && cp "${debs[@]}" "$root/tmp/debs/"
# The compilers, Ninja and curl are the test's, not the packages' (libspur-dev only Recommends
# g++, cmake, ninja-build); systemd gives systemd-analyze the targets the units depend on, as on a real machine.
in_root sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  /tmp/debs/libspur-dev_*.deb /tmp/debs/spur-app_*.deb g++ cmake make ninja-build curl systemd >/tmp/apt.log' \
  || { tail -n 40 "$root/tmp/apt.log"; fail "apt-get install of the debs"; }
step "apt-get install ./libspur-dev*.deb ./spur-app*.deb"

# 3. What spur-app's package set up.
entry=$(in_root getent passwd spur-app) || fail "no spur-app user"
IFS=: read -r _ _ uid gid _ _ shell <<<"$entry"
((uid < 1000)) || fail "spur-app is not a system user (uid $uid)"
[[ $shell == */nologin || $shell == /bin/false ]] || fail "spur-app has a login shell: $shell"
in_root getent group spur-app >/dev/null || fail "no spur-app group"
for unit in spur-app.service spur-app.socket; do
  [[ -f $root/lib/systemd/system/$unit ]] || fail "no /lib/systemd/system/$unit"
done
[[ $(in_root stat -c '%a %U:%G' /etc/spur-app/env) == "640 root:spur-app" ]] \
  || fail "/etc/spur-app/env is $(in_root stat -c '%a %U:%G' /etc/spur-app/env)"
in_root dpkg-query -W -f='${Conffiles}\n' spur-app | grep -q '^ /etc/spur-app/env ' || fail "/etc/spur-app/env is not a conffile"
[[ $(in_root stat -c '%a %U:%G' /etc/spur-app) == "750 root:spur-app" ]] || fail "/etc/spur-app is not 750 root:spur-app"
[[ $(in_root stat -c '%a %U' /etc/spur-app/jwt-secret) == "600 spur-app" ]] || fail "the JWT secret is not 600 spur-app"
[[ $(tr -d '\n' <"$root/etc/spur-app/jwt-secret" | wc -c) -ge 32 ]] || fail "the JWT secret is short"
[[ -f $root/usr/share/spur-app/docs/swagger-ui-bundle.js ]] || fail "no Swagger UI in /usr/share/spur-app/docs"
[[ -f $root/usr/share/spur-app/web/index.html ]] || fail "no web front end in /usr/share/spur-app/web"
echo "ok: user spur-app ($uid:$gid, $shell), units, /etc/spur-app/env 640 root:spur-app (conffile), jwt-secret 600"

# The units, as systemd reads them in this root (its /usr/bin/spur-app is the one they name); an
# unknown key is only a warning to systemd, so any output fails too.
verify=$(systemd-analyze verify --root="$root" spur-app.socket spur-app.service 2>&1) || fail "systemd-analyze verify: $verify"
[[ -z $verify ]] || fail "systemd-analyze verify: $verify"
echo "ok: systemd-analyze verify"
step "checks of the installed files"

# 4. Consumers of libspur-dev, built in the root; each serves /hello/NAME on a real socket.
cp "$repo/tests/consumers/package/server.cpp" "$repo/tests/consumers/package/CMakeLists.txt" "$root/tmp/"
mkdir -p "$root/tmp/consumer" && mv "$root/tmp/server.cpp" "$root/tmp/CMakeLists.txt" "$root/tmp/consumer/"
in_root sh -c 'cd /tmp/consumer && cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build build -j2 >/dev/null' \
  || fail "the CMake consumer did not build"
step "consumer built with CMake (find_package)"
in_root sh -c 'cd /tmp/consumer && g++ -O1 -o server-pc server.cpp $(pkg-config --cflags --libs spur)' \
  || fail "the pkg-config consumer did not build"
# spur-mysql.pc names libspur_mysql, spur and libmariadb.
mysql_libs=$(in_root pkg-config --libs spur-mysql)
[[ $mysql_libs == *-lspur_mysql*-lspur* && $mysql_libs == *-lmariadb* ]] || fail "pkg-config --libs spur-mysql: $mysql_libs"
step "consumer built with pkg-config"
# `spur new` from the package: a project from /usr/share/spur/template, built with its presets
# against the installed spur, and its test run.
in_root sh -c 'cd /tmp && spur new hello >/dev/null && cd hello && cmake --preset dev >/dev/null &&
  cmake --build --preset dev >/dev/null && ctest --preset dev >/tmp/hello-test.log' \
  || { cat "$root/tmp/hello-test.log" 2>/dev/null; fail "a spur new project did not build or pass its test"; }
echo "ok: spur new hello built against the package and passed its test"
step "spur new project built and tested"
ask_consumer() {  # BINARY EXPECTED_VIA
  local log=$work/consumer.log pid port=
  # Not through in_root: a function in the background is a subshell, and $! would be its pid.
  chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin "$1" >"$log" 2>&1 &
  pid=$!; pids+=("$pid")
  for _ in $(seq 100); do port=$(sed -n 's/^listening on \([0-9]*\)$/\1/p' "$log"); [[ -n $port ]] && break; sleep 0.05; done
  [[ -n $port ]] || { cat "$log"; fail "$1 did not start"; }
  body=$(curl -fsS --max-time 10 "http://127.0.0.1:$port/hello/deb")
  [[ $body == "{\"hello\":\"deb\",\"via\":\"$2\"}" ]] || fail "$1 answered $body"
  kill -TERM "$pid"
  wait "$pid" || fail "$1 did not stop cleanly"
  echo "ok: $1 answered $body on port $port"
}
ask_consumer /tmp/consumer/build/server cmake
ask_consumer /tmp/consumer/server-pc pkg-config
step "consumers answered over a socket"

# 5. spur-app from the package, as its units run it. MariaDB's socket is the root's
# /run/mysqld/mysqld.sock, where a Debian MariaDB puts it; its directory is opened to the
# spur-app user as mariadb-server's is.
url=$("$repo/scripts/mariadb.sh" start "$root/run/mysqld" spur --fresh)
chmod 711 "$root/run/mysqld"
url=${url//$root/}  # the socket's path as seen inside the root
# What the admin does: DATABASE_URL into the env file.
printf 'DATABASE_URL=%s\n' "$url" >>"$root/etc/spur-app/env"
exec_start_pre=$(sed -n 's/^ExecStartPre=//p' "$root/lib/systemd/system/spur-app.service")
exec_start=$(sed -n 's/^ExecStart=//p' "$root/lib/systemd/system/spur-app.service")
listen=$(sed -n 's/^ListenStream=//p' "$root/lib/systemd/system/spur-app.socket")
fdname=$(sed -n 's/^FileDescriptorName=//p' "$root/lib/systemd/system/spur-app.socket")
[[ $exec_start == /usr/bin/spur-app* && -n $listen && -n $fdname ]] || fail "unexpected units: $exec_start, $listen, $fdname"
# User=spur-app with EnvironmentFile=/etc/spur-app/env (the file's NAME=value lines, read by sh).
unit_env='set -a; . /etc/spur-app/env; set +a; exec "$@"'
# $exec_start_pre and $exec_start unquoted on purpose: command lines, split into words as systemd does.
# shellcheck disable=SC2086
chroot --userspec="$uid:$gid" "$root" /usr/bin/env -i PATH=/usr/bin:/bin /bin/sh -c "$unit_env" sh $exec_start_pre \
  || fail "ExecStartPre ($exec_start_pre)"
step "spur-app migrate (ExecStartPre)"
# The socket on another port than the unit's 127.0.0.1:3001, which may be taken on this host.
log=$work/spur-app.log
port=
for attempt in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 12000))
  # systemd-socket-activate gives its child only LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES; each
  # exec after it (chroot, sh) keeps the pid that LISTEN_PID names.
  # shellcheck disable=SC2086
  env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin systemd-socket-activate -l "127.0.0.1:$port" --fdname="$fdname" \
    /usr/sbin/chroot --userspec="$uid:$gid" "$root" /bin/sh -c "PATH=/usr/bin:/bin; $unit_env" sh $exec_start 2>"$log" &
  activator=$!
  for _ in $(seq 100); do grep -q "Listening on" "$log" 2>/dev/null && break; kill -0 $activator 2>/dev/null || break; sleep 0.05; done
  kill -0 $activator 2>/dev/null && break
  echo "port $port taken (try $attempt)"
done
pids+=("$activator")
health=$(curl -fsS --max-time 30 "http://127.0.0.1:$port/healthz") || { cat "$log"; fail "/healthz"; }
[[ $health == *'"ok"'* ]] || fail "/healthz answered $health"
grep -q "API docs at /docs from /usr/share/spur-app/docs" "$log" || { cat "$log"; fail "Swagger UI not found by the packaged binary"; }
grep -q "web front end at / from /usr/share/spur-app/web" "$log" || { cat "$log"; fail "front end not found by the packaged binary"; }
docs_status=$(curl -sS -o "$work/docs.html" -w '%{http_code}' -L --max-time 10 "http://127.0.0.1:$port/docs/")
[[ $docs_status == 200 ]] || fail "/docs/ answered $docs_status"
grep -q swagger-ui-bundle.js "$work/docs.html" || fail "/docs/ is not Swagger UI's page"
[[ $(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/docs/assets/swagger-ui-bundle.js") == 200 ]] \
  || fail "/docs/assets/swagger-ui-bundle.js"
index_status=$(curl -sS -o "$work/index.html" -w '%{http_code}' --max-time 10 "http://127.0.0.1:$port/")
[[ $index_status == 200 ]] || fail "/ answered $index_status"
cmp -s "$work/index.html" "$root/usr/share/spur-app/web/index.html" || fail "/ is not the packaged index.html"
# It took the socket it was handed (JSON log: the port appears in the "listening" record).
grep -q "listening on http://127.0.0.1:$port" "$log" || { cat "$log"; fail "spur-app did not serve the handed-over socket"; }
kill -TERM "$activator"
wait "$activator" || { cat "$log"; fail "spur-app did not exit 0 on SIGTERM"; }
echo "ok: spur-app from the package answered /healthz, /docs/ and / on a socket handed over like spur-app.socket's"
step "spur-app started from the package"

# 6. Reinstalling (what an upgrade does to the files) keeps the admin's env and the secret;
# purge removes /etc/spur-app and leaves the user.
secret_before=$(md5sum <"$root/etc/spur-app/jwt-secret")
in_root sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --reinstall /tmp/debs/spur-app_*.deb >/tmp/apt.log 2>&1' \
  || { tail -n 20 "$root/tmp/apt.log"; fail "reinstall"; }
grep -q '^DATABASE_URL=' "$root/etc/spur-app/env" || fail "the reinstall lost DATABASE_URL in /etc/spur-app/env"
[[ $(in_root stat -c '%a %U:%G' /etc/spur-app/env) == "640 root:spur-app" ]] || fail "the reinstall changed env's mode"
[[ $(md5sum <"$root/etc/spur-app/jwt-secret") == "$secret_before" ]] || fail "the reinstall changed the JWT secret"
# The state directory systemd makes for the unit (StateDirectory=; no systemd here), with a mail.
mkdir -p "$root/var/lib/spur-app/mail" && echo reset-link >"$root/var/lib/spur-app/mail/1.eml"
in_root sh -c 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq spur-app >/tmp/apt.log 2>&1' || fail "purge"
[[ ! -e $root/etc/spur-app && ! -e $root/usr/bin/spur-app ]] || fail "purge left /etc/spur-app or the binary"
[[ ! -e $root/var/lib/spur-app ]] || fail "purge left /var/lib/spur-app"
in_root getent passwd spur-app >/dev/null || fail "purge removed the spur-app user"
echo "ok: reinstall kept env and the secret; purge removed /etc/spur-app and /var/lib/spur-app"
step "reinstall and purge"
echo "package test PASSED"
