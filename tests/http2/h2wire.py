"""HTTP/2 clients over raw sockets, independent of spur: H2Client (python-h2, well-behaved)
and RawH2 (frames built by hand with hyperframe and hpack, for what python-h2 refuses to send:
floods, CONTINUATION chains, streams past the server's limit). Both record what arrived, frame
by frame, so that a failing test can say what the server did on the wire."""
import socket
import ssl
import time

import h2.config
import h2.connection
import h2.events
import hpack
from hyperframe.frame import ContinuationFrame, HeadersFrame, RstStreamFrame, SettingsFrame

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
FRAME_NAMES = {0: "DATA", 1: "HEADERS", 2: "PRIORITY", 3: "RST_STREAM", 4: "SETTINGS", 5: "PUSH_PROMISE",
               6: "PING", 7: "GOAWAY", 8: "WINDOW_UPDATE", 9: "CONTINUATION"}
NO_ERROR, PROTOCOL_ERROR, REFUSED_STREAM, CANCEL, ENHANCE_YOUR_CALM, HTTP_1_1_REQUIRED = 0x0, 0x1, 0x7, 0x8, 0xB, 0xD
END_STREAM, END_HEADERS, PADDED, PRIORITY_FLAG = 0x1, 0x4, 0x8, 0x20


def connect(port, tls=False, alpn=("h2",), timeout=5.0):
    """A TCP connection to 127.0.0.1:port, wrapped in TLS (any certificate, ALPN `alpn`) if asked."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if not tls:
        return sock
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if alpn:
        context.set_alpn_protocols(list(alpn))
    return context.wrap_socket(sock, server_hostname="localhost")


class Frame:
    def __init__(self, raw):
        self.raw = raw
        self.type, self.flags = raw[3], raw[4]
        self.stream_id = int.from_bytes(raw[5:9], "big") & 0x7FFFFFFF
        self.payload = raw[9:]

    def __repr__(self):
        name = FRAME_NAMES.get(self.type, hex(self.type))
        return f"{name}(stream={self.stream_id}, flags={self.flags:#x}, len={len(self.payload)})"


class GoAway:
    def __init__(self, payload):
        self.last_stream_id = int.from_bytes(payload[0:4], "big") & 0x7FFFFFFF
        self.error_code = int.from_bytes(payload[4:8], "big")
        self.debug = bytes(payload[8:])

    def __repr__(self):
        return f"GOAWAY(last_stream={self.last_stream_id}, error={self.error_code:#x}, debug={self.debug!r})"


OPEN = []  # every Wire made, for close_all()


def close_all():
    """Closes every client socket made so far (a test's leftovers: the server's graceful close
    of a connection would wait for the client's)."""
    while OPEN:
        OPEN.pop().close()


class Wire:
    """The reading half both clients share: whole frames from the socket, and how it ended."""

    def __init__(self, sock):
        OPEN.append(self)
        self.sock = sock
        self.buffer = bytearray()
        self.frames = []       # every frame received, in order
        self.goaways = []      # GOAWAY frames (kept from python-h2, which would close on the first)
        self.closed = False    # the peer closed (FIN) or reset the connection
        self.reset_by_peer = False

    @property
    def goaway(self):
        return self.goaways[-1] if self.goaways else None

    def send(self, data):
        """Sends `data`; False (and closed) if the peer has gone."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.closed = self.reset_by_peer = True
            return False

    def read_frames(self, timeout):
        """The whole frames that arrived within `timeout` seconds (one read)."""
        if self.closed:
            return []
        try:
            self.sock.settimeout(max(timeout, 0.001))
            data = self.sock.recv(1 << 20)
        except (socket.timeout, TimeoutError, ssl.SSLWantReadError):
            return []
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError):
            self.closed = self.reset_by_peer = True
            return []
        if not data:
            self.closed = True
            return []
        self.buffer += data
        frames = []
        while len(self.buffer) >= 9:
            length = int.from_bytes(self.buffer[0:3], "big")
            if len(self.buffer) < 9 + length:
                break
            frame = Frame(bytes(self.buffer[:9 + length]))
            del self.buffer[:9 + length]
            self.frames.append(frame)
            if frame.type == 7:
                self.goaways.append(GoAway(frame.payload))
            frames.append(frame)
        return frames

    def describe(self):
        tail = self.frames[-12:]
        return f"last frames {tail}, goaways {self.goaways}, closed={self.closed}, reset={self.reset_by_peer}"

    def wait(self, predicate, timeout=10.0, what="the condition"):
        """Reads until predicate() holds; AssertionError (saying what arrived) after `timeout`."""
        deadline = time.monotonic() + timeout
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {what}: {self.describe()}")
            if self.closed:
                raise AssertionError(f"connection closed while waiting for {what}: {self.describe()}")
            self.pump(min(left, 0.5))

    def wait_closed(self, timeout=10.0):
        """Reads (and discards) until the peer closes; AssertionError if it has not by `timeout`."""
        self.wait(lambda: self.closed, timeout, "the server to close the connection")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Stream:
    def __init__(self, stream_id):
        self.id = stream_id
        self.status = None
        self.headers = []          # the final response's fields, (name, value) strings
        self.informational = []    # 1xx responses' fields
        self.data = bytearray()
        self.frames = []           # (arrival time, bytes) per DATA frame
        self.headers_at = None
        self.ended = False
        self.reset = None          # RST_STREAM's error code
        self.window_updates = 0    # WINDOW_UPDATE frames the server sent for this stream
        self.acked = 0             # DATA bytes handed back to the server (H2Client.ack_all)

    @property
    def done(self):
        return self.ended or self.reset is not None

    def header(self, name):
        return next((v for k, v in self.headers if k == name), None)

    def __repr__(self):
        return (f"Stream({self.id}, status={self.status}, reset={self.reset}, ended={self.ended}, "
                f"{len(self.data)} bytes, headers={self.headers})")


class H2Client(Wire):
    """A well-behaved client (python-h2): it sends within the server's windows and advertises
    (auto_ack) consumed DATA back. GOAWAY frames are kept from python-h2, whose client cannot
    finish streams after one, and recorded instead."""

    def __init__(self, port, tls=False, alpn=("h2",), auto_ack=True, sock=None):
        super().__init__(sock or connect(port, tls, alpn))
        self.authority = f"127.0.0.1:{port}"
        self.scheme = "https" if tls else "http"
        self.auto_ack = auto_ack
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        self.streams = {}
        self.remote_settings_seen = False
        self.flush()
        self.wait(lambda: self.remote_settings_seen, 5, "the server's SETTINGS")

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.send(data)

    def pump(self, timeout):
        for frame in self.read_frames(timeout):
            if frame.type != 7:
                for event in self.conn.receive_data(frame.raw):
                    self._on(event)
        self.flush()

    def _on(self, event):
        stream = self.streams.get(getattr(event, "stream_id", 0) or 0)
        if isinstance(event, h2.events.RemoteSettingsChanged):
            self.remote_settings_seen = True
        elif isinstance(event, h2.events.InformationalResponseReceived):
            stream.informational.append(event.headers)
        elif isinstance(event, h2.events.ResponseReceived):
            stream.headers, stream.headers_at = list(event.headers), time.monotonic()
            stream.status = int(dict(event.headers)[":status"])
        elif isinstance(event, h2.events.DataReceived):
            stream.data += event.data
            stream.frames.append((time.monotonic(), event.data))
            if self.auto_ack and event.flow_controlled_length:
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            stream.ended = True
        elif isinstance(event, h2.events.StreamReset) and stream is not None:
            stream.reset = event.error_code
        elif isinstance(event, h2.events.WindowUpdated) and stream is not None:
            stream.window_updates += 1

    def ack_all(self):
        """Hands every DATA byte received so far back to the server (when auto_ack is off)."""
        for stream in self.streams.values():
            pending = len(stream.data) - stream.acked
            if pending:
                self.conn.acknowledge_received_data(pending, stream.id)
                stream.acked += pending
        self.flush()

    def request(self, method, path, headers=(), body=None, end_stream=None):
        """Opens a stream; sends `body` (bytes) within the flow-control windows. Returns its id."""
        stream_id = self.conn.get_next_available_stream_id()
        fields = [(":method", method), (":scheme", self.scheme), (":authority", self.authority), (":path", path),
                  *headers]
        self.streams[stream_id] = Stream(stream_id)
        end = (body is None) if end_stream is None else end_stream
        self.conn.send_headers(stream_id, fields, end_stream=end)
        self.flush()
        if body is not None:
            self.send_body(stream_id, body, end=end_stream is not False)
        return stream_id

    def send_body(self, stream_id, body, end=True, timeout=30.0):
        """Sends `body` no faster than the server's windows allow (python-h2's
        local_flow_control_window), waiting for its WINDOW_UPDATEs."""
        view, deadline = memoryview(body), time.monotonic() + timeout
        while view:
            window = min(self.conn.local_flow_control_window(stream_id), self.conn.max_outbound_frame_size)
            if window <= 0:
                if self.streams[stream_id].done or time.monotonic() > deadline:
                    raise AssertionError(f"stream {stream_id} stalled with {len(view)} bytes unsent: "
                                         f"{self.streams[stream_id]}, {self.describe()}")
                self.pump(0.5)
                continue
            self.conn.send_data(stream_id, view[:window].tobytes())
            view = view[window:]
            self.flush()
        if end:
            self.conn.end_stream(stream_id)
            self.flush()

    def reset(self, stream_id, code=CANCEL):
        self.conn.reset_stream(stream_id, code)
        self.flush()

    def response(self, stream_id, timeout=10.0):
        stream = self.streams[stream_id]
        self.wait(lambda: stream.done, timeout, f"the response on stream {stream_id}")
        return stream

    def get(self, path, headers=(), timeout=10.0):
        return self.response(self.request("GET", path, headers), timeout)


class RawH2(Wire):
    """Frames by hand. Sends the preface and an empty SETTINGS and waits for the server's
    (acknowledging them), decodes response headers (HPACK) and records RST_STREAM codes and bodies."""

    def __init__(self, port, tls=False, preface=True, ack_settings=True):
        super().__init__(connect(port, tls))
        self.encoder, self.decoder = hpack.Encoder(), hpack.Decoder()
        self.ack_settings = ack_settings
        self.server_settings = None
        self.responses = {}   # stream id -> [(name, value)] of its HEADERS
        self.bodies = {}      # stream id -> bytearray
        self.on_data = None   # called with each DATA frame, if set
        self.resets = {}      # stream id -> error code
        if preface:
            self.send(PREFACE + SettingsFrame(0).serialize())
        if preface and ack_settings:
            # The server's SETTINGS are acknowledged before anything else is sent: an ACK sent
            # later could land inside a header block a test leaves open.
            self.wait(lambda: self.server_settings is not None, 5, "the server's SETTINGS")

    def pump(self, timeout):
        for frame in self.read_frames(timeout):
            if frame.type == 4 and not frame.flags & 0x1:
                payload = frame.payload
                self.server_settings = {int.from_bytes(payload[i:i + 2], "big"): int.from_bytes(payload[i + 2:i + 6], "big")
                                        for i in range(0, len(payload), 6)}
                if self.ack_settings:
                    self.send(SettingsFrame(0, flags=["ACK"]).serialize())
            elif frame.type == 1:
                block = frame.payload
                if frame.flags & PADDED:
                    block = block[1:len(block) - block[0]]
                if frame.flags & PRIORITY_FLAG:
                    block = block[5:]
                fields = [(bytes(k).decode(), bytes(v).decode()) for k, v in self.decoder.decode(block, raw=True)]
                self.responses.setdefault(frame.stream_id, []).extend(fields)
            elif frame.type == 0:
                self.bodies.setdefault(frame.stream_id, bytearray()).extend(frame.payload)
                if self.on_data:
                    self.on_data(frame)
            elif frame.type == 3:
                self.resets[frame.stream_id] = int.from_bytes(frame.payload[0:4], "big")

    def status(self, stream_id):
        fields = self.responses.get(stream_id, [])
        return next((int(v) for k, v in fields if k == ":status"), None)

    def block(self, method, path, extra=(), authority="127.0.0.1"):
        """An HPACK header block for a request (the encoder's table is this connection's)."""
        return self.encoder.encode([(":method", method), (":scheme", "http"), (":authority", authority),
                                    (":path", path), *extra])

    @staticmethod
    def headers(stream_id, block, end_stream=True, end_headers=True):
        flags = (["END_STREAM"] if end_stream else []) + (["END_HEADERS"] if end_headers else [])
        return HeadersFrame(stream_id, data=block, flags=flags).serialize()

    @staticmethod
    def continuation(stream_id, block, end_headers=False):
        return ContinuationFrame(stream_id, data=block, flags=["END_HEADERS"] if end_headers else []).serialize()

    @staticmethod
    def rst(stream_id, code=CANCEL):
        return RstStreamFrame(stream_id, error_code=code).serialize()
