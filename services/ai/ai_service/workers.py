"""Worker threads for text analysis, so the event loop never runs it.

Splitting, TF-IDF and PageRank of a large text take up to a second or two of
CPU. On the event loop that would stall every other request and stream; on
anyio's shared pool (40 threads) many large texts at once would all run in
parallel on a 2-core machine and each take far longer. Analysis gets its own
limit instead — one thread per core — and requests beyond it wait their turn.
"""

from __future__ import annotations

import os
from typing import Callable, TypeVar

import anyio.to_thread

T = TypeVar("T")


class AnalysisWorkers:
    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads or os.cpu_count() or 1
        self._limiter: anyio.CapacityLimiter | None = None

    async def run(self, function: Callable[..., T], *args) -> T:
        """`function(*args)` on a worker thread; waits for a free one first."""
        # Created on first use: an anyio limiter belongs to the running event loop.
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.threads)
        return await anyio.to_thread.run_sync(function, *args, limiter=self._limiter)
