"""Regressions from the adversarial review of HTTP/2 (fixed in "HTTP/2 after the adversary
review"), one test per finding: a half-close during a download (a use-after-free), a connection
that never idled after RST_STREAM NO_ERROR, the HPACK bomb, MadeYouReset (CVE-2025-8671),
pseudo-fields past max_header_bytes, h2 prior knowledge on a TLS connection, padded empty DATA,
and a Host that differs from :authority."""
import socket
import ssl
import time

import hpack
import pytest
from hpack.hpack import encode_integer
from hyperframe.frame import DataFrame, SettingsFrame, WindowUpdateFrame

from conftest import finished
from h2wire import ENHANCE_YOUR_CALM, NO_ERROR, PREFACE, PROTOCOL_ERROR, RawH2, Wire, connect
from test_h2_transport import http11, read_until_close

MAX_WINDOW = 2**31 - 1


def read_to_the_end(sock, timeout):
    """Reads (and discards) until the peer closes or resets: True, or False after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            if not sock.recv(1 << 20):
                return True
        except ConnectionResetError:
            return True
        except TimeoutError:
            break
    return False


def served(srv, tls=False):
    """A new connection to `srv` is answered."""
    s = srv.client(tls=tls).get("/")
    assert (s.status, bytes(s.data)) == (200, b"hello"), s


# A half-close while the server writes: the reader saw EOF, the stream was freed, and nghttp2
# went on reading its body from the freed stream (SIGSEGV).

def connect_with_a_small_buffer(port, tls):
    """A connection (TLS with ALPN h2 if asked) whose receive buffer is fixed small before the
    handshake: the kernel then holds little of a download (autotuned, loopback buffers can take
    a 30 MB body whole, and the server would be done writing before the client left)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sock.settimeout(5)
    sock.connect(("127.0.0.1", port))
    if not tls:
        return sock
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])
    sock = context.wrap_socket(sock, server_hostname="localhost")
    assert sock.selected_alpn_protocol() == "h2"
    return sock


@pytest.mark.parametrize("tls", [False, True], ids=["h2c", "tls"])
def test_a_client_that_half_closes_during_a_download_is_let_go(spawn, tls):
    srv = spawn("--h2c", tls=True)
    sock = Wire(connect_with_a_small_buffer(srv.tls_port if tls else srv.port, tls)).sock  # closed by close_all
    fields = [(":method", "GET"), (":scheme", "https" if tls else "http"), (":authority", "127.0.0.1"),
              (":path", "/big?bytes=30000000")]
    # Windows as large as allowed: the server writes as fast as the socket takes.
    sock.sendall(PREFACE + SettingsFrame(0, settings={SettingsFrame.INITIAL_WINDOW_SIZE: MAX_WINDOW}).serialize()
                 + WindowUpdateFrame(0, window_increment=MAX_WINDOW - 65535).serialize()
                 + RawH2.headers(1, hpack.Encoder().encode(fields)))
    received, deadline = 0, time.monotonic() + 5
    while received < 200_000:
        assert time.monotonic() < deadline, f"only {received} bytes of the download arrived"
        chunk = sock.recv(65536)
        assert chunk, f"closed after {received} bytes"
        received += len(chunk)
    # SHUT_WR without close_notify (Python drops its TLS state: the rest is read as raw bytes),
    # then reading on, as a client waiting for the rest would, until the server closes.
    sock.shutdown(socket.SHUT_WR)
    assert read_to_the_end(sock, 5), "the server went on writing to a client that left"
    assert srv.proc.poll() is None, f"the server died: {srv.log()[-2000:]}"
    srv.wait_stats(lambda s: finished(s, "/big 499") == 1, what="/big finished as 499")
    served(srv, tls)


# A stream closed after its handler answered (RST_STREAM NO_ERROR: the body was never sent)
# left the connection out of the idle watch: it was held, with its client's slot, forever.

def test_a_connection_idles_out_after_a_stream_reset_with_no_error(spawn):
    srv = spawn("--h2c", "--idle-timeout-ms", "500", "--max-connections-per-ip", "2", tls=False)
    silent = []
    for _ in range(2):
        raw = RawH2(srv.port)
        raw.send(raw.headers(1, raw.block("GET", "/"), end_stream=False))
        raw.wait(lambda: 1 in raw.resets, 5, "the answer and RST_STREAM")
        assert (raw.status(1), raw.resets[1]) == (200, NO_ERROR), raw.describe()
        silent.append(raw)
    for raw in silent:  # idle_timeout is 500 ms
        raw.wait_closed(3)
        assert raw.goaway and raw.goaway.error_code == NO_ERROR, raw.describe()
        raw.close()
    # Both slots are free again (a third connection would be refused while either is held).
    deadline = time.monotonic() + 3
    while True:
        try:
            answer = http11(connect(srv.port), "/")
        except ConnectionError:
            answer = b""
        if answer.startswith(b"HTTP/1.1 200"):
            break
        assert time.monotonic() < deadline, "the idled connections still hold their client's slots"
        time.sleep(0.05)
    served(srv)


# The HPACK bomb: one large table entry referenced a byte at a time decodes to megabytes.

def literal_with_indexing(name, value):
    """An HPACK literal field with incremental indexing and a new name, not Huffman-coded."""
    return (b"\x40" + bytes(encode_integer(len(name), 7)) + name
            + bytes(encode_integer(len(value), 7)) + value)


def test_an_hpack_bomb_gets_enhance_your_calm_and_others_are_served(server):
    bystander = server.client()
    raw = RawH2(server.port)
    # :method GET, :scheme http, :path / (static), :authority by indexed name, not indexed.
    pseudo = b"\x82\x86\x84\x01\x09127.0.0.1"
    raw.send(raw.headers(1, pseudo + literal_with_indexing(b"x-bomb", b"v" * 4000)))  # dynamic index 62
    raw.wait(lambda: raw.status(1) or raw.closed, 5, "stream 1 answered")
    assert raw.status(1) == 200, raw.describe()
    # 16,000 references to it: 16 KB on the wire, 64 MB decoded.
    raw.send(raw.headers(3, pseudo + b"\xbe" * 16000))
    served(server)
    raw.wait(lambda: raw.goaways or raw.status(3), 5, "a GOAWAY or an answer to the bomb")
    assert raw.goaway and raw.goaway.error_code == ENHANCE_YOUR_CALM, raw.describe()
    raw.wait_closed(5)
    s = bystander.get("/")
    assert (s.status, bytes(s.data)) == (200, b"hello"), f"bystander after the bomb: {s}"


# MadeYouReset (CVE-2025-8671): streams the client makes the server reset cost a handler each,
# and were not counted against the rapid-reset limit.

def test_streams_the_server_must_reset_count_as_resets(spawn):
    srv = spawn("--h2c", "--reset-burst", "20", "--resets-per-second", "1", tls=False)
    raw = RawH2(srv.port)
    stream_id, batch = 1, 10
    while not (raw.goaways or raw.closed) and stream_id < 400:
        frames = b""
        for _ in range(batch):
            # content-length 0 without END_STREAM, then one byte: the server must reset it.
            frames += raw.headers(stream_id, raw.block("GET", "/hang", [("content-length", "0")]), end_stream=False)
            frames += DataFrame(stream_id, b"x", flags=["END_STREAM"]).serialize()
            stream_id += 2
        if not raw.send(frames):
            break
        last = stream_id - 2
        raw.wait(lambda: last in raw.resets or raw.goaways or raw.closed, 5, f"stream {last} reset")
    assert raw.goaway and raw.goaway.error_code == ENHANCE_YOUR_CALM, \
        f"{(stream_id - 1) // 2} streams reset by the server without a GOAWAY: {raw.describe()}"
    assert set(raw.resets.values()) == {PROTOCOL_ERROR}, raw.resets
    raw.wait_closed(5)
    stats = srv.wait_stats(lambda s: s["hang_cancelled"] == s["hang_started"], what="every /hang cancelled")
    assert stats["hang_started"] <= 20 + batch + 2, stats
    served(srv)


# Pseudo-fields were counted but not checked against max_header_bytes: a Huffman-coded
# :authority (or :method) far past the limit reached the app within the encoded bound.

@pytest.mark.parametrize("field", [":authority", ":method"], ids=["authority", "method"])
def test_a_pseudo_field_past_max_header_bytes_answers_431(server, field):
    raw = RawH2(server.port)
    before = server.stats()
    huge = "a" * 20000  # 12.5 KB Huffman-coded, within one frame and the encoded bound (24 KiB)
    fields = {":method": "GET", ":scheme": "http", ":authority": "127.0.0.1", ":path": "/whoami", field: huge}
    raw.send(raw.headers(1, raw.encoder.encode(list(fields.items()), huffman=True)))
    raw.wait(lambda: raw.status(1) or 1 in raw.resets or raw.goaways, 5, "stream 1 answered")
    assert raw.status(1) == 431, raw.describe()
    stats = server.stats()
    assert finished(stats, "/whoami 200") == finished(before, "/whoami 200"), "the app served the request"
    raw.send(raw.headers(3, raw.block("GET", "/")))  # the connection goes on
    raw.wait(lambda: raw.status(3), 5, "stream 3 answered")
    assert raw.status(3) == 200, raw.describe()


# h2 by prior knowledge was taken on the TLS port, whatever ALPN chose (or http2.tls said).

@pytest.mark.parametrize("flags", [(), ("--no-h2",)], ids=["h2-on-tls", "no-h2"])
@pytest.mark.parametrize("offer", [("http/1.1",), None], ids=["http1.1", "no-alpn"])
def test_a_tls_client_that_did_not_negotiate_h2_gets_no_http2(spawn, flags, offer):
    srv = spawn("--h2c", *flags)
    sock = connect(srv.tls_port, tls=True, alpn=offer)
    assert sock.selected_alpn_protocol() != "h2"
    sock.sendall(PREFACE + SettingsFrame(0).serialize())
    answer = read_until_close(sock)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]


# DATA frames carrying only padding were not counted as empty DATA (a free flood).

def test_a_flood_of_padded_empty_data_gets_enhance_your_calm(spawn):
    srv = spawn("--h2c", "--control-burst", "100", "--control-per-second", "10", tls=False)
    bystander = srv.client()
    raw = RawH2(srv.port)
    raw.send(raw.headers(1, raw.block("POST", "/hold"), end_stream=False))  # an upload nobody reads
    padded_empty = b"\x00\x00\x01\x00\x08" + (1).to_bytes(4, "big") + b"\x00"  # PADDED, pad length 0
    for _ in range(20):  # up to 2,000 frames (2 KB of the 64 KiB window); the burst is 100
        if not raw.send(padded_empty * 100):
            break
        raw.pump(0.01)
        if raw.goaways or raw.closed:
            break
    raw.wait(lambda: raw.goaways, 5, "GOAWAY")
    assert raw.goaway.error_code == ENHANCE_YOUR_CALM, raw.describe()
    raw.wait_closed(5)
    s = bystander.get("/")
    assert (s.status, bytes(s.data)) == (200, b"hello"), f"bystander after the flood: {s}"


# RFC 9113 §8.3.1: a Host field naming another authority than :authority is malformed.

def test_a_host_other_than_authority_answers_400(server):
    # Raw frames: python-h2 refuses to send such a block.
    raw = RawH2(server.port)
    raw.send(raw.headers(1, raw.block("GET", "/", [("host", "elsewhere.example")])))
    raw.send(raw.headers(3, raw.block("GET", "/", [("host", "127.0.0.1")])))  # the same authority
    raw.wait(lambda: raw.status(1) and raw.status(3), 5, "both streams answered")
    assert (raw.status(1), raw.status(3)) == (400, 200), raw.describe()
