#!/usr/bin/env python3
"""Faults with data at stake, against the real spur-app binary and a real MariaDB.

1. kill -9 the app repeatedly while 8 clients write texts: every write answered 201 must be
   in the database afterwards, and every row must be whole (its content matches its title).
2. Restart MariaDB under load: meanwhile /readyz answers 503 and requests fail with clean
   JSON errors (no 500, no hang); the app recovers by itself; no duplicate rows.

reliability/faults.sh installs, builds and runs this. Standard library only.
"""
import argparse
import hashlib
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time

from common import port_from_log

SECRET = "reliability-" + "s" * 40


def log(*a):
    print("faults:", *a, file=sys.stderr, flush=True)


def content_for(title):
    # Long enough to span several packets, and checkable: a partial row would not match.
    return (hashlib.sha256(title.encode()).hexdigest() * 200)[:12000]


class App:
    def __init__(self, binary, url, log_path):
        self.log_path = log_path
        env = {**os.environ, "DATABASE_URL": url, "JWT_SECRET": SECRET, "BCRYPT_COST": "10", "LOG_FORMAT": "off",
               "LOGIN_BURST_PER_IP": "100000", "LOGIN_BURST_PER_EMAIL": "100000",
               # Thousands of writes to one account: the per-account quotas (1,000 texts,
               # 100 MiB) would turn them into 403s and the test into one of the quota.
               "MAX_TEXTS_PER_USER": "100000000", "MAX_TEXT_BYTES_PER_USER": str(1 << 40)}
        self.proc = subprocess.Popen([binary, "serve", "--port=0", "--host=127.0.0.1"], env=env,
                                     stdout=subprocess.DEVNULL, stderr=open(log_path, "w"))
        self.port = port_from_log(log_path, self.proc)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(20)
        return self.proc.returncode


def request(port, method, path, body=None, token=None, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    c.request(method, path, json.dumps(body) if body is not None else None, headers)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def sql(mariadb_sock, query):
    out = subprocess.run(["mariadb", "--no-defaults", f"--socket={mariadb_sock}", "-uroot", "-N", "-B", "spur_rel",
                          "-e", query], capture_output=True, text=True, check=True)
    return [line.split("\t") for line in out.stdout.splitlines()]


def login(port):
    email, password = "faults@example.com", "correct horse battery"
    request(port, "POST", "/api/auth/register", {"email": email, "password": password})
    status, data = request(port, "POST", "/api/auth/login", {"email": email, "password": password})
    assert status == 200, data
    j = json.loads(data)
    return j["token"], j["user"]["id"]


def kill9_rounds(binary, url, sock, workdir, rounds):
    acked = {}  # title -> id
    lock = threading.Lock()
    attempts = 0
    for rnd in range(rounds):
        app = App(binary, url, os.path.join(workdir, f"app-kill-{rnd}.log"))
        token, user_id = login(app.port)
        stop = threading.Event()

        def writer(w):
            nonlocal attempts
            n = 0
            while not stop.is_set():
                title = f"k{rnd}-w{w}-{n}"
                n += 1
                with lock:
                    attempts += 1
                try:
                    status, data = request(app.port, "POST", "/api/texts", {"title": title, "content": content_for(title)},
                                           token, timeout=5)
                except OSError:
                    return  # the app is gone
                if status == 201:
                    with lock:
                        acked[title] = json.loads(data)["text"]["id"]

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
        for t in threads:
            t.start()
        time.sleep(1.0 + 0.3 * rnd)
        app.kill9()
        stop.set()
        for t in threads:
            t.join()
        log(f"kill -9 round {rnd + 1}/{rounds}: {len(acked)} writes acknowledged so far")
    rows = sql(sock, f"SELECT title, content FROM texts WHERE title LIKE 'k%'")
    present = {title: content for title, content in rows}
    lost = [t for t in acked if t not in present]
    partial = [t for t, c in present.items() if c != content_for(t)]
    titles = [t for t, _ in rows]
    duplicates = len(titles) - len(set(titles))
    return {"rounds": rounds, "write_attempts": attempts, "acknowledged": len(acked), "rows": len(rows),
            "lost": len(lost), "partial_rows": len(partial), "duplicates": duplicates}


def mariadb_restart(binary, url, sock, workdir, mariadb_sh, db_dir, down_seconds):
    app = App(binary, url, os.path.join(workdir, "app-restart.log"))
    token, user_id = login(app.port)
    stop = threading.Event()
    results = []  # (time, kind, status)
    lock = threading.Lock()

    def client(w):
        n = 0
        while not stop.is_set():
            n += 1
            start = time.time()
            try:
                if n % 2:
                    title = f"r-w{w}-{n}"
                    status, data = request(app.port, "POST", "/api/texts", {"title": title, "content": content_for(title)},
                                           token, timeout=15)
                else:
                    status, data = request(app.port, "GET", "/api/texts?limit=5", token=token, timeout=15)
                kind = "ok" if status < 400 else ("clean" if data.startswith(b'{"success":false') else "unclean")
            except OSError as e:
                status, kind = 0, "socket: " + type(e).__name__
            with lock:
                results.append((start, time.time() - start, kind, status))
            time.sleep(0.01)

    threads = [threading.Thread(target=client, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    time.sleep(2)
    t_stop = time.time()
    subprocess.run([mariadb_sh, "stop", db_dir], check=True)
    log("MariaDB stopped")
    readyz_down = []
    while time.time() - t_stop < down_seconds:
        try:
            readyz_down.append(request(app.port, "GET", "/readyz", timeout=5)[0])
        except OSError:
            readyz_down.append(0)
        time.sleep(0.25)
    subprocess.run([mariadb_sh, "start", db_dir, "spur_rel"], check=True, capture_output=True)
    t_up = time.time()
    log("MariaDB started again")
    recovered = None
    while time.time() - t_up < 30:
        if request(app.port, "GET", "/readyz", timeout=5)[0] == 200:
            title = f"probe-{time.time()}"
            status, _ = request(app.port, "POST", "/api/texts", {"title": title, "content": content_for(title)}, token)
            if status == 201:
                recovered = time.time() - t_up
                break
        time.sleep(0.1)
    time.sleep(2)
    stop.set()
    for t in threads:
        t.join()
    exit_code = app.stop()
    during = [r for r in results if t_stop <= r[0] <= t_up]
    rows = sql(sock, "SELECT title FROM texts WHERE title LIKE 'r-%'")
    titles = [r[0] for r in rows]
    return {
        "requests": len(results),
        "during_outage": len(during),
        "during_outage_statuses": sorted({r[3] for r in during}),
        "unclean_answers": sum(1 for r in results if r[2] not in ("ok", "clean")),
        "unclean_kinds": sorted({f"{r[2]} ({r[3]})" for r in results if r[2] not in ("ok", "clean")}),
        # When each began, in seconds from MariaDB's stop (it was started again at down_seconds).
        "unclean_at_s": [round(r[0] - t_stop, 2) for r in results if r[2] not in ("ok", "clean")],
        "status_500": sum(1 for r in results if r[3] == 500),
        "slowest_answer_s": round(max(r[1] for r in results), 2),
        "readyz_while_down": sorted(set(readyz_down)),
        "recovery_s": None if recovered is None else round(recovered, 2),
        "duplicates": len(titles) - len(set(titles)),
        "app_exit_code_on_sigterm": exit_code,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", required=True)
    ap.add_argument("--mariadb-sh", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--down-seconds", type=float, default=5)
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    db_dir = os.path.join(args.dir, "mariadb")
    url = subprocess.run([args.mariadb_sh, "start", db_dir, "spur_rel", "--fresh"], capture_output=True, text=True,
                         check=True).stdout.strip()
    sock = url.split("socket=")[1]
    try:
        env = {**os.environ, "DATABASE_URL": url, "JWT_SECRET": SECRET}
        subprocess.run([args.app, "migrate"], env=env, check=True, capture_output=True)
        kill = kill9_rounds(args.app, url, sock, args.dir, args.rounds)
        log("kill -9:", json.dumps(kill))
        restart = mariadb_restart(args.app, url, sock, args.dir, args.mariadb_sh, db_dir, args.down_seconds)
        log("MariaDB restart:", json.dumps(restart))
    finally:
        subprocess.run([args.mariadb_sh, "stop", db_dir])
    print(json.dumps({"kill9": kill, "mariadb_restart": restart}, indent=2))
    ok = (kill["lost"] == 0 and kill["partial_rows"] == 0 and kill["duplicates"] == 0 and kill["acknowledged"] > 0
          and restart["unclean_answers"] == 0 and restart["status_500"] == 0 and restart["recovery_s"] is not None
          and restart["recovery_s"] <= 10 and restart["duplicates"] == 0 and 503 in restart["readyz_while_down"]
          and restart["app_exit_code_on_sigterm"] == 0)
    print("faults:", "PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
