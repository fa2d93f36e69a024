"""Floods against spur's HTTP/2 defaults (Http2Options): rapid reset (CVE-2023-44487), the
CONTINUATION flood (2024), SETTINGS, PING, PRIORITY, WINDOW_UPDATE and empty-DATA floods. Past
a limit the flooding connection gets GOAWAY ENHANCE_YOUR_CALM and is closed; a well-behaved
connection beside it is served throughout, and traffic within the limits is not punished."""
import pytest
from hyperframe.frame import DataFrame, PingFrame, PriorityFrame, SettingsFrame, WindowUpdateFrame

from h2wire import ENHANCE_YOUR_CALM, RawH2


def flood(raw, batches, bystander):
    """Sends each batch of bytes, reading what the server says between them, until the server
    sends GOAWAY or closes; every 5th batch the bystander must still be served. Then waits
    for the flooding connection to close."""
    for n, batch in enumerate(batches):
        if not raw.send(batch):
            break
        raw.pump(0)
        if raw.goaways or raw.closed:
            break
        if n % 5 == 0:
            s = bystander.get("/")
            assert (s.status, bytes(s.data)) == (200, b"hello"), f"bystander during the flood: {s}"
    raw.wait_closed(5)
    assert any(g.error_code == ENHANCE_YOUR_CALM for g in raw.goaways), \
        f"no GOAWAY ENHANCE_YOUR_CALM before the close: {raw.describe()}"


def served_after(server, bystander):
    s = bystander.get("/")
    assert (s.status, bytes(s.data)) == (200, b"hello"), f"bystander after the flood: {s}"
    s = server.client().get("/")
    assert (s.status, bytes(s.data)) == (200, b"hello"), f"a new connection after the flood: {s}"


def test_rapid_reset_gets_enhance_your_calm_and_others_are_served(server):
    bystander = server.client()
    raw = RawH2(server.port)

    def batches():
        stream_id = 1
        for _ in range(40):  # up to 2000 streams opened and reset at once; the burst is 200
            batch = b""
            for _ in range(50):
                batch += raw.headers(stream_id, raw.block("GET", "/")) + raw.rst(stream_id)
                stream_id += 2
            yield batch

    flood(raw, batches(), bystander)
    served_after(server, bystander)


def test_resets_within_the_burst_keep_the_connection(server):
    raw = RawH2(server.port)
    batch = b"".join(raw.headers(i, raw.block("GET", "/")) + raw.rst(i) for i in range(1, 200, 2))  # 100 resets
    raw.send(batch + raw.headers(201, raw.block("GET", "/")))
    raw.wait(lambda: raw.status(201), 5, "stream 201 answered")
    assert raw.status(201) == 200 and not raw.goaways, raw.describe()


@pytest.mark.parametrize("piece", ["fields", "empty"])
def test_continuation_flood_gets_enhance_your_calm(server, piece):
    bystander = server.client()
    raw = RawH2(server.port)
    raw.send(raw.headers(1, raw.block("GET", "/"), end_headers=False))

    def batches():
        for b in range(100):  # up to 10,000 CONTINUATION frames without END_HEADERS; the limit is 8
            yield b"".join(raw.continuation(1, raw.encoder.encode([(f"x-c{b}-{i}", "v")]) if piece == "fields" else b"")
                           for i in range(100))

    flood(raw, batches(), bystander)
    served_after(server, bystander)


def test_a_header_block_past_its_encoded_bound_is_refused_before_it_ends(server):
    # 32 KiB of an unfinished block in two frames (within max_continuations), past
    # max_request_line + max_header_bytes (24 KiB): the server must not wait for the rest
    # (nor for header_timeout, 10 s) to refuse it.
    bystander = server.client()
    raw = RawH2(server.port)
    block = raw.block("GET", "/") + raw.encoder.encode([("x-big", "z" * 40000)], huffman=False)
    raw.send(raw.headers(1, block[:16384], end_headers=False) + raw.continuation(1, block[16384:32768]))
    raw.wait(lambda: raw.goaways or 1 in raw.resets or raw.status(1) or raw.closed, 5, "a refusal of the block")
    refused = any(g.error_code == ENHANCE_YOUR_CALM for g in raw.goaways) or 1 in raw.resets or raw.status(1) == 431
    assert refused, raw.describe()
    if raw.goaways:
        raw.wait_closed(5)
    served_after(server, bystander)


CONTROL_FRAMES = {
    "settings": lambda i: SettingsFrame(0).serialize(),
    "ping": lambda i: PingFrame(0, opaque_data=i.to_bytes(8, "big")).serialize(),
    "priority": lambda i: PriorityFrame(2 * i + 1001, depends_on=0, stream_weight=15).serialize(),
    "window_update": lambda i: WindowUpdateFrame(0, window_increment=1).serialize(),
    "empty_data": lambda i: DataFrame(1, b"").serialize(),
}


@pytest.mark.parametrize("kind", list(CONTROL_FRAMES))
def test_control_frame_flood_gets_enhance_your_calm(server, kind):
    bystander = server.client()
    raw = RawH2(server.port)
    if kind == "empty_data":  # an open upload to send empty DATA frames on
        raw.send(raw.headers(1, raw.block("POST", "/hold"), end_stream=False))
    make = CONTROL_FRAMES[kind]
    batches = (b"".join(make(b * 100 + i) for i in range(100)) for b in range(100))  # up to 10,000; burst 1000
    flood(raw, batches, bystander)
    served_after(server, bystander)


def test_a_download_acknowledged_frame_by_frame_is_not_a_flood(server):
    # A client may hand back every DATA frame at once (two WINDOW_UPDATEs per frame): 32 MiB
    # is 4096 of them within a second or two, and must not count as a control-frame flood.
    raw = RawH2(server.port)
    size = 32 << 20

    def acknowledge(frame):
        if frame.payload:
            raw.send(WindowUpdateFrame(frame.stream_id, window_increment=len(frame.payload)).serialize()
                     + WindowUpdateFrame(0, window_increment=len(frame.payload)).serialize())

    raw.on_data = acknowledge
    raw.send(raw.headers(1, raw.block("GET", f"/big?bytes={size}&chunk=65536")))
    raw.wait(lambda: len(raw.bodies.get(1, b"")) == size or raw.goaways or 1 in raw.resets, 30, "the whole body")
    assert len(raw.bodies[1]) == size and not raw.goaways, raw.describe()


def test_pings_within_the_burst_are_answered_and_the_connection_kept(server):
    raw = RawH2(server.port)
    raw.send(b"".join(PingFrame(0, opaque_data=i.to_bytes(8, "big")).serialize() for i in range(100)))
    acks = lambda: [f for f in raw.frames if f.type == 6 and f.flags & 0x1]  # noqa: E731
    raw.wait(lambda: len(acks()) == 100, 5, "100 PING acknowledgements")
    raw.send(raw.headers(1, raw.block("GET", "/")))
    raw.wait(lambda: raw.status(1), 5, "stream 1 answered")
    assert raw.status(1) == 200 and not raw.goaways, raw.describe()
