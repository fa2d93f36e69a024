"""Admission control over a real socket: a server with AI_MAX_QUEUE=1, whose one
slot a client holds by starting an upload and not finishing it (a slot is taken
when the headers arrive, so this needs nothing test-only in the service)."""

from __future__ import annotations

import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from live_server import LiveServer

BUSY = {"detail": "busy"}
KEYWORDS = {"text": "Admission control keeps the queue short. The queue stays short.", "max_keywords": 2}


@pytest.fixture(scope="module")
def one_slot():
    with LiveServer.start(env={"AI_MAX_QUEUE": "1"}) as live:
        yield live
    assert "Traceback" not in live.stderr() and "ERROR" not in live.stderr(), live.stderr()


@pytest.fixture
def http(one_slot):
    with httpx.Client(base_url=one_slot.base_url, timeout=10) as client:
        yield client


class StalledUpload:
    """A keywords request whose chunked body is sent up to its last chunk only."""

    def __init__(self, port: int) -> None:
        self.body = json.dumps(KEYWORDS).encode()
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        head = b"POST /v1/keywords HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        first = self.body[:10]
        self.sock.sendall(head + b"%x\r\n%s\r\n" % (len(first), first))

    def finish(self) -> bytes:
        rest = self.body[10:]
        self.sock.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(rest), rest))
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        self.sock.close()
        return answer


def refused_once_admitted(http: httpx.Client) -> httpx.Response:
    """A keywords request once the stalled upload holds the one slot (its `admitted` gauge)."""
    deadline = time.monotonic() + 10
    while http.get("/v1/stats").json()["admitted"] != 1:
        assert time.monotonic() < deadline, "the stalled upload was never admitted"
        time.sleep(0.02)  # a gauge: no event to wait on
    return http.post("/v1/keywords", json=KEYWORDS)


def test_beyond_the_limit_a_request_is_refused_at_once_and_the_service_stays_healthy(one_slot, http):
    before = http.get("/v1/stats").json()["busy_refused"]
    stalled = StalledUpload(one_slot.port)
    try:
        refused = refused_once_admitted(http)
        assert refused.status_code == 503
        assert refused.json() == BUSY
        assert refused.headers["retry-after"] == "1"
        assert refused.elapsed.total_seconds() < 1

        # 20 large summaries at once: all refused without their bodies being
        # waited for, none queued.
        big = json.dumps({"text": "Large texts wait no more. " * 70_000}).encode()
        assert len(big) > 1_800_000

        def post_big(_):
            started = time.perf_counter()
            with httpx.Client(base_url=one_slot.base_url, timeout=10) as client:
                response = client.post("/v1/summarize", content=big, headers={"content-type": "application/json"})
            return response.status_code, response.json(), time.perf_counter() - started

        with ThreadPoolExecutor(20) as pool:
            results = list(pool.map(post_big, range(20)))
        assert all(status == 503 and body == BUSY for status, body, _ in results), results
        assert max(seconds for _, _, seconds in results) < 5

        assert http.get("/healthz").json() == {"status": "ok"}
        assert http.get("/v1/stats").json()["busy_refused"] >= before + 21
    finally:
        answer = stalled.finish()
    assert answer.startswith(b"HTTP/1.1 200"), answer
    assert http.post("/v1/keywords", json=KEYWORDS).status_code == 200  # the slot is free again


def test_a_paced_summary_gives_its_slot_back_once_analysed(one_slot, http):
    body = {"text": "One sentence here. Another sentence there. A third one.", "max_sentences": 3, "pace_ms": 300}
    with http.stream("POST", "/v1/summarize", json=body) as stream:
        assert stream.status_code == 200
        next(stream.iter_lines())  # the first event: the analysis is over
        # The stream still has two paced sentences to go; the slot is free.
        assert http.post("/v1/keywords", json=KEYWORDS).status_code == 200


def test_a_refused_request_is_logged_as_503(one_slot, http):
    stalled = StalledUpload(one_slot.port)
    try:
        refused = refused_once_admitted(http)
        assert refused.status_code == 503
        response = http.post("/v1/keywords", json=KEYWORDS, headers={"x-request-id": "busy-1"})
        assert response.status_code == 503
        assert one_slot.log_record("busy-1")["status"] == 503
    finally:
        assert stalled.finish().startswith(b"HTTP/1.1 200")


def test_a_max_queue_under_one_is_refused_at_startup():
    from ai_service.app import create_app

    with pytest.raises(ValueError, match="AI_MAX_QUEUE"):
        create_app(max_queue=0)
