"""The AI service as its users run it: serve.sh in a subprocess, on a free port.

Its stderr is read on a thread into a list of lines; waiting for a line (the
startup banner, a request's log line) waits on a condition the reader
notifies, with a deadline.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable

SERVE_SH = Path(__file__).resolve().parent.parent / "serve.sh"
STARTUP_SECONDS = 15


def free_port() -> int:
    # uvicorn cannot report the port it got for --port 0, so one is picked here;
    # another process could take it before uvicorn binds it, which is unlikely.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveServer:
    def __init__(self, process: subprocess.Popen, port: int) -> None:
        self.process = process
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self._lines: list[str] = []
        self._ended = False
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()

    @classmethod
    def start(cls, env: dict[str, str] | None = None) -> "LiveServer":
        """serve.sh on a free port, with `env` added to this process's environment."""
        port = free_port()
        process = subprocess.Popen(
            [str(SERVE_SH), str(port)],
            cwd="/",  # serve.sh must work from any directory
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        live = cls(process, port)
        try:
            live.wait_for_line(lambda line: f"Uvicorn running on http://127.0.0.1:{port}" in line, STARTUP_SECONDS)
        except BaseException:
            live.stop()
            raise
        return live

    def __enter__(self) -> "LiveServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # serve.sh exec'd uvicorn: this is uvicorn
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=5)

    def _read_stderr(self) -> None:
        for line in self.process.stderr:
            with self._changed:
                self._lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    def stderr(self) -> str:
        with self._changed:
            return "\n".join(self._lines)

    def wait_for_line(self, matches: Callable[[str], bool], timeout: float) -> str:
        """The first stderr line that `matches`, waiting up to `timeout` seconds for it."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self._lines:
                    if matches(line):
                        return line
                remaining = deadline - time.monotonic()
                if self._ended or remaining <= 0:
                    raise AssertionError(
                        f"no such line on the service's stderr (exit code {self.process.poll()}):\n" + "\n".join(self._lines)
                    )
                self._changed.wait(remaining)

    def log_record(self, request_id: str, timeout: float = 5) -> dict:
        """The JSON log line of the request sent with X-Request-Id `request_id`."""
        line = self.wait_for_line(lambda l: l.startswith("{") and json.loads(l).get("request_id") == request_id, timeout)
        return json.loads(line)
