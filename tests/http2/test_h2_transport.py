"""How a connection comes to speak HTTP/2 and how it ends: ALPN on the TLS port (h2 or
http/1.1, and never h2 with --no-h2), h2c by prior knowledge beside HTTP/1.1 on the plain port
(only with --h2c), idle and header timeouts, and the graceful drain on SIGTERM (GOAWAY NO_ERROR,
open streams finish within drain_timeout, exit 0)."""
import signal
import ssl
import time

import pytest

from h2wire import NO_ERROR, PREFACE, H2Client, RawH2, connect


def http11(sock, path, extra=""):
    """A raw HTTP/1.1 GET on `sock` (Connection: close); the whole answer, read until the close."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{extra}\r\n".encode())
    return read_until_close(sock)


def read_until_close(sock, timeout=5.0):
    data, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            chunk = sock.recv(65536)
        except (TimeoutError, ConnectionResetError):
            break
        if not chunk:
            break
        data += chunk
    return data


# ALPN on the TLS port.

def test_a_tls_client_offering_h2_speaks_h2(server):
    sock = connect(server.tls_port, tls=True, alpn=("h2", "http/1.1"))
    assert sock.selected_alpn_protocol() == "h2"
    c = H2Client(server.tls_port, tls=True, sock=sock)
    assert bytes(c.get("/version").data) == b"20"


@pytest.mark.parametrize("offer", [("http/1.1",), None], ids=["http1.1", "no-alpn"])
def test_a_tls_client_not_offering_h2_speaks_http11(server, offer):
    sock = connect(server.tls_port, tls=True, alpn=offer)
    assert sock.selected_alpn_protocol() == (offer[0] if offer else None)
    answer = http11(sock, "/version")
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"\r\n\r\n11"), answer


def test_without_h2_on_tls_an_h2_offer_gets_http11(spawn):
    srv = spawn("--no-h2")
    sock = connect(srv.tls_port, tls=True, alpn=("h2", "http/1.1"))
    assert sock.selected_alpn_protocol() == "http/1.1"
    answer = http11(sock, "/version")
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"\r\n\r\n11"), answer
    # Offering h2 alone: a refused handshake (no_application_protocol) or no protocol, never h2.
    try:
        sock = connect(srv.tls_port, tls=True, alpn=("h2",))
    except (ssl.SSLError, ConnectionResetError):
        return
    assert sock.selected_alpn_protocol() != "h2"


# h2c on the plain port.

def test_h2c_by_prior_knowledge_and_http11_share_the_plain_port(server):
    assert bytes(server.client().get("/version").data) == b"20"
    answer = http11(connect(server.port), "/version")
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"\r\n\r\n11"), answer


def test_an_http11_upgrade_to_h2c_is_answered_in_http11(server):
    # RFC 9113 dropped the Upgrade route to h2c: the request is served as it came.
    answer = http11(connect(server.port), "/version",
                    "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\nConnection: Upgrade, HTTP2-Settings\r\n")
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"\r\n\r\n11"), answer


def test_without_h2c_the_preface_gets_an_http11_refusal(spawn):
    srv = spawn()  # TLS (with h2) beside, but no --h2c
    sock = connect(srv.port)
    sock.sendall(PREFACE + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
    answer = read_until_close(sock)
    assert answer == b"" or answer.startswith((b"HTTP/1.1 505", b"HTTP/1.1 400")), answer
    # The port still speaks HTTP/1.1; and HTTP/2 over TLS is unaffected by the cleartext switch.
    assert http11(connect(srv.port), "/version").endswith(b"\r\n\r\n11")
    assert bytes(srv.client(tls=True).get("/version").data) == b"20"


# Timeouts.

TIMEOUTS = ("--h2c", "--header-timeout-ms", "500", "--idle-timeout-ms", "800")


def test_a_client_that_sends_only_the_preface_is_closed(spawn):
    srv = spawn(*TIMEOUTS, tls=False)
    raw = RawH2(srv.port, preface=False)
    raw.send(PREFACE)
    start = time.monotonic()
    raw.wait_closed(5)
    assert time.monotonic() - start < 5


def test_a_header_block_that_never_ends_is_closed(spawn):
    srv = spawn(*TIMEOUTS, tls=False)
    raw = RawH2(srv.port)
    raw.send(raw.headers(1, raw.block("GET", "/"), end_headers=False))
    raw.wait_closed(5)
    assert raw.status(1) is None, raw.describe()


def test_clients_that_leave_inside_a_header_block_do_not_hold_their_connections(spawn):
    # Each connection counts against max_connections_per_ip until the server closes its side.
    srv = spawn(*TIMEOUTS, "--max-connections-per-ip", "3", tls=False)
    for _ in range(3):
        raw = RawH2(srv.port)
        raw.send(raw.headers(1, raw.block("GET", "/"), end_headers=False))
        raw.close()
    deadline = time.monotonic() + 5
    while True:
        try:
            answer = http11(connect(srv.port), "/")
        except ConnectionError:
            answer = b""
        if answer.startswith(b"HTTP/1.1 200"):
            break
        assert time.monotonic() < deadline, "the three abandoned connections still hold the client's slots"
        time.sleep(0.05)


def test_an_idle_connection_gets_goaway_and_is_closed(spawn):
    srv = spawn(*TIMEOUTS, tls=False)
    c = srv.client()
    assert c.get("/").status == 200
    start = time.monotonic()
    c.wait_closed(5)
    assert time.monotonic() - start >= 0.6, "closed before the idle timeout (800 ms)"
    assert c.goaways and c.goaway.error_code == NO_ERROR, c.describe()


def test_an_h2_connection_over_tls_outlives_write_timeout_between_requests(spawn):
    # Over TLS every write waits (no write without one): a deadline Beast set for a write once
    # bound the next read too, and closed a busy connection write_timeout after a write.
    srv = spawn("--write-timeout-ms", "300", "--idle-timeout-ms", "5000")
    c = srv.client(tls=True)
    start = time.monotonic()
    answered = 0
    while time.monotonic() - start < 1.5:  # five write timeouts
        assert c.get("/").status == 200, c.describe()
        answered += 1
        c.pump(0.2)  # quiet between requests: the read waits
        assert not c.closed, f"closed after {answered} answers, {time.monotonic() - start:.1f}s: {c.describe()}"
    assert answered >= 5


def test_pings_do_not_keep_an_idle_connection_open(spawn):
    srv = spawn(*TIMEOUTS, tls=False)
    c = srv.client()
    assert c.get("/").status == 200
    deadline, next_ping = time.monotonic() + 5, 0
    while not c.closed:
        now = time.monotonic()
        assert now < deadline, f"PINGs kept an idle connection open: {c.describe()}"
        if now >= next_ping:  # a PING every 100 ms, 8 per idle_timeout
            c.conn.ping(b"12345678")
            c.flush()
            next_ping = now + 0.1
        c.pump(max(next_ping - now, 0.001))
    assert c.goaway and c.goaway.error_code == NO_ERROR, c.describe()


def test_an_open_stream_keeps_the_connection_from_idling(spawn):
    srv = spawn(*TIMEOUTS, tls=False)
    c = srv.client()
    s = c.get("/slow?ms=1500")
    assert (s.status, bytes(s.data)) == (200, b"slow"), s


# Graceful drain.

def test_sigterm_sends_goaway_and_the_open_stream_finishes(spawn):
    srv = spawn("--h2c", "--drain-timeout-ms", "5000", tls=False)
    c = srv.client()
    stream_id = c.request("GET", "/slow?ms=1000")
    srv.wait_stats(lambda s: s["slow_started"] == 1, what="/slow running")
    srv.proc.send_signal(signal.SIGTERM)
    c.wait(lambda: c.goaways, 5, "GOAWAY")
    assert all(g.error_code == NO_ERROR for g in c.goaways), c.describe()
    s = c.response(stream_id, timeout=5)
    assert (s.status, bytes(s.data)) == (200, b"slow"), s
    assert c.goaway.last_stream_id >= stream_id, c.describe()
    c.wait_closed(5)
    c.close()  # the server's graceful close waits for ours
    assert srv.proc.wait(10) == 0


def test_a_stream_past_the_drain_timeout_is_cut_and_the_server_exits(spawn):
    srv = spawn("--h2c", "--drain-timeout-ms", "300", tls=False)
    c = srv.client()
    stream_id = c.request("GET", "/hang")
    srv.wait_stats(lambda s: s["hang_started"] == 1, what="/hang running")
    srv.proc.send_signal(signal.SIGTERM)
    c.wait(lambda: c.goaways, 5, "GOAWAY")
    assert c.goaway.error_code == NO_ERROR, c.describe()
    c.wait(lambda: c.closed or c.streams[stream_id].reset is not None, 5, "the stream cut")
    assert c.streams[stream_id].status is None, c.streams[stream_id]
    assert srv.proc.wait(10) == 0
