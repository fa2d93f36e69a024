#!/usr/bin/env python3
"""Issue #31, finding 3: can one free account's searches take the database from everyone else?

Against a running spur-app (BASE, default http://127.0.0.1:3001): registers a searcher and a
bystander, gives the searcher three texts of 1 MiB ('a' repeated: the worst case for a substring
scan), then for --seconds keeps --searches concurrent searches of a 100-character q running
(99 x 'a' + 'b', which almost matches everywhere) while the bystander asks /api/auth/me and a
balancer asks /readyz, one after the other. Prints a JSON summary: the bystander's latencies
(p50, p99, max) and statuses, /readyz statuses, the searches' statuses, and one search alone.
--accounts N spreads the searches over N such accounts (the global limit, not the per-account one).

  ./build/dev/app/spur-app --dev &      # or scripts/run.sh; with --accounts N > 8, also
                                        # REGISTER_BURST_PER_IP and LOGIN_BURST_PER_IP above N + 1
  reliability/search_flood.py http://127.0.0.1:3001

Standard library only.
"""
import argparse
import http.client
import json
import threading
import time
import urllib.parse
import uuid
from collections import Counter


def request(base, method, path, body=None, token=None):
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=60)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = "Bearer " + token
    data = json.dumps(body) if body is not None else None
    start = time.monotonic()
    conn.request(method, path, body=data, headers=headers)
    r = conn.getresponse()
    payload = r.read()
    took = time.monotonic() - start
    conn.close()
    return r.status, payload, took


def account(base, tag):
    email = f"{tag}-{uuid.uuid4().hex[:12]}@example.com"
    creds = {"email": email, "password": "password123"}
    status, body, _ = request(base, "POST", "/api/auth/register", creds)
    assert status == 201, body
    status, body, _ = request(base, "POST", "/api/auth/login", creds)
    assert status == 200, body
    return json.loads(body)["token"]


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(p / 100 * len(values)))] * 1000, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base", nargs="?", default="http://127.0.0.1:3001")
    ap.add_argument("--searches", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--accounts", type=int, default=1)
    args = ap.parse_args()
    base = args.base

    searchers, bystander = [account(base, "searcher") for _ in range(args.accounts)], account(base, "bystander")
    for searcher in searchers:
        for i in range(3):
            status, body, _ = request(base, "POST", "/api/texts", {"title": f"big {i}", "content": "a" * (1 << 20)}, searcher)
            assert status == 201, body[:200]
    q = urllib.parse.quote("a" * 99 + "b")
    status, _, alone = request(base, "GET", f"/api/texts?q={q}", token=searchers[0])
    single = {"status": status, "ms": round(alone * 1000, 1)}

    stop = time.monotonic() + args.seconds
    searches = Counter()
    lock = threading.Lock()

    def search_loop(searcher):
        while time.monotonic() < stop:
            s, _, _ = request(base, "GET", f"/api/texts?q={q}", token=searcher)
            with lock:
                searches[s] += 1

    threads = [threading.Thread(target=search_loop, args=(searchers[i % len(searchers)],)) for i in range(args.searches)]
    for t in threads:
        t.start()
    me_times, me_status, ready_status = [], Counter(), Counter()
    while time.monotonic() < stop:
        s, _, took = request(base, "GET", "/api/auth/me", token=bystander)
        me_times.append(took)
        me_status[s] += 1
        s, _, _ = request(base, "GET", "/readyz")
        ready_status[s] += 1
    for t in threads:
        t.join()
    print(json.dumps({
        "one_search_alone": single,
        "bystander_me": {"n": len(me_times), "p50_ms": percentile(me_times, 50), "p99_ms": percentile(me_times, 99),
                         "max_ms": percentile(me_times, 100), "status": dict(me_status)},
        "readyz_status": dict(ready_status),
        "search_status": dict(searches),
    }, indent=1))


if __name__ == "__main__":
    main()
