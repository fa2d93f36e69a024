"""Shared by the reliability scripts."""
import re
import time


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
