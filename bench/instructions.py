#!/usr/bin/env python3
"""Instructions and heap allocations per request, user space, counted by valgrind (callgrind's
totals, and its call counts of malloc/calloc/realloc): figures that do not move with the
machine's load, unlike req/s and CPU time on a shared VM.

Each server runs twice under valgrind, serving `small` and then `large` requests after the
same warm-up; (instructions(large) - instructions(small)) / (large - small) is the cost of
one request without start-up and shut-down. Kernel time (the socket calls) is not in it:
bench/run.py measures that.

  bench/instructions.py --build build/release [--requests 4000]
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time



def wait_port(port, proc, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"instructions: the server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"instructions: nothing listens on {port}")


def drive(port, count, batch, path="/plaintext"):
    """Sends `count` requests for `path` on one connection, `batch` at a time, reading every
    answer (both endpoints answer "Hello, World!")."""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    s = socket.create_connection(("127.0.0.1", port))
    sent = 0
    while sent < count:
        n = min(batch, count - sent)
        s.sendall(request * n)
        answered, data = 0, b""
        while answered < n:
            chunk = s.recv(65536)
            if not chunk:
                sys.exit("instructions: the server closed the connection")
            data += chunk
            answered = data.count(b"Hello, World!")
        sent += n
    s.close()


def instructions(binary, port, count, batch, path, tmp):
    out = os.path.join(tmp, f"callgrind.{port}")
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", binary, str(port), "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc)
        drive(port, 500, batch, path)  # warm-up: caches, free lists, the date string
        drive(port, count, batch, path)
    finally:
        proc.terminate()
        proc.wait(timeout=120)
    return read_counts(out)


def read_counts(path):
    """(instructions, heap allocations) from a callgrind output file: the totals line, and
    the call counts of every call to malloc, calloc or realloc (operator new calls malloc)."""
    names, total, allocations, callee = {}, None, 0, None
    allocators = {"malloc", "calloc", "realloc"}
    with open(path) as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                total = int(re.findall(r"\d+", line)[0])
            elif line.startswith(("fn=", "cfn=")):
                # "fn=(12) name" or "cfn=(12) name" names id 12 the first time; later "(12)"
                # alone refers to it.
                m = re.match(r"c?fn=\((\d+)\)(?: (.*))?", line.strip())
                if m and m.group(2):
                    names[m.group(1)] = m.group(2)
                if line.startswith("cfn="):
                    callee = names.get(m.group(1)) if m else None
            elif line.startswith("calls=") and callee in allocators:
                allocations += int(line[6:].split()[0])
                callee = None
    if total is None:
        sys.exit("instructions: no totals in the callgrind output")
    return total, allocations


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build/release")
    ap.add_argument("--requests", type=int, default=4000)
    args = ap.parse_args()
    bench_bin = os.path.join(args.build, "bench")
    small, large = args.requests // 4, args.requests
    port = 18700
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for path, mode, batch in (("/plaintext", "one request per round trip", 1), ("/plaintext", "16 pipelined", 16),
                                  ("/json", "one request per round trip", 1)):
            per, allocs = {}, {}
            for name in ("beast", "spur"):
                counts = []
                for n in (small, large):
                    port += 1
                    counts.append(instructions(os.path.join(bench_bin, f"{name}_server"), port, n, batch, path, tmp))
                per[name] = (counts[1][0] - counts[0][0]) / (large - small)
                allocs[name] = (counts[1][1] - counts[0][1]) / (large - small)
            rows.append((f"{path}, {mode}", per["beast"], per["spur"], allocs["beast"], allocs["spur"]))
            print(f"instructions: {path}, {mode}: beast {per['beast']:.0f}, spur {per['spur']:.0f} "
                  f"per request ({per['spur'] / per['beast']:.2f}×); heap allocations beast {allocs['beast']:.1f}, "
                  f"spur {allocs['spur']:.1f}", file=sys.stderr, flush=True)
    print("| per request | bare Beast | spur | spur ÷ Beast | heap allocations: Beast | spur |\n"
          "|---|---:|---:|---:|---:|---:|")
    for mode, b, s, ab, as_ in rows:
        print(f"| {mode} | {b:,.0f} | {s:,.0f} | {s / b:.2f} | {ab:.1f} | {as_:.1f} |")


if __name__ == "__main__":
    main()
