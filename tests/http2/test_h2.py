"""HTTP/2 streams served by spur's App, seen by an independent client (python-h2 over raw
sockets): methods and headers, many streams at once, flow control both ways, streamed
responses, a reset stream cancelling its handler, and the per-stream limits (431, 414,
REFUSED_STREAM). Floods are in test_h2_floods.py, negotiation, timeouts and drain in
test_h2_transport.py."""
import hashlib
import json
import os
import time

import pytest

from conftest import finished
from hyperframe.frame import DataFrame

from h2wire import CANCEL, HTTP_1_1_REQUIRED, PROTOCOL_ERROR, REFUSED_STREAM, RawH2

CONNECTION_SPECIFIC = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}


def pattern(n):
    """The bytes GET /big?bytes=n answers."""
    return (b"abcdefghijklmnopqrstuvwxyz" * (n // 26 + 1))[:n]


@pytest.mark.parametrize("tls", [False, True], ids=["h2c", "tls"])
def test_get_is_answered_with_status_length_and_body(server, tls):
    c = server.client(tls=tls)
    s = c.get("/")
    assert (s.status, bytes(s.data)) == (200, b"hello"), s
    assert s.header("content-length") == "5"
    assert s.header("content-type").startswith("text/plain")


@pytest.mark.parametrize("tls", [False, True], ids=["h2c", "tls"])
def test_the_handler_sees_version_20_and_authority_as_host(server, tls):
    c = server.client(tls=tls)
    assert bytes(c.get("/version").data) == b"20"
    who = json.loads(c.get("/whoami?x=1").data)
    assert who["version"] == 20
    assert who["method"] == "GET" and who["target"] == "/whoami?x=1"
    assert who["host"] == c.authority, who
    assert who["protocol"] == ("https" if tls else "http")
    assert not any(name.startswith(":") for name in who["headers"]), who


def test_post_bodies_are_read_with_or_without_content_length(server):
    c = server.client()
    s = c.response(c.request("POST", "/echo", [("content-type", "text/plain"), ("content-length", "4")], b"ping"))
    assert (s.status, bytes(s.data)) == (200, b"ping"), s
    s = c.response(c.request("POST", "/echo", [("content-type", "text/plain")], b"no length"))
    assert (s.status, bytes(s.data)) == (200, b"no length"), s


def test_head_has_the_length_and_no_data(server):
    c = server.client()
    s = c.response(c.request("HEAD", "/"))
    assert s.status == 200 and s.ended, s
    assert s.header("content-length") == "5"
    assert s.frames == [], "a HEAD response carried DATA"


def test_204_has_neither_data_nor_content_length(server):
    s = server.client().get("/nocontent")
    assert s.status == 204 and s.frames == [] and s.header("content-length") is None, s


def test_cookie_fields_split_by_hpack_are_joined(server):
    s = server.client().get("/whoami", [("cookie", "a=1"), ("cookie", "b=2")])
    assert json.loads(s.data)["headers"]["Cookie"] == "a=1; b=2", s


def test_a_websocket_route_over_h2_asks_for_http11(server):
    # RST_STREAM HTTP_1_1_REQUIRED (docs/http2.md): the browser retries over HTTP/1.1. A 426
    # could not carry the Upgrade field RFC 9110 requires of it (connection-specific in h2).
    c = server.client()
    s = c.get("/ws", [("sec-websocket-version", "13"), ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")])
    assert s.reset == HTTP_1_1_REQUIRED, s


def test_response_headers_are_lowercase_without_connection_specific_fields(server):
    # Raw frames: python-h2 would refuse such a response before the test could look at it.
    raw = RawH2(server.port)
    raw.send(raw.headers(1, raw.block("GET", "/connection-headers")))
    raw.send(raw.headers(3, raw.block("GET", "/big?bytes=100&chunk=10")))
    raw.send(raw.headers(5, raw.block("GET", "/sse?n=1")))
    raw.wait(lambda: all(raw.status(i) for i in (1, 3, 5)), 10, "three responses")
    for stream_id in (1, 3, 5):
        fields = raw.responses[stream_id]
        assert fields[0][0] == ":status", fields
        assert all(name == name.lower() for name, _ in fields), fields
        assert not CONNECTION_SPECIFIC & {name for name, _ in fields}, fields
    assert ("x-mixed-case", "yes") in raw.responses[1]


def test_a_hundred_streams_on_one_connection_are_served_at_once(server):
    c = server.client()
    assert c.conn.remote_settings.max_concurrent_streams == 100
    start = time.monotonic()
    ids = [c.request("GET", "/slow?ms=300") for _ in range(100)]
    for stream_id in ids:
        s = c.response(stream_id, timeout=20)
        assert (s.status, bytes(s.data)) == (200, b"slow"), s
    # One after the other they would take 30 s.
    assert time.monotonic() - start < 10


def test_a_stream_past_an_acknowledged_max_concurrent_streams_ends_the_connection(spawn):
    # Past a limit the client has acknowledged, a new stream breaks the protocol: nghttp2 ends the
    # connection with GOAWAY PROTOCOL_ERROR (RFC 9113 §5.1.2 lets it), and the streams in flight
    # are cancelled as if the client had left (their hooks see 499). A well-behaved client never
    # gets here; one that was too quick (the next test) gets REFUSED_STREAM instead.
    srv = spawn("--h2c", "--max-streams", "4", tls=False)
    raw = RawH2(srv.port)
    assert raw.server_settings.get(0x3) == 4, raw.server_settings  # SETTINGS_MAX_CONCURRENT_STREAMS
    for stream_id in (1, 3, 5, 7):
        raw.send(raw.headers(stream_id, raw.block("GET", "/hang")))
    srv.wait_stats(lambda s: s["hang_started"] == 4, what="four /hang handlers")
    raw.send(raw.headers(9, raw.block("GET", "/")))
    raw.wait(lambda: raw.goaways, 5, "GOAWAY")
    assert raw.goaways[0].error_code == PROTOCOL_ERROR and raw.goaways[0].last_stream_id == 7, raw.describe()
    stats = srv.wait_stats(lambda s: s["hang_cancelled"] == 4, what="the four /hang handlers cancelled")
    assert finished(stats, "/hang 499") == 4, stats
    # Another connection is served.
    c = srv.client()
    assert c.get("/").status == 200


def test_a_stream_past_a_limit_not_yet_acknowledged_is_refused(spawn):
    # The client's first flight, sent before it acknowledged the server's SETTINGS.
    srv = spawn("--h2c", "--max-streams", "4", tls=False)
    raw = RawH2(srv.port, ack_settings=False)
    raw.send(b"".join(raw.headers(i, raw.block("GET", "/hang")) for i in (1, 3, 5, 7, 9)))
    raw.wait(lambda: 9 in raw.resets or raw.status(9) or raw.goaways, 5, "stream 9 refused")
    assert raw.resets.get(9) == REFUSED_STREAM and not raw.goaways, raw.describe()
    srv.wait_stats(lambda s: s["hang_started"] == 4, what="the four streams within the limit served")


def test_handlers_still_running_after_a_reset_count_against_max_concurrent_streams(spawn):
    # run_to_completion handlers outlive their reset streams: resetting must not buy a client
    # more running handlers than streams.
    srv = spawn("--h2c", "--max-streams", "4", tls=False)
    raw = RawH2(srv.port)
    for stream_id in (1, 3, 5, 7):
        raw.send(raw.headers(stream_id, raw.block("GET", "/persist?ms=3000")))
    srv.wait_stats(lambda s: s["persist_started"] == 4, what="four /persist handlers")
    raw.send(b"".join(raw.rst(i) for i in (1, 3, 5, 7)))
    raw.send(raw.headers(9, raw.block("GET", "/persist?ms=3000")))
    raw.wait(lambda: 9 in raw.resets or raw.status(9), 5, "stream 9 refused")
    assert raw.resets.get(9) == REFUSED_STREAM, raw.describe()
    assert srv.stats()["persist_started"] == 4
    # Once they finish, streams are served again.
    srv.wait_stats(lambda s: s["persist_done"] == 4, timeout=10, what="the four handlers done")
    raw.send(raw.headers(11, raw.block("GET", "/")))
    raw.wait(lambda: raw.status(11), 5, "stream 11 answered")
    assert raw.status(11) == 200


def test_a_client_that_leaves_cancels_its_streams_and_the_hooks_see_499(server):
    c = server.client()
    before = server.stats()
    for _ in range(3):
        c.request("GET", "/hang")
    server.wait_stats(lambda s: s["hang_started"] == before["hang_started"] + 3, what="three /hang running")
    c.close()
    server.wait_stats(lambda s: s["hang_cancelled"] == before["hang_cancelled"] + 3
                      and finished(s, "/hang 499") == finished(before, "/hang 499") + 3,
                      what="three /hang cancelled and finished as 499")


def test_a_declared_body_past_the_route_limit_is_413_before_it_is_sent(server):
    c = server.client()
    stream_id = c.request("POST", "/echo", [("content-length", str(64 << 20))], end_stream=False)
    s = c.response(stream_id)  # python-h2 ends its side when the answer is complete
    assert s.status == 413, s
    assert bytes(c.get("/").data) == b"hello"


def test_a_body_shorter_than_its_content_length_is_a_malformed_request(server):
    raw = RawH2(server.port)
    raw.send(raw.headers(1, raw.block("POST", "/echo", [("content-length", "10")]), end_stream=False)
             + DataFrame(1, b"short", flags=["END_STREAM"]).serialize())
    raw.wait(lambda: 1 in raw.resets or raw.status(1) or raw.goaways, 5, "stream 1 refused")
    assert raw.resets.get(1) == PROTOCOL_ERROR or raw.status(1) == 400, raw.describe()
    raw.send(raw.headers(3, raw.block("GET", "/")))
    raw.wait(lambda: raw.status(3), 5, "stream 3 answered")
    assert raw.status(3) == 200


@pytest.mark.parametrize("tls,size", [(False, 8 << 20), (True, 2 << 20)], ids=["h2c-8MiB", "tls-2MiB"])
def test_a_large_body_goes_both_ways_within_the_windows(server, tls, size):
    c = server.client(tls=tls)
    body = os.urandom(size)
    stream_id = c.request("POST", "/echo", [("content-length", str(len(body)))], body)
    s = c.response(stream_id, timeout=30)
    assert s.status == 200, s
    assert hashlib.sha256(s.data).digest() == hashlib.sha256(body).digest(), f"{len(s.data)} bytes came back"
    # Through a 64 KiB stream window: the server opened it as the handler read.
    assert s.window_updates > 0


def test_a_slow_reader_opens_the_window_as_it_reads(server):
    c = server.client()
    assert c.conn.remote_settings.initial_window_size == 64 * 1024  # Http2Options::stream_window
    body = os.urandom(1 << 20)
    s = c.response(c.request("POST", "/count?ms=2", body=body), timeout=30)
    assert (s.status, bytes(s.data)) == (200, str(len(body)).encode()), s
    assert s.window_updates >= (len(body) - 64 * 1024) // (64 * 1024)


def test_a_handler_that_does_not_read_keeps_its_window_shut(spawn):
    srv = spawn("--h2c", "--stream-window", "16384", tls=False)
    c = srv.client()
    assert c.conn.remote_settings.initial_window_size == 16384
    stream_id = c.request("POST", "/hold", end_stream=False)
    window = c.conn.local_flow_control_window(stream_id)
    assert window == 16384
    c.send_body(stream_id, b"x" * window, end=False)
    srv.wait_stats(lambda s: s["hold_started"] == 1, what="/hold running")
    # Nothing should come: no WINDOW_UPDATE for a body nobody reads (a bounded look).
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:
        c.pump(0.05)
    assert c.conn.local_flow_control_window(stream_id) == 0, c.streams[stream_id]
    c.reset(stream_id)
    stats = srv.wait_stats(lambda s: s["hold_cancelled"] == 1, what="/hold cancelled by the reset")
    srv.wait_stats(lambda s: finished(s, "/hold 499") == 1, what="/hold finished as 499")
    assert bytes(c.get("/").data) == b"hello", stats


def test_a_streamed_response_waits_for_the_clients_window(server):
    c = server.client(auto_ack=False)
    size = 1 << 20
    stream_id = c.request("GET", f"/big?bytes={size}&chunk=16384")
    s = c.streams[stream_id]
    c.wait(lambda: len(s.data) >= 65535 or s.done, 10, "the first window of the body")
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:
        c.pump(0.05)
    assert len(s.data) == 65535 and not s.done, f"{len(s.data)} bytes past a 65535-byte window"
    c.auto_ack = True
    c.ack_all()
    c.response(stream_id, timeout=20)
    assert s.status == 200 and bytes(s.data) == pattern(size)
    assert s.header("content-length") is None and s.header("transfer-encoding") is None


def test_server_sent_events_arrive_event_by_event(server):
    c = server.client()
    s = c.response(c.request("GET", "/sse?n=5&ms=150"), timeout=10)
    assert s.status == 200 and s.header("content-type").startswith("text/event-stream"), s
    frames = [(at, bytes(chunk)) for at, chunk in s.frames if chunk]
    events = [e for e in b"".join(chunk for _, chunk in frames).split(b"\n\n") if e]
    assert [e.split(b"data: ")[1] for e in events] == [b"event %d" % i for i in range(1, 6)], events
    # Each event in a frame of its own, sent as the handler wrote it, not buffered to the end.
    firsts = [next(at for at, chunk in frames if b"data: event %d\n" % i in chunk) for i in range(1, 6)]
    assert firsts == sorted(firsts) and len(set(firsts)) == 5
    assert firsts[-1] - firsts[0] >= 0.5
    assert s.headers_at <= firsts[0]


def test_a_reset_stream_cancels_its_handler_and_the_connection_goes_on(server):
    c = server.client()
    before = server.stats()
    stream_id = c.request("GET", "/hang")
    server.wait_stats(lambda s: s["hang_started"] == before["hang_started"] + 1, what="/hang running")
    c.reset(stream_id, CANCEL)
    stats = server.wait_stats(lambda s: s["hang_cancelled"] == before["hang_cancelled"] + 1
                              and finished(s, "/hang 499") == finished(before, "/hang 499") + 1,
                              what="/hang cancelled and finished as 499")
    assert bytes(c.get("/").data) == b"hello", stats


def test_a_reset_event_stream_ends_its_handler(server):
    c = server.client()
    before = finished(server.stats(), "/sse 499")
    stream_id = c.request("GET", "/sse?n=100000&ms=20")
    c.wait(lambda: c.streams[stream_id].frames, 5, "the first event")
    c.reset(stream_id)
    server.wait_stats(lambda s: finished(s, "/sse 499") == before + 1, what="/sse finished as 499")
    assert bytes(c.get("/").data) == b"hello"


def test_expect_100_continue_gets_100_before_the_body_is_sent(server):
    c = server.client()
    stream_id = c.request("POST", "/echo", [("content-length", "5"), ("expect", "100-continue")], end_stream=False)
    s = c.streams[stream_id]
    c.wait(lambda: s.informational or s.done, 5, "100 Continue")
    assert s.status is None and dict(s.informational[0])[":status"] == "100", s
    c.send_body(stream_id, b"hello")
    c.response(stream_id)
    assert (s.status, bytes(s.data)) == (200, b"hello"), s


@pytest.mark.parametrize("headers,status", [
    ([("x-big", "a" * 17000)], 431),                          # past max_header_bytes (16 KiB)
    ([(f"x-field-{i}", "v") for i in range(101)], 431),       # past max_header_fields (100)
    ([("x-big", "a" * 15000)], 200),                          # within both
], ids=["bytes", "fields", "within"])
def test_header_limits_answer_431_on_the_stream(server, headers, status):
    c = server.client()
    s = c.get("/", headers)
    assert s.status == status, s
    assert bytes(c.get("/").data) == b"hello"


def test_a_long_path_answers_414(server):
    c = server.client()
    s = c.get("/" + "a" * 9000)
    assert s.status == 414, s
    assert bytes(c.get("/").data) == b"hello"


def test_the_access_log_and_finish_hooks_see_http2(server):
    c = server.client()
    c.get("/version?access-log")
    deadline = time.monotonic() + 5
    while '"GET /version?access-log HTTP/2.0" 200' not in server.log():
        assert time.monotonic() < deadline, server.log()[-2000:]
        time.sleep(0.02)
