"""The AI service's HTTP face: routes, and the app uvicorn serves (`ai_service.app:app`).

    POST /v1/summarize  {"text", "max_sentences"=3 (1..20), "pace_ms"=0 (0..5000)}
                        -> text/event-stream: `sentence` events in document order, then `done`
    POST /v1/keywords   {"text", "max_keywords"=10 (1..50)} -> {"keywords": [{"term", "score"}]}
    GET  /healthz       -> {"status": "ok"}
    GET  /v1/stats      -> counters (stats.Stats)

Bodies over AI_MAX_BODY_BYTES (default 2 MiB) are refused with 413 (body_limit),
invalid ones with 422 (FastAPI). Beyond AI_MAX_QUEUE analyses admitted at once
(default 2 × workers + 4) a request is refused with 503 busy (admission). Each request is logged as one JSON line on
stderr (request_log). Analysis runs on worker threads (workers).
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import AsyncIterator

from fastapi import FastAPI, Request

from . import sse
from .admission import Admission, default_limit, release
from .body_limit import DEFAULT_LIMIT, BodyLimit
from .keywords import keywords
from .request_log import RequestLog, note_client_left, received_at
from .schemas import KeywordsRequest, SummarizeRequest
from .stats import Stats
from .summarize import summarize
from .workers import AnalysisWorkers


def create_app(max_body_bytes: int | None = None, max_queue: int | None = None) -> FastAPI:
    """The service; `max_body_bytes` defaults to $AI_MAX_BODY_BYTES, else 2 MiB;
    `max_queue` to $AI_MAX_QUEUE, else 2 × workers + 4."""
    if max_body_bytes is None:
        max_body_bytes = int(os.environ.get("AI_MAX_BODY_BYTES", DEFAULT_LIMIT))
    stats = Stats()
    workers = AnalysisWorkers()
    if max_queue is None:
        max_queue = int(os.environ.get("AI_MAX_QUEUE", default_limit(workers.threads)))
    if max_queue < 1:
        raise ValueError(f"AI_MAX_QUEUE must be at least 1, not {max_queue}")
    app = FastAPI(title="spur AI service")
    app.state.stats = stats

    @app.get("/healthz")
    async def healthz():
        return {"status": "ok"}

    @app.get("/v1/stats")
    async def get_stats():
        return stats.snapshot()

    @app.post("/v1/keywords")
    async def post_keywords(body: KeywordsRequest):
        found = await workers.run(keywords, body.text, body.max_keywords)
        stats.keywords += 1
        return {"keywords": [{"term": k.term, "score": k.score} for k in found]}

    @app.post("/v1/summarize")
    async def post_summarize(body: SummarizeRequest, request: Request):
        return sse.EventStream(_summary_events(body, request, stats, workers))

    # The last added is the outermost: the log sees what the body limit and
    # admission refuse; a declared Content-Length over the limit is refused
    # before admission is asked for a slot.
    app.add_middleware(Admission, limit=max_queue, stats=stats)
    app.add_middleware(BodyLimit, limit=max_body_bytes)
    app.add_middleware(RequestLog)
    return app


async def _summary_events(
    body: SummarizeRequest, request: Request, stats: Stats, workers: AnalysisWorkers
) -> AsyncIterator[bytes]:
    """The summary as events; stops, counted as cancelled, as soon as the client leaves.

    The client leaving reaches this generator as CancelledError at an `await`,
    or as GeneratorExit at a `yield` (sse.EventStream closes it). Either way
    nothing more is computed or sent, and it is counted exactly once.
    """
    stats.summaries_started += 1
    try:
        try:
            summary = await workers.run(summarize, body.text, body.max_sentences)
        finally:
            release(request.scope)  # the analysis is over: pacing the events needs no slot
        for index, chosen in enumerate(summary.sentences):
            # Also a cancellation point when pace_ms is 0: once the client has
            # gone, the server's send returns without suspending, so without an
            # await here a departure during the analysis would go unnoticed.
            await asyncio.sleep(body.pace_ms / 1000)
            yield sse.event(
                "sentence",
                {"index": index, "text": chosen.text, "position": chosen.position, "score": round(chosen.score, 6)},
            )
        await asyncio.sleep(0)  # the same, before `done`
        elapsed_ms = (time.perf_counter() - received_at(request)) * 1000
        yield sse.event(
            "done",
            {"sentences": len(summary.sentences), "input_sentences": summary.input_sentences, "elapsed_ms": round(elapsed_ms, 3)},
        )
    except (asyncio.CancelledError, GeneratorExit):
        stats.summaries_cancelled += 1
        note_client_left(request)
        raise
    stats.summaries_completed += 1


app = create_app()
