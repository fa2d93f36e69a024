"""BodyLimit: a request body over `limit` bytes is refused with 413, never read whole.

    {"detail": "body too large", "limit": <limit>}

* A declared Content-Length over the limit is refused before a byte of the
  body is read; the app is not called.
* A body without one (chunked) is counted as it arrives. At the chunk that
  passes the limit the 413 goes out and the app is told the client left
  (`http.disconnect`), so it stops reading; whatever it answers to that is
  dropped. At most limit + one chunk is ever held.

The connection stays open: uvicorn reads the rest of a refused body and throws
it away, unbuffered, then serves the next request. Closing instead would make
the kernel reset a connection with unread data, and a client still uploading
would see the reset, not the 413.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_LIMIT = 2 * 1024 * 1024


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int = DEFAULT_LIMIT) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await self._refuse(scope, receive, send)
            return

        received = 0
        refused = False
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    refused = True
                    if not response_started:
                        await self._refuse(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if refused:
                return  # the app's answer to a body it never got whole
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        await self.app(scope, counting_receive, guarded_send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse({"detail": "body too large", "limit": self.limit}, status_code=413)
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            # The server has already rejected a malformed one; be safe anyway.
            return int(value) if value.isdigit() else None
    return None
