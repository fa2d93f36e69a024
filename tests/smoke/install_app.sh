#!/usr/bin/env bash
# spur-app installed the way a user or a package installs it: `cmake --install BUILD
# --component app` into a scratch prefix gives bin/spur-app, share/spur-app/docs (Swagger UI)
# and share/spur-app/web (when the build made the front end); the installed binary, run with
# no DOCS_ASSETS or WEB_ROOT, finds them beside itself (not in the build tree) and serves /docs,
# its assets and /.
# install_app.sh BUILD_DIR DATABASE_URL
set -euo pipefail
source "$(dirname "$0")/lib.sh"
build=$1; url=$2
prefix=$(mktemp -d)
log=$prefix/serve.log
pid=
trap '[[ -n $pid ]] && kill -9 $pid 2>/dev/null; rm -rf "$prefix"' EXIT
cmake --install "$build" --component app --prefix "$prefix" >/dev/null
bin=$prefix/bin/spur-app; docs=$prefix/share/spur-app/docs; web=$prefix/share/spur-app/web
[[ -x $bin ]] || { echo "no bin/spur-app"; exit 1; }
for f in swagger-ui.css swagger-ui-bundle.js LICENSE NOTICE; do
  [[ -f $docs/$f ]] || { echo "no share/spur-app/docs/$f"; ls -R "$prefix"; exit 1; }
done
# Only what the page loads and the licences: no demo page, no source maps.
[[ ! -e $docs/index.html && -z $(find "$docs" -name '*.map') ]] || { echo "more than Swagger UI's page files"; ls "$docs"; exit 1; }
# Nothing outside the prefix's bin and share (the package's /etc and systemd files are not part of it).
extra=$(cd "$prefix" && find . -mindepth 1 -maxdepth 1 ! -name bin ! -name share ! -name serve.log)
[[ -z $extra ]] || { echo "installed outside bin and share: $extra"; exit 1; }

export DATABASE_URL=$url JWT_SECRET=0123456789abcdef0123456789abcdef BCRYPT_COST=10 LOG_FORMAT=off
env -u DOCS_ASSETS -u WEB_ROOT "$bin" migrate
env -u DOCS_ASSETS -u WEB_ROOT "$bin" serve --port 0 2>"$log" &
pid=$!
port=$(wait_for_port "$log")
grep -q "API docs at /docs from $docs\$" "$log" || { echo "Swagger UI not taken from the prefix:"; cat "$log"; exit 1; }
page=$(curl -fsS "http://127.0.0.1:$port/docs") || { echo "/docs did not answer 200"; exit 1; }
[[ $page == *swagger-ui-bundle.js* ]] || { echo "/docs is not Swagger UI's page"; exit 1; }
cmp -s <(curl -fsS "http://127.0.0.1:$port/docs/assets/swagger-ui-bundle.js") "$docs/swagger-ui-bundle.js" \
  || { echo "/docs/assets/swagger-ui-bundle.js is not the installed file"; exit 1; }
if [[ -f $web/index.html ]]; then
  grep -q "web front end at / from $web\$" "$log" || { echo "the front end not taken from the prefix:"; cat "$log"; exit 1; }
  cmp -s <(curl -fsS "http://127.0.0.1:$port/") "$web/index.html" || { echo "/ is not the installed index.html"; exit 1; }
fi
kill -TERM $pid
wait $pid
pid=
echo "installed app ok"
