#!/usr/bin/env python3
"""Soak: spur-app on a real MariaDB under a fixed rate of mixed traffic — reads, writes,
logins and bad requests — for a long time. Passes when no answer was an unexpected 5xx or
a socket error, RSS stopped growing (last minute vs the second minute), and open files did
not creep. reliability/soak.sh builds and runs this. Standard library only.
"""
import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

from common import call, port_from_log

SECRET = "soak-" + "s" * 40


def rss_and_fds(pid):
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")) / 1024
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def too_large(port, token):
    """Announces a 16 MiB body (over the 8 MiB route limit) and waits for the answer before sending it, as a client using
    Expect: 100-continue would (sending it blindly races the server's early 413)."""
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
        s.sendall(f"POST /api/texts HTTP/1.1\r\nHost: soak\r\nAuthorization: Bearer {token}\r\n"
                  "Content-Type: application/json\r\nContent-Length: 16777216\r\n\r\n".encode())
        reply = s.recv(4096).decode(errors="replace")
    return int(reply.split(" ")[1]), reply


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", required=True)
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--rate", type=int, default=200, help="requests per second")
    args = ap.parse_args()

    env = {**os.environ, "DATABASE_URL": args.database_url, "JWT_SECRET": SECRET, "BCRYPT_COST": "10",
           "LOG_FORMAT": "off", "LOGIN_BURST_PER_IP": "1000000", "LOGIN_BURST_PER_EMAIL": "1000000", "THREADS": "2"}
    subprocess.run([args.app, "migrate"], env=env, check=True, capture_output=True)
    log_path = "/tmp/spur-soak.log"
    proc = subprocess.Popen([args.app, "serve", "--port=0", "--host=127.0.0.1"], env=env, stderr=open(log_path, "w"))
    port = port_from_log(log_path, proc)
    email, password = f"soak{int(time.time())}@example.com", "correct horse battery"
    call(port, "POST", "/api/auth/register", {"email": email, "password": password})
    token = json.loads(call(port, "POST", "/api/auth/login", {"email": email, "password": password})[1])["token"]
    first_id = json.loads(call(port, "POST", "/api/texts", {"title": "seed", "content": "x" * 500}, token)[1])["text"]["id"]

    # kind -> (weight, request, statuses that are correct for it)
    kinds = {
        "read one": (30, lambda: call(port, "GET", f"/api/texts/{first_id}", token=token), {200}),
        "read list": (25, lambda: call(port, "GET", "/api/texts?limit=20", token=token), {200}),
        "write": (20, lambda: call(port, "POST", "/api/texts",
                                   {"title": f"soak {random.random()}", "content": "y" * random.randint(1, 4000)}, token),
                  {201}),
        "login": (4, lambda: call(port, "POST", "/api/auth/login", {"email": email, "password": password}), {200}),
        "bad json": (6, lambda: call(port, "POST", "/api/texts", raw_body='{"title": ', token=token), {400}),
        "bad token": (6, lambda: call(port, "GET", "/api/texts", token="not.a.token"), {401}),
        "not found": (5, lambda: call(port, "GET", "/api/texts/999999999", token=token), {404}),
        "too large": (4, lambda: too_large(port, token), {413}),
    }
    names = list(kinds)
    weights = [kinds[n][0] for n in names]
    counts = {n: 0 for n in names}
    unexpected = []
    lock = threading.Lock()
    stop = threading.Event()
    start = time.time()
    samples = []  # (elapsed, rss MiB, fds)

    def worker(i, workers):
        interval = workers / args.rate
        next_at = start + i * interval / workers
        rng = random.Random(i)
        while not stop.is_set():
            time.sleep(max(0.0, next_at - time.time()))
            next_at += interval
            kind = rng.choices(names, weights)[0]
            try:
                status, _ = kinds[kind][1]()
                ok = status in kinds[kind][2]
            except OSError as e:
                status, ok = type(e).__name__, False
            with lock:
                counts[kind] += 1
                if not ok:
                    unexpected.append((round(time.time() - start, 1), kind, status))

    workers = [threading.Thread(target=worker, args=(i, 16)) for i in range(16)]
    for w in workers:
        w.start()
    while time.time() - start < args.seconds:
        time.sleep(10)
        samples.append((round(time.time() - start), *rss_and_fds(proc.pid)))
        print(f"soak: {samples[-1][0]} s, RSS {samples[-1][1]:.1f} MiB, {samples[-1][2]} fds, "
              f"{sum(counts.values())} requests, {len(unexpected)} unexpected", file=sys.stderr, flush=True)
    stop.set()
    for w in workers:
        w.join()
    proc.send_signal(signal.SIGTERM)
    exit_code = proc.wait(30)

    total = sum(counts.values())
    second_minute = [s for s in samples if 60 <= s[0] < 120] or samples[:1]
    last_minute = [s for s in samples if s[0] >= samples[-1][0] - 60]
    rss_early = max(s[1] for s in second_minute)
    rss_late = max(s[1] for s in last_minute)
    fds_early = min(s[2] for s in second_minute)
    fds_late = min(s[2] for s in last_minute)
    report = {
        "seconds": args.seconds, "rate_target": args.rate, "requests": total,
        "rate_achieved": round(total / args.seconds, 1), "by_kind": counts,
        "unexpected": len(unexpected), "unexpected_5xx": sum(1 for u in unexpected if isinstance(u[2], int) and u[2] >= 500),
        "first_unexpected": unexpected[:10],
        "rss_mib_second_minute": round(rss_early, 1), "rss_mib_last_minute": round(rss_late, 1),
        "rss_mib_max": round(max(s[1] for s in samples), 1),
        "fds_second_minute": fds_early, "fds_last_minute": fds_late, "exit_code": exit_code,
    }
    print(json.dumps(report, indent=2))
    ok = not unexpected and rss_late <= rss_early * 1.2 + 2 and fds_late <= fds_early + 10 and exit_code == 0
    print("soak:", "PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
