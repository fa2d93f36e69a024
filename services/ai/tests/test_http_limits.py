"""The body limit (default 2 MiB) over a real socket, with and without Content-Length."""

import json

import pytest

LIMIT = 2 * 1024 * 1024  # the default; the fixture's server runs without AI_MAX_BODY_BYTES
TOO_LARGE = {"detail": "body too large", "limit": LIMIT}


def padded_body(size: int) -> bytes:
    """A valid keywords request of exactly `size` bytes (JSON allows trailing spaces)."""
    body = json.dumps({"text": "Padding is whitespace here.", "max_keywords": 1}).encode()
    return body + b" " * (size - len(body))


def chunked(body: bytes, chunk_size: int = 64 * 1024):
    """`body` as a generator: httpx sends it chunked, without Content-Length."""
    for start in range(0, len(body), chunk_size):
        yield body[start : start + chunk_size]


JSON = {"content-type": "application/json"}


def test_a_body_of_exactly_the_limit_is_accepted(client):
    response = client.post("/v1/keywords", content=padded_body(LIMIT), headers=JSON)
    assert response.status_code == 200, response.text


def test_a_declared_content_length_over_the_limit_is_413(client):
    response = client.post("/v1/keywords", content=padded_body(LIMIT + 1), headers=JSON)
    assert response.request.headers["content-length"] == str(LIMIT + 1)
    assert response.status_code == 413
    assert response.json() == TOO_LARGE


@pytest.mark.parametrize("size, status", [(LIMIT, 200), (LIMIT + 1, 413), (3 * LIMIT, 413)])
def test_a_chunked_body_is_counted_as_it_arrives(client, size, status):
    response = client.post("/v1/keywords", content=chunked(padded_body(size)), headers=JSON)
    assert "content-length" not in response.request.headers
    assert response.status_code == status
    if status == 413:
        assert response.json() == TOO_LARGE


def test_a_refused_summary_never_starts_and_the_connection_still_serves(client):
    before = client.get("/v1/stats").json()["summaries_started"]
    body = json.dumps({"text": "x" * (LIMIT + 10)}).encode()
    assert client.post("/v1/summarize", content=chunked(body), headers=JSON).status_code == 413
    assert client.post("/v1/summarize", content=body, headers=JSON).status_code == 413
    assert client.get("/healthz").status_code == 200
    assert client.get("/v1/stats").json()["summaries_started"] == before
