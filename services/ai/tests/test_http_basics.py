"""/healthz, /v1/stats, /v1/keywords and input validation over a real socket."""

import pytest

from text_samples import HUB


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_stats_has_exactly_the_five_counters_and_the_gauge(client):
    stats = client.get("/v1/stats").json()
    assert set(stats) == {"summaries_started", "summaries_completed", "summaries_cancelled", "keywords", "busy_refused",
                          "admitted"}
    assert all(isinstance(value, int) for value in stats.values())


def test_keywords_answers_json_and_is_counted(client):
    before = client.get("/v1/stats").json()["keywords"]
    response = client.post("/v1/keywords", json={"text": HUB, "max_keywords": 4})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    found = response.json()["keywords"]
    assert len(found) == 4
    assert all(set(k) == {"term", "score"} and isinstance(k["score"], float) for k in found)
    assert found[0]["term"] == "power"
    assert client.post("/v1/keywords", json={"text": HUB, "max_keywords": 4}).json()["keywords"] == found
    assert client.get("/v1/stats").json()["keywords"] == before + 2


def test_keywords_default_to_ten(client):
    text = " ".join(f"Word{i} appears here." for i in range(30))
    assert len(client.post("/v1/keywords", json={"text": text}).json()["keywords"]) == 10


@pytest.mark.parametrize(
    "path, body",
    [
        ("/v1/summarize", {"text": ""}),
        ("/v1/summarize", {"text": " \n\t "}),
        ("/v1/summarize", {"text": "..."}),
        ("/v1/summarize", {}),
        ("/v1/summarize", {"text": 42}),
        ("/v1/summarize", {"text": HUB, "max_sentences": 0}),
        ("/v1/summarize", {"text": HUB, "max_sentences": 21}),
        ("/v1/summarize", {"text": HUB, "max_sentences": "3"}),
        ("/v1/summarize", {"text": HUB, "pace_ms": -1}),
        ("/v1/summarize", {"text": HUB, "pace_ms": 5001}),
        ("/v1/keywords", {"text": "   "}),
        ("/v1/keywords", {"text": HUB, "max_keywords": 0}),
        ("/v1/keywords", {"text": HUB, "max_keywords": 51}),
        ("/v1/keywords", ["not", "an", "object"]),
    ],
)
def test_invalid_input_is_422(client, path, body):
    response = client.post(path, json=body)
    assert response.status_code == 422, response.text
    assert "detail" in response.json()


@pytest.mark.parametrize("path", ["/v1/summarize", "/v1/keywords"])
def test_a_lone_surrogate_is_422_not_a_broken_stream(client, path):
    body = b'{"text": "Hello \\ud800 world. Second one here."}'
    response = client.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert "surrogate" in response.text


@pytest.mark.parametrize("path", ["/v1/summarize", "/v1/keywords"])
def test_malformed_json_is_422(client, path):
    response = client.post(path, content=b'{"text": "unterminated', headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_invalid_summaries_are_not_counted_as_started(client):
    before = client.get("/v1/stats").json()["summaries_started"]
    client.post("/v1/summarize", json={"text": ""})
    assert client.get("/v1/stats").json()["summaries_started"] == before
