#!/usr/bin/env python3
"""spur-app's user-space instructions and heap allocations per request, counted by valgrind
(callgrind), as bench/instructions.py counts the bare servers': figures that do not move with
the machine's load. Rows: GET /healthz with the access log on (LOG_FORMAT=dev, as deployed)
and off, and GET /api/texts/:id (a bearer token checked, one statement) with the log off.

Each row runs spur-app twice under valgrind, serving `requests / 4` and then `requests`
requests one at a time on one connection after the same warm-up; the difference divided by
the difference in requests is the cost of one request without start-up (bcrypt's hash of the
dummy password, the CA store) and shut-down. MariaDB's own work is in another process and not
counted; kernel time is not either (bench/run.py measures both).

  bench/app_instructions.py --build build/release --database-url URL [--requests 2000]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from instructions import read_counts, wait_port  # noqa: E402

JWT_SECRET = "app-instructions-0123456789abcdef0123456789"


def app_env(args, port, log_format):
    return {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "DATABASE_URL": args.database_url,
            "JWT_SECRET": JWT_SECRET, "THREADS": "1", "BCRYPT_COST": "10", "LOG_FORMAT": log_format}


def call(port, method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        if e.code == 409:  # registered by an earlier run
            return None
        raise


def seed(args, port):
    """A user with one text; returns (token, text id)."""
    subprocess.run([f"{args.build}/app/spur-app", "migrate"], check=True, capture_output=True,
                   env=app_env(args, port, "off"))
    proc = subprocess.Popen([f"{args.build}/app/spur-app", "serve"], env=app_env(args, port, "off"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc)
        account = {"email": "instructions@example.com", "password": "correct horse battery"}
        call(port, "POST", "/api/auth/register", account)
        token = call(port, "POST", "/api/auth/login", account)["token"]
        text = call(port, "POST", "/api/texts", {"title": "t", "content": "lorem ipsum " * 40}, token)
        return token, text["text"]["id"]
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def drive(port, count, request):
    """Sends `request` `count` times on one connection, one at a time, reading each answer
    whole (by its Content-Length)."""
    import socket
    s = socket.create_connection(("127.0.0.1", port))
    pending = b""
    for _ in range(count):
        s.sendall(request)
        while True:
            head, sep, rest = pending.partition(b"\r\n\r\n")
            if sep:
                length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                if len(rest) >= length:
                    if not head.startswith(b"HTTP/1.1 200"):
                        sys.exit(f"app_instructions: {head.splitlines()[0].decode()}")
                    pending = rest[length:]
                    break
            chunk = s.recv(65536)
            if not chunk:
                sys.exit("app_instructions: spur-app closed the connection")
            pending += chunk
    s.close()


def measure(args, port, count, request, log_format, tmp):
    out = os.path.join(tmp, f"callgrind.{port}")
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                             f"{args.build}/app/spur-app", "serve"], env=app_env(args, port, log_format),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc, timeout=180)  # under valgrind the start (bcrypt, CA store) takes a while
        drive(port, 200, request)  # warm-up: the pool's connection, prepared statements, caches
        drive(port, count, request)
    finally:
        proc.terminate()
        proc.wait(timeout=180)
    return read_counts(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build/release")
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--requests", type=int, default=2000)
    args = ap.parse_args()
    small, large = args.requests // 4, args.requests
    port = 18750
    token, text_id = seed(args, port)
    healthz = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    text = (f"GET /api/texts/{text_id} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\n\r\n").encode()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, request, log_format in (("GET /healthz, access log on (dev)", healthz, "dev"),
                                           ("GET /healthz, access log off", healthz, "off"),
                                           ("GET /api/texts/:id, access log off", text, "off")):
            counts = []
            for n in (small, large):
                port += 1
                counts.append(measure(args, port, n, request, log_format, tmp))
            per = (counts[1][0] - counts[0][0]) / (large - small)
            allocs = (counts[1][1] - counts[0][1]) / (large - small)
            rows.append((label, per, allocs))
            print(f"app_instructions: {label}: {per:,.0f} instructions, {allocs:.1f} heap allocations per request",
                  file=sys.stderr, flush=True)
    print("| spur-app, per request | instructions | heap allocations |\n|---|---:|---:|")
    for label, per, allocs in rows:
        print(f"| {label} | {per:,.0f} | {allocs:.1f} |")


if __name__ == "__main__":
    main()
