#!/usr/bin/env bash
# The /docs page in a real browser: starts examples/typed_api with Swagger UI's npm files,
# loads /docs in headless Chromium (Debian's), and requires that Swagger UI rendered every
# operation of the document — so the page works offline, from spur's own files, under its
# Content-Security-Policy (a script the CSP blocked would leave the page empty) — and that the
# browser reported no CSP violation.
# Usage: docs_page.sh TYPED_API_BINARY SWAGGER_UI_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bin=$1; ui=$2
browser=$(command -v chromium || command -v chromium-browser || true)
[[ -n $browser ]] || { echo "no chromium: scripts/test.sh installs Debian's chromium"; exit 1; }
work=$(mktemp -d)
SWAGGER_UI=$ui "$bin" 0 2>"$work/log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
port=$(wait_for_port "$work/log")

# The flags keep Chromium off the network it would otherwise call home to (closed here).
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-sync \
  --disable-background-networking --disable-component-update --user-data-dir="$work/profile" \
  --enable-logging=stderr --v=0 --virtual-time-budget=10000 --dump-dom "http://127.0.0.1:$port/docs" \
  >"$work/dom.html" 2>"$work/browser.log" || { cat "$work/browser.log"; exit 1; }

for op in "POST /tasks" "GET /tasks" "GET /tasks/{id}"; do
  method=${op%% *}; path=${op#* }
  grep -q "opblock-summary-method\">$method<" "$work/dom.html" || { echo "Swagger UI shows no $method operation"; exit 1; }
  grep -q "data-path=\"$path\"" "$work/dom.html" || { echo "Swagger UI shows no $op"; head -c 2000 "$work/dom.html"; exit 1; }
  echo "ok: /docs renders $op"
done
grep -q 'Create a task' "$work/dom.html" || { echo "no summary rendered"; exit 1; }
if grep -i "content security policy" "$work/browser.log"; then echo "the page broke its own CSP"; exit 1; fi
echo "ok: no CSP violation"
