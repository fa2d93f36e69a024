"""Counters behind GET /v1/stats.

Only the event loop's thread changes them (the endpoints and the summary
streams run there; only the analysis itself runs on worker threads), so plain
integers need no lock.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Stats:
    summaries_started: int = 0
    summaries_completed: int = 0  # the `done` event went out
    summaries_cancelled: int = 0  # the client left before `done` went out
    keywords: int = 0  # keyword lists answered
    busy_refused: int = 0  # analysis requests refused with 503 busy (admission)
    admitted: int = 0  # a gauge: analysis requests admitted now (reading, waiting or analysed)

    def snapshot(self) -> dict[str, int]:
        return asdict(self)
