"""Timing calls in a child process, for the complexity tests.

A regression to super-linear time must fail the test at a deadline, not hang the
suite for hours: Python's `re` holds the GIL for a whole match, so neither a
thread nor a signal handler could interrupt it — but a child process can be
killed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SERVICE_DIR = Path(__file__).resolve().parent.parent

_CHILD = """
import json, sys, time
MIB = 1 << 20
exec(sys.argv[1])
for name, (make_text, call) in json.loads(sys.argv[2]).items():
    text = eval(make_text)
    started = time.perf_counter()
    value = eval(call)
    print(json.dumps([name, time.perf_counter() - started, value]), flush=True)
"""


def timed_in_child(imports: str, cases: dict[str, tuple[str, str]], timeout: float) -> dict[str, tuple[float, object]]:
    """{name: (seconds, value)} for each case (text expression, call expression on `text`).

    The expressions are evaluated in a fresh interpreter after `imports`; `MIB`
    is 1 << 20 there. The whole run is killed after `timeout` seconds, and then
    this raises AssertionError naming the cases that finished.
    """
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, imports, json.dumps(cases)],
            cwd=SERVICE_DIR,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as expired:
        finished = expired.stdout.decode() if isinstance(expired.stdout, bytes) else expired.stdout
        raise AssertionError(f"still running after {timeout} s; finished before that: {finished!r}") from None
    assert done.returncode == 0, done.stderr
    results = {}
    for line in done.stdout.splitlines():
        name, seconds, value = json.loads(line)
        results[name] = (seconds, value)
    return results
