"""The one JSON line per request on the service's stderr."""

import uuid

import pytest

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def request_id() -> str:
    return f"log-{uuid.uuid4()}"


def test_one_line_per_request_with_the_documented_fields(client, server):
    rid = request_id()
    client.get("/healthz", headers={"X-Request-Id": rid})
    record = server.log_record(rid)
    assert set(record) == {"time", "method", "path", "status", "ms", "traceparent", "trace_id", "request_id"}
    assert (record["method"], record["path"], record["status"]) == ("GET", "/healthz", 200)
    assert record["time"].endswith("Z") and isinstance(record["ms"], float)
    assert (record["traceparent"], record["trace_id"]) == (None, None)
    assert sum(rid in line for line in server.stderr().splitlines()) == 1
    assert "GET /healthz HTTP/1.1" not in server.stderr()  # uvicorn's own access log is off


def test_the_trace_id_of_a_valid_traceparent_appears_verbatim(client, server):
    rid = request_id()
    client.post("/v1/summarize", json={"text": "One. Two."}, headers={"traceparent": TRACEPARENT, "X-Request-Id": rid})
    record = server.log_record(rid)
    assert record["trace_id"] == TRACE_ID
    assert record["traceparent"] == TRACEPARENT
    assert any(TRACE_ID in line and rid in line for line in server.stderr().splitlines())


@pytest.mark.parametrize("traceparent", [TRACEPARENT.upper(), f"00-{'0' * 32}-00f067aa0ba902b7-01", "garbage"])
def test_a_malformed_traceparent_is_logged_without_a_trace_id(client, server, traceparent):
    rid = request_id()
    client.get("/healthz", headers={"traceparent": traceparent, "X-Request-Id": rid})
    record = server.log_record(rid)
    assert record["trace_id"] is None
    assert record["traceparent"] == traceparent


def test_no_header_is_logged_past_256_characters(client, server):
    rid = request_id() + "x" * 1000
    client.get("/healthz", headers={"traceparent": "y" * 1000, "X-Request-Id": rid})
    record = server.log_record(rid[:256])
    assert record["request_id"] == rid[:256]
    assert record["traceparent"] == "y" * 256


def test_refusals_and_validation_errors_are_logged_with_their_status(client, server):
    rid = request_id()
    client.post("/v1/keywords", json={"text": ""}, headers={"X-Request-Id": rid})
    assert server.log_record(rid)["status"] == 422
    rid = request_id()
    client.post("/v1/keywords", content=b" " * (3 << 20), headers={"X-Request-Id": rid, "content-type": "application/json"})
    assert server.log_record(rid)["status"] == 413
