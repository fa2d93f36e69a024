"""Admission: at most `limit` analyses admitted at once; beyond that 503, at once.

    503  Retry-After: 1  {"detail": "busy"}

Analysis runs on one worker thread per core (workers); without a bound,
requests beyond them all waited, each holding its body — 60 simultaneous
1.9 MB summaries took the service from 55 to 393 MB. Now a POST to an analysis
route takes a slot when its headers arrive, before a byte of its body is read
(the body limit's Content-Length check comes first), and gives it back when
its analysis has ended (`release`; for a summary that is before its events are
paced out) or, at the latest, when its response has. A request that finds no
free slot is refused without its body being read, and counted in
`busy_refused`.

So the slots cover reading the body, waiting for a worker and the analysis:
at most `limit` bodies are held at once. The default is 2 × workers + 4;
$AI_MAX_QUEUE sets it. A client that uploads slowly holds its slot as long as
it takes, which is one reason the service must not face the internet
(README: it listens on 127.0.0.1 and is called by spur-app only).
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from .stats import Stats

ANALYSIS_PATHS = frozenset({"/v1/summarize", "/v1/keywords"})
_HOLDS_SLOT = "ai_service.admission_slot"


def default_limit(workers: int) -> int:
    return 2 * workers + 4


class Admission:
    def __init__(self, app: ASGIApp, limit: int, stats: Stats) -> None:
        self.app = app
        self.limit = limit
        self.stats = stats
        self.admitted = 0  # only the event loop's thread changes it

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in ANALYSIS_PATHS:
            await self.app(scope, receive, send)
            return
        if self.admitted >= self.limit:
            self.stats.busy_refused += 1
            response = JSONResponse({"detail": "busy"}, status_code=503, headers={"Retry-After": "1"})
            await response(scope, receive, send)
            return
        self.admitted += 1
        self.stats.admitted = self.admitted
        state = scope.setdefault("state", {})
        state[_HOLDS_SLOT] = self
        try:
            await self.app(scope, receive, send)
        finally:
            release(scope)

    def _give_back(self) -> None:
        self.admitted -= 1
        self.stats.admitted = self.admitted


def release(scope: Scope) -> None:
    """Gives back the request's slot, if it holds one; later calls do nothing."""
    admission = scope.get("state", {}).pop(_HOLDS_SLOT, None)
    if admission is not None:
        admission._give_back()
