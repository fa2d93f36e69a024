"""Reading server-sent events from an httpx streaming response, as they arrive."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Iterator

import httpx


@dataclass
class Event:
    name: str
    data: dict
    arrived: float  # time.monotonic() when its blank line was read


def events(response: httpx.Response) -> Iterator[Event]:
    """Each event of `response` when it has arrived whole; insists on `event:` then `data:`."""
    lines: list[str] = []
    for line in response.iter_lines():
        line = line.rstrip("\r\n")  # httpx 0.23 keeps the line ending, later versions drop it
        if line:
            lines.append(line)
            continue
        assert len(lines) == 2 and lines[0].startswith("event: ") and lines[1].startswith("data: "), lines
        yield Event(lines[0][len("event: "):], json.loads(lines[1][len("data: "):]), time.monotonic())
        lines = []
    assert lines == [], f"an unterminated event: {lines}"
