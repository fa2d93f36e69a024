"""POST /v1/summarize over a real socket: the stream, its pacing, and a client that leaves."""

import json
import re
import threading
import time
import uuid

import httpx

from sse_client import events
from text_samples import HUB, HUB_CENTRE, KOREAN, TEN_SENTENCES, large_text


def test_events_have_exactly_the_documented_format(client):
    response = client.post("/v1/summarize", json={"text": HUB, "max_sentences": 2})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"

    blocks = response.text.split("\n\n")
    assert blocks[-1] == ""  # the last event ends with its blank line too
    parsed = []
    for block in blocks[:-1]:
        name_line, data_line = block.split("\n")  # exactly two lines
        assert re.fullmatch(r"event: (sentence|done)", name_line)
        assert data_line.startswith("data: ")
        parsed.append((name_line[len("event: "):], json.loads(data_line[len("data: "):])))

    assert [name for name, _ in parsed] == ["sentence", "sentence", "done"]
    sentences = [data for _, data in parsed[:2]]
    assert [set(s) for s in sentences] == [{"index", "text", "position", "score"}] * 2
    assert [s["index"] for s in sentences] == [0, 1]
    assert sentences[0]["position"] < sentences[1]["position"]  # document order
    assert HUB_CENTRE in [s["position"] for s in sentences]
    assert all(isinstance(s["score"], float) and s["text"] in HUB for s in sentences)
    done = parsed[2][1]
    assert set(done) == {"sentences", "input_sentences", "elapsed_ms"}
    assert (done["sentences"], done["input_sentences"]) == (2, 5)
    assert isinstance(done["elapsed_ms"], float) and done["elapsed_ms"] > 0


def test_sentences_stream_as_they_are_paced(client):
    with client.stream("POST", "/v1/summarize", json={"text": TEN_SENTENCES, "max_sentences": 3, "pace_ms": 300}) as response:
        received = list(events(response))
    assert [e.name for e in received] == ["sentence"] * 3 + ["done"]
    # Two more paces (600 ms) separate the first sentence from `done`: had the
    # response been buffered, they would arrive together.
    assert received[-1].arrived - received[0].arrived > 0.4
    assert received[-1].data["elapsed_ms"] >= 3 * 300


def test_a_korean_text_summarises_to_korean_sentences(client):
    response = client.post("/v1/summarize", json={"text": KOREAN, "max_sentences": 2})
    sentences = [json.loads(line[len("data: "):]) for line in response.text.splitlines() if line.startswith("data: ")][:-1]
    assert len(sentences) == 2
    for sentence in sentences:
        assert re.search("[\uac00-\ud7a3]", sentence["text"])
        assert sentence["text"] in KOREAN


def test_a_client_that_leaves_mid_stream_stops_it_and_is_counted_and_logged_as_cancelled(client, server):
    before = client.get("/v1/stats").json()
    request_id = f"leaves-{uuid.uuid4()}"
    with client.stream(
        "POST",
        "/v1/summarize",
        json={"text": TEN_SENTENCES, "max_sentences": 5, "pace_ms": 500},
        headers={"X-Request-Id": request_id},
    ) as response:
        first = next(events(response))
        assert first.name == "sentence" and first.data["index"] == 0
    # Leaving the block closed the unfinished response, and with it the connection.

    deadline = time.monotonic() + 5
    while (after := client.get("/v1/stats").json())["summaries_cancelled"] == before["summaries_cancelled"]:
        assert time.monotonic() < deadline, f"not counted as cancelled: {after}"
        time.sleep(0.05)  # a counter has no event to wait on
    assert after["summaries_cancelled"] == before["summaries_cancelled"] + 1
    assert after["summaries_started"] == before["summaries_started"] + 1
    assert after["summaries_completed"] == before["summaries_completed"]

    record = server.log_record(request_id)
    assert record["cancelled"] is True
    assert record["status"] == 200
    assert record["ms"] < 2000  # it stopped: five paces alone would take 2500 ms


def test_a_client_that_leaves_during_the_analysis_gets_no_sentence_computed_or_sent(client, server):
    # pace_ms 0: nothing but the analysis itself (about half a second) to leave during.
    before = client.get("/v1/stats").json()
    request_id = f"leaves-early-{uuid.uuid4()}"
    with client.stream(
        "POST", "/v1/summarize", json={"text": large_text(1 << 20), "max_sentences": 5}, headers={"X-Request-Id": request_id}
    ):
        pass  # the headers came before the analysis began; leave at once
    record = server.log_record(request_id)
    assert record["cancelled"] is True
    after = client.get("/v1/stats").json()
    assert after["summaries_cancelled"] == before["summaries_cancelled"] + 1
    assert after["summaries_completed"] == before["summaries_completed"]


def test_a_finished_stream_counts_as_completed_and_is_not_logged_as_cancelled(client, server):
    before = client.get("/v1/stats").json()
    request_id = f"finishes-{uuid.uuid4()}"
    client.post("/v1/summarize", json={"text": HUB}, headers={"X-Request-Id": request_id})
    after = client.get("/v1/stats").json()
    assert after["summaries_completed"] == before["summaries_completed"] + 1
    assert after["summaries_cancelled"] == before["summaries_cancelled"]
    assert "cancelled" not in server.log_record(request_id)


def test_a_one_mebibyte_text_is_summarised_while_the_service_keeps_answering(client, server):
    text = large_text(1 << 20)
    health_answered = threading.Event()
    with client.stream("POST", "/v1/summarize", json={"text": text, "max_sentences": 5}) as response:
        # The headers are out; the analysis is running now, on a worker thread.
        def ask_health():
            with httpx.Client(base_url=server.base_url, timeout=5) as other:
                assert other.get("/healthz").status_code == 200
            health_answered.set()

        asker = threading.Thread(target=ask_health)
        asker.start()
        received = list(events(response))
        health_before_done = health_answered.is_set()
        asker.join()
    done = received[-1]
    assert done.name == "done" and done.data["sentences"] == 5
    assert done.data["input_sentences"] > 9000
    assert done.data["elapsed_ms"] < 5000  # about 700 ms on the 2-core dev machine
    assert health_before_done, "the event loop was blocked by the analysis"
