#!/usr/bin/env python3
"""Latency of a summary, directly against the AI service and through spur-app: time to the
first sentence event and to the end of the stream, per text size, rounds interleaved (direct,
then through spur-app, alternately) so both see the same machine.

Needs a running spur-app and AI service (scripts/run.sh starts both):

  bench/ai_latency.py [--app http://127.0.0.1:3001] [--service http://127.0.0.1:3002] [--rounds 20]

Through spur-app each round summarises a text it has not summarised before (a new one per
round), so the database's stored summary never answers: what is measured is the relay.
"""
import argparse
import http.client
import json
import statistics
import sys
import time
import urllib.parse

SENTENCE = ("Rivers shape the valleys they run through, and farmers settle near them because the soil "
            "is rich. ")


def connect(url):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=60)


def call(base, method, path, body=None, headers=None):
    c = connect(base)
    data = json.dumps(body).encode() if body is not None else None
    h = {"Content-Type": "application/json"} if data is not None else {}
    h.update(headers or {})
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    out = r.read()
    c.close()
    return r.status, (json.loads(out) if out else None)


def stream(base, path, body, headers):
    """(seconds to the first sentence event, seconds to the end) of one summary stream."""
    c = connect(base)
    data = json.dumps(body).encode() if body is not None else b""
    h = {"Content-Type": "application/json"} if body is not None else {}
    h.update(headers)
    start = time.perf_counter()
    c.request("POST", path, body=data, headers=h)
    r = c.getresponse()
    if r.status != 200:
        sys.exit(f"ai_latency: {path} answered {r.status}: {r.read()[:200]!r}")
    first = None
    while True:
        line = r.readline()
        if not line:
            break
        if line.startswith(b"event: sentence") and first is None:
            first = time.perf_counter() - start
        if line.startswith(b"event: done"):
            break
        if line.startswith(b"event: error"):
            sys.exit(f"ai_latency: the stream failed: {r.readline()!r}")
    end = time.perf_counter() - start
    c.close()
    return first, end


def summary(values):
    ms = sorted(v * 1000 for v in values)
    return f"{statistics.median(ms):8.1f} {ms[int(len(ms) * 0.9) - 1]:8.1f}"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--app", default="http://127.0.0.1:3001")
    p.add_argument("--service", default="http://127.0.0.1:3002")
    p.add_argument("--rounds", type=int, default=20)
    a = p.parse_args()

    email = f"bench-{time.time_ns()}@example.com"
    password = "correct horse battery"
    status, _ = call(a.app, "POST", "/api/auth/register", {"email": email, "password": password})
    if status != 201:
        sys.exit(f"ai_latency: registering at {a.app} answered {status}")
    _, login = call(a.app, "POST", "/api/auth/login", {"email": email, "password": password})
    auth = {"Authorization": "Bearer " + login["token"]}

    print(f"{'text':>8} {'path':<10} {'first sentence ms (median p90)':>32} {'whole summary ms (median p90)':>32}")
    for sentences in (20, 1000):
        direct_first, direct_all, relay_first, relay_all = [], [], [], []
        for n in range(a.rounds):
            text = f"Round {n}. " + SENTENCE * sentences
            f, e = stream(a.service, "/v1/summarize", {"text": text, "max_sentences": 3}, {})
            direct_first.append(f)
            direct_all.append(e)
            status, created = call(a.app, "POST", "/api/texts", {"title": f"bench {n}", "content": text}, auth)
            if status != 201:
                sys.exit(f"ai_latency: creating a text answered {status}: {created}")
            f, e = stream(a.app, f"/api/texts/{created['text']['id']}/summary?sentences=3", None, auth)
            relay_first.append(f)
            relay_all.append(e)
            call(a.app, "DELETE", f"/api/texts/{created['text']['id']}", None, auth)
        size = f"{len(text) / 1024:.1f} KiB"
        print(f"{size:>8} {'direct':<10} {summary(direct_first):>32} {summary(direct_all):>32}")
        print(f"{size:>8} {'spur-app':<10} {summary(relay_first):>32} {summary(relay_all):>32}")
    call(a.app, "DELETE", "/api/auth/me", {"password": password}, auth)


if __name__ == "__main__":
    main()
