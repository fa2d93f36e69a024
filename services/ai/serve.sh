#!/bin/sh
# Runs the AI service on 127.0.0.1 (or $AI_HOST), port $1 (default 3002), from any
# directory. `exec` makes this process uvicorn itself, so a SIGTERM to it stops the
# server. uvicorn's access log is off: ai_service logs one JSON line per request.
# Port 0 is not supported (uvicorn would not say which port it got).
# uvicorn has no timeout for reading a request's headers or body, only for an idle
# keep-alive connection (5 s, set explicitly here): do not expose this service;
# it listens on 127.0.0.1 and spur-app is its only client (see README).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
port=${1:-3002}
exec /usr/bin/python3 -m uvicorn ai_service.app:app --app-dir "$here" \
    --host "${AI_HOST:-127.0.0.1}" --port "$port" --no-access-log \
    --timeout-keep-alive 5
