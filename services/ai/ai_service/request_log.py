"""RequestLog: one JSON line on stderr per request, written when its response has ended.

    {"time": "2026-12-06T17:45:34.123Z", "method": "POST", "path": "/v1/summarize",
     "status": 200, "ms": 912.4, "traceparent": "00-…-01", "trace_id": "4bf9…",
     "request_id": "r-1", "cancelled": true}

`ms` runs from the request's arrival to the end of its response, so for an
event stream the line is written when the stream ends; `cancelled` is present
(true) only for a stream whose client left first (`note_client_left`).
`trace_id` is that of a valid W3C traceparent, else null, so a trace that
entered at spur-app can be found here with grep. Header values and the path
are cut to 256 characters: a client must not be able to write long lines into
the log.

It is the outermost middleware, so it also sees refusals (413) and errors: an
exception that escapes the app is logged as 500.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timezone
from typing import Callable

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .traceparent import trace_id_of

MAX_LOGGED_CHARS = 256
_RECEIVED_AT = "ai_service.received_at"
_CLIENT_LEFT = "ai_service.client_left"


def received_at(request: Request) -> float:
    """When the request arrived, on time.perf_counter()'s clock."""
    return request.scope.get("state", {}).get(_RECEIVED_AT, time.perf_counter())


def note_client_left(request: Request) -> None:
    """Marks the request's stream as ended by its client leaving (logged as cancelled)."""
    request.scope.setdefault("state", {})[_CLIENT_LEFT] = True


def write_stderr_line(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


class RequestLog:
    def __init__(self, app: ASGIApp, write_line: Callable[[str], None] = write_stderr_line) -> None:
        self.app = app
        self.write_line = write_line

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state[_RECEIVED_AT] = start = time.perf_counter()
        status = 500  # unless a response starts: an exception escaped the app

        async def noting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_send)
        finally:
            elapsed_ms = (time.perf_counter() - start) * 1000
            self.write_line(json.dumps(_record(scope, status, elapsed_ms, state.get(_CLIENT_LEFT, False))))


def _record(scope: Scope, status: int, elapsed_ms: float, client_left: bool) -> dict:
    traceparent = _header(scope, b"traceparent")
    record = {
        "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "method": scope["method"],
        "path": scope["path"][:MAX_LOGGED_CHARS],
        "status": status,
        "ms": round(elapsed_ms, 3),
        "traceparent": _cut(traceparent),
        "trace_id": trace_id_of(traceparent),
        "request_id": _cut(_header(scope, b"x-request-id")),
    }
    if client_left:
        record["cancelled"] = True
    return record


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def _cut(value: str | None) -> str | None:
    return None if value is None else value[:MAX_LOGGED_CHARS]
