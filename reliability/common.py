"""Shared by the reliability scripts."""
import http.client
import json
import re
import time


def call(port, method, path, body=None, token=None, raw_body=None, headers=None, timeout=15):
    """One request on its own connection to 127.0.0.1:port: `body` is sent as JSON (or
    `raw_body` as it is), `token` as a bearer token. Returns (status, body bytes)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = {"Content-Type": "application/json", **(headers or {})}
    if token:
        h["Authorization"] = "Bearer " + token
    data = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    c.request(method, path, data, h)
    r = c.getresponse()
    payload = r.read()
    c.close()
    return r.status, payload


def port_from_log(log_path, proc=None, seconds=15):
    """The port from a server's "listening on http://host:PORT" log line, waiting up to
    `seconds`; raises RuntimeError if `proc` exits first or no line appears."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        with open(log_path) as f:
            m = re.search(r"listening on http://[^:]+:(\d+)", f.read())
        if m:
            return int(m.group(1))
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("the server exited: " + open(log_path).read()[-2000:])
        time.sleep(0.05)
    raise RuntimeError("the server did not log its port in time")
