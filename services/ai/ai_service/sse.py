"""Server-sent events: the wire format of one event, and a response that streams them.

An event is `event: <name>\\ndata: <one-line JSON>\\n\\n`. JSON escapes line
breaks inside strings, so the data is always one line.
"""

from __future__ import annotations

import json
from typing import Any, AsyncIterator

from starlette.responses import StreamingResponse
from starlette.types import Send


def event(name: str, data: Any) -> bytes:
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"event: {name}\ndata: {payload}\n\n".encode()


class EventStream(StreamingResponse):
    """A `text/event-stream` response (not cached) whose generator is always closed when it ends.

    When the client leaves, Starlette cancels the task that writes the stream.
    If that task was suspended inside the generator (a sleep), the generator
    sees CancelledError at once; if it was suspended in the server's `send`,
    the generator is left parked at a `yield` and would only be finalised
    whenever it is garbage-collected. Closing it here makes its `finally`
    (GeneratorExit) run before the response returns, in both cases.
    """

    media_type = "text/event-stream"

    def __init__(self, events: AsyncIterator[bytes]) -> None:
        super().__init__(events, headers={"Cache-Control": "no-cache"})

    async def stream_response(self, send: Send) -> None:
        try:
            await super().stream_response(send)
        finally:
            await self.body_iterator.aclose()
