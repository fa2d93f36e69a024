#!/usr/bin/python3
"""Writes fuzz/corpus/h2/: the seeds of fuzz_h2, valid HTTP/2 frame sequences a client sends
after its preface (which the harness sends itself). Frames are built with hyperframe and
checked with hpack's decoder (Debian's python3-hyperframe and python3-hpack, dependencies of
python3-h2; hence /usr/bin/python3). Most header blocks are HPACK literals without indexing
and without Huffman coding, so that the fuzzer sees and mutates the names and values; one
sequence uses hpack's encoder (indexed fields, Huffman, the dynamic table).
Run: fuzz/corpus/make_h2_seeds.py   (rewrites the seeds; the output is deterministic)
"""
import os

import hpack
from hyperframe.frame import (ContinuationFrame, DataFrame, GoAwayFrame, HeadersFrame, PingFrame, PriorityFrame,
                              RstStreamFrame, SettingsFrame, WindowUpdateFrame)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "h2")
CANCEL, NO_ERROR = 0x8, 0x0


def string(text):
    """An HPACK string literal without Huffman coding (lengths here stay under 127)."""
    raw = text.encode()
    assert len(raw) < 127
    return bytes([len(raw)]) + raw


def literal(headers):
    """A header block of literals without indexing, new names (RFC 7541 §6.2.2)."""
    block = b"".join(b"\x00" + string(name) + string(value) for name, value in headers)
    assert hpack.Decoder().decode(block) == list(headers)
    return block


def request(method, path, extra=()):
    return [(":method", method), (":scheme", "http"), (":authority", "localhost"), (":path", path), *extra]


def frame(f, *flags):
    for flag in flags:
        f.flags.add(flag)
    return f.serialize()


def settings():
    return frame(SettingsFrame(0, settings={SettingsFrame.HEADER_TABLE_SIZE: 4096, SettingsFrame.ENABLE_PUSH: 0,
                                            SettingsFrame.MAX_CONCURRENT_STREAMS: 100,
                                            SettingsFrame.INITIAL_WINDOW_SIZE: 65535,
                                            SettingsFrame.MAX_FRAME_SIZE: 16384}))


def headers(stream, block, *flags):
    return frame(HeadersFrame(stream, data=block), "END_HEADERS", *flags)


def seeds():
    get = literal(request("GET", "/"))
    body = b'{"a":[1,2,{"b":null}]}'
    post = literal(request("POST", "/json", [("content-type", "application/json"),
                                             ("content-length", str(len(body)))]))
    echo = literal(request("POST", "/echo", [("content-type", "text/plain")]))
    split = literal(request("GET", "/cookies", [("cookie", "a=1"), ("cookie", "b=2"), ("user-agent", "seed")]))
    third = len(split) // 3
    encoded = hpack.Encoder().encode(request("GET", "/users/42/posts/7?q=x", [("accept", "application/json")]),
                                     huffman=True)
    padded = HeadersFrame(1, data=get, pad_length=4, depends_on=0, stream_weight=15)
    form = (b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n'
            b'--b\r\nContent-Disposition: form-data; name="f"; filename="f.txt"\r\nContent-Type: text/plain\r\n\r\n'
            b'hello\r\n--b--\r\n')
    upload = literal(request("POST", "/upload", [("content-type", "multipart/form-data; boundary=b")]))
    return {
        # The client's SETTINGS, and its acknowledgement of the server's.
        "settings": settings() + frame(SettingsFrame(0), "ACK"),
        # GET / in one HEADERS frame.
        "get": settings() + headers(1, get, "END_STREAM"),
        # hpack's own encoding (indexed names, Huffman strings, the dynamic table), twice on one
        # connection so the second block refers to the table.
        "get_indexed": settings() + headers(1, encoded, "END_STREAM") + headers(3, encoded, "END_STREAM"),
        # A body in two DATA frames, the second ending the stream.
        "post_data": settings() + headers(1, post) + frame(DataFrame(1, data=body[:8]))
                     + frame(DataFrame(1, data=body[8:]), "END_STREAM"),
        # Padded HEADERS with a priority, then a PRIORITY frame for another stream.
        "padded_priority": settings() + frame(padded, "END_HEADERS", "END_STREAM", "PADDED", "PRIORITY")
                           + frame(PriorityFrame(3, depends_on=1, stream_weight=200)),
        # A body that is never finished: the client resets the stream.
        "rst_stream": settings() + headers(1, echo) + frame(DataFrame(1, data=b"partial"))
                      + frame(RstStreamFrame(1, error_code=CANCEL)),
        # One header block over HEADERS and two CONTINUATION frames (two cookie fields).
        "continuation": settings() + frame(HeadersFrame(1, data=split[:third]), "END_STREAM")
                        + frame(ContinuationFrame(1, data=split[third:2 * third]))
                        + frame(ContinuationFrame(1, data=split[2 * third:]), "END_HEADERS"),
        # PING, and an acknowledgement of one.
        "ping": settings() + frame(PingFrame(0, opaque_data=b"spurping")) + frame(PingFrame(0, opaque_data=b"\0" * 8), "ACK"),
        # A streamed answer larger than the default window: WINDOW_UPDATE for the stream and
        # the connection.
        "window_update": settings() + headers(1, literal(request("GET", "/stream")), "END_STREAM")
                         + frame(WindowUpdateFrame(0, window_increment=1 << 20))
                         + frame(WindowUpdateFrame(1, window_increment=1 << 20)),
        # Three streams at once, one a multipart form, then GOAWAY.
        "goaway": settings() + headers(1, get, "END_STREAM") + headers(3, upload)
                  + headers(5, literal(request("GET", "/users/1/posts/2")), "END_STREAM")
                  + frame(DataFrame(3, data=form), "END_STREAM")
                  + frame(GoAwayFrame(0, last_stream_id=0, error_code=NO_ERROR)),
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in seeds().items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
