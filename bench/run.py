#!/usr/bin/env python3
"""spur's HTTP benchmark driver. bench/run.sh installs, builds and then calls this.

Starts each server pinned to CPU 0, drives it with wrk pinned to CPU 1 (h2load for the HTTP/2
rows, against spur and nginx: bench/http2.py), reads the server's CPU time from /proc before and
after each run, and writes a Markdown table plus JSON and CSV files. The rows a target compares
run side by side in interleaved rounds (measure_interleaved). Standard library only.
"""
import argparse
import csv
import json
import os
import random
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ beside the sources
import http2  # noqa: E402  (bench/http2.py)
import syscalls  # noqa: E402  (bench/syscalls.py)

SERVER_CPU, LOAD_CPU = "0", "1"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(*args):
    print("bench:", *args, file=sys.stderr, flush=True)


# --- processes ---------------------------------------------------------------------------

def tree(pid):
    """pid and all its descendants (node cluster workers, gunicorn workers, spur's threads
    are already in the pid's own counters)."""
    out, pending = [], [pid]
    while pending:
        p = pending.pop()
        out.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                pending += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def cpu_split(pid):
    """(user, kernel) CPU seconds of the process tree."""
    user = kernel = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            user, kernel = user + int(fields[11]), kernel + int(fields[12])  # utime, stime
        except OSError:
            pass
    return user / CLK_TCK, kernel / CLK_TCK


def cpu_seconds(pid):
    return sum(cpu_split(pid))


def memory_kib(pid, key):
    """Sum of VmRSS or VmHWM (peak) over the process tree, in KiB."""
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith(key + ":"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


class Server:
    def __init__(self, name, argv, port, pinned=True, env=None, cwd=None):
        self.name, self.port = name, port
        prefix = ["taskset", "-c", SERVER_CPU] if pinned else []
        # A file, not a pipe: nobody reads a pipe while the load runs, and a server that logs
        # (a warning per refused request, say) would block writing to a full one.
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(prefix + argv, env={**os.environ, **(env or {})}, cwd=cwd,
                                     stdout=subprocess.DEVNULL, stderr=self.log, start_new_session=True)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{name} exited: {self.log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{name} did not listen on port {port}")

    @property
    def pid(self):
        return self.proc.pid

    def log_tail(self, lines=5):
        self.log.seek(0)
        return "\n".join(self.log.read().decode(errors="replace").splitlines()[-lines:])

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


# --- load --------------------------------------------------------------------------------

def parse_duration_us(text):
    units = {"us": 1, "ms": 1e3, "s": 1e6, "m": 60e6}
    for unit in ("us", "ms", "s", "m"):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * units[unit]
    return float(text)


def wrk(url, seconds, connections, script=None):
    argv = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script:
        argv[5:5] = ["-s", script]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    result = {"requests": 0, "errors": 0, "non2xx": 0}
    in_distribution = False
    for line in out.splitlines():
        parts = line.split()
        if "Latency Distribution" in line:
            in_distribution = True
        elif in_distribution and parts and parts[0] in ("50%", "99%"):
            result["p" + parts[0][:-1]] = parse_duration_us(parts[1]) / 1000.0
        elif "requests in" in line:
            result["requests"] = int(parts[0])
            in_distribution = False
        elif line.startswith("Requests/sec:"):
            result["rps"] = float(parts[1])
        elif "Non-2xx or 3xx responses" in line:
            result["non2xx"] = int(parts[-1])
        elif line.strip().startswith("Socket errors"):
            result["errors"] = sum(int(x.strip(",")) for x in parts[3::2])
    if result["requests"] == 0:
        log(f"  wrk answered nothing for {url}:\n{out[-800:]}")
    return result


def sample(server, load, seconds):
    """One measured run of `load` (wrk or h2load for `seconds`), with the server's CPU time around it."""
    user, kernel = cpu_split(server.pid)
    r = load(seconds)
    user2, kernel2 = cpu_split(server.pid)
    n = max(1, r["requests"])
    r["user_us_per_req"], r["sys_us_per_req"] = (user2 - user) * 1e6 / n, (kernel2 - kernel) * 1e6 / n
    r["cpu_us_per_req"] = r["user_us_per_req"] + r["sys_us_per_req"]
    return r


def summary(server, samples):
    median = lambda key: statistics.median(s.get(key, 0.0) for s in samples)
    return {
        "rps": median("rps"), "p50_ms": median("p50"), "p99_ms": median("p99"),
        "cpu_us_per_req": median("cpu_us_per_req"), "peak_rss_mib": memory_kib(server.pid, "VmHWM") / 1024,
        "user_us_per_req": median("user_us_per_req"), "sys_us_per_req": median("sys_us_per_req"),
        "errors": sum(s["errors"] for s in samples), "non2xx": sum(s["non2xx"] for s in samples),
        "runs": [round(s.get("rps", 0)) for s in samples],
        **({"mean_ms": median("mean_ms")} if all("mean_ms" in s for s in samples) else {}),
    }


def measure_interleaved(rows, runs, seconds, warmup):
    """Measures `rows`, (label, server, load) with load(seconds) -> one run's result, side by
    side: a warm-up per row, then round 1 of every row, round 2, … On this shared VM the
    host's load moves throughput by up to 2× within minutes, and a ratio of two rows measured
    minutes apart measured the host; interleaved, the same drift falls on every row alike.
    Returns a summary per row, in order."""
    for label, _, load in rows:
        log(f"{label}, warm-up")
        load(warmup)
    samples = [[] for _ in rows]
    for round_ in range(runs):
        for (label, server, load), runs_ in zip(rows, samples):
            runs_.append(sample(server, load, seconds))
            log(f"{label}, round {round_ + 1}: {runs_[-1].get('rps', 0):.0f} req/s, "
                f"{runs_[-1]['cpu_us_per_req']:.1f} us CPU/req {runs_[-1].get('tls', '')}")
    return [summary(server, runs_) for (_, server, _), runs_ in zip(rows, samples)]


def measure_http2(servers, rows, runs, seconds, warmup, port):
    """The HTTP/2 rows (bench/http2.py). Their servers run side by side, each pinned to the
    server core, and the rounds are interleaved — round k of every row before round k+1 of any
    — so that the host's drift over the minutes of the group falls on every row alike."""
    started, results = {}, []
    try:
        for name in dict.fromkeys(row[1] for row in rows):
            started[name] = (servers[f"{name} (h2)"](port), port)
            port += 3

        def load(name, protocol, c, m):
            url = http2.url(name, started[name][1], protocol)
            if protocol == "http/1.1":
                return lambda s: wrk(url, s, c)
            return lambda s: http2.h2load(LOAD_CPU, url, s, c, m)

        summaries = measure_interleaved([(f"{sc}: {name}", started[name][0], load(name, protocol, c, m))
                                         for sc, name, protocol, c, m in rows], runs, seconds, warmup)
        for (scenario, name, protocol, _, _), r in zip(rows, summaries):
            server = started[name][0]
            if protocol != "http/1.1":
                r["p50_ms"] = r["p99_ms"] = None  # h2load reports a mean, not percentiles
            r.update({"scenario": scenario, "server": http2.label(name)})
            results.append(r)
            if r["errors"] + r["non2xx"] > 0:
                log(f"  warning: {r['errors']} errors and {r['non2xx']} non-2xx answers in {scenario}, {name}; "
                    f"the server's last log lines:\n{server.log_tail()}")
    finally:
        for server, _ in started.values():
            server.stop()
    return results


def ws(ws_load, port, target, seconds, connections, message_bytes=32):
    """One run of WebSocket echo round trips driven by bench/ws_load.cpp on the load core;
    a message counts as a request."""
    out = subprocess.run(["taskset", "-c", LOAD_CPU, ws_load, str(port), target, str(connections), str(seconds),
                          str(message_bytes)], capture_output=True, text=True, check=True).stdout
    r = json.loads(out)
    r.update({"requests": r["messages"], "non2xx": 0})
    return r


def block(scenario):
    """The interleaved group a scenario's rows are measured in (measure_interleaved): the rows
    a target compares share one. spur-app's rows sit with the framework's, for /healthz ÷
    spur's /json."""
    for prefix, name in (("TechEmpower", "techempower"), ("websocket", "websocket"), ("/json (2 cores", "two cores")):
        if scenario.startswith(prefix):
            return name
    return "one core"


def idle_connections(server, count, path):
    """Opens `count` keep-alive connections, makes one request on each and leaves them
    idle; returns the RSS they added and the slowest of 20 requests on fresh connections."""
    base = memory_kib(server.pid, "VmRSS")
    request = f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    sel, socks = selectors.DefaultSelector(), []
    pending = 0
    for _ in range(count):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", server.port))
        sel.register(s, selectors.EVENT_WRITE)
        socks.append(s)
        pending += 1
    answered, deadline = 0, time.time() + 60
    while pending and time.time() < deadline:
        for key, events in sel.select(timeout=1):
            s = key.fileobj
            if events & selectors.EVENT_WRITE:
                try:
                    s.send(request)
                    sel.modify(s, selectors.EVENT_READ)
                except OSError:
                    sel.unregister(s)
                    pending -= 1
            else:
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                if data.startswith(b"HTTP/1.1 200"):
                    answered += 1
                sel.unregister(s)
                pending -= 1
    time.sleep(1)
    added = (memory_kib(server.pid, "VmRSS") - base) / 1024
    worst = 0.0
    for _ in range(20):
        start = time.perf_counter()
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=10) as r:
            r.read()
        worst = max(worst, (time.perf_counter() - start) * 1000)
    still_open = 0
    for s in socks:
        try:
            still_open += s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
        except BlockingIOError:
            still_open += 1
        except OSError:
            pass
        s.close()
    return {"connections": count, "answered": answered, "still_open": still_open,
            "added_rss_mib": added, "fresh_request_max_ms": worst}


# --- the run -----------------------------------------------------------------------------

def http_json(port, method, path, body=None, token=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json",
                                          **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def seed_app(servers, build, database_url, jwt_secret, tmp):
    """One user with 50 texts in spur-app's database; returns the text id to read and the
    wrk scripts for the authenticated reads and for login."""
    subprocess.run([f"{build}/app/spur-app", "migrate"], check=True, capture_output=True,
                   env={**os.environ, "DATABASE_URL": database_url, "JWT_SECRET": jwt_secret})
    seed = servers["spur-app"](18200)
    try:
        email, password = "bench@example.com", "correct horse battery"
        try:
            http_json(18200, "POST", "/api/auth/register", {"email": email, "password": password})
        except urllib.error.HTTPError as e:
            if e.code != 409:
                raise
        token = http_json(18200, "POST", "/api/auth/login", {"email": email, "password": password})["token"]
        listing = http_json(18200, "GET", "/api/texts?limit=100", token=token)
        for i in range(listing["total"], 50):
            http_json(18200, "POST", "/api/texts", {"title": f"text {i}", "content": "lorem ipsum " * 40}, token)
        text_id = http_json(18200, "GET", "/api/texts?limit=1", token=token)["items"][0]["id"]
    finally:
        seed.stop()
    login_lua = os.path.join(tmp, "login.lua")
    with open(login_lua, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                f'wrk.body = {json.dumps(json.dumps({"email": email, "password": password}))}\n')
    auth_lua = os.path.join(tmp, "auth.lua")
    with open(auth_lua, "w") as f:
        f.write(f'wrk.headers["Authorization"] = "Bearer {token}"\n')
    return text_id, auth_lua, login_lua


FORTUNES = [
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal places, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. \u2014 Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. \u2014 Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    '<script>alert("This should not be displayed in a browser alert box.");</script>',
    "\u30d5\u30ec\u30fc\u30e0\u30ef\u30fc\u30af\u306e\u30d9\u30f3\u30c1\u30de\u30fc\u30af",
]


def seed_techempower(database_url):
    """TechEmpower's tables, as their setup scripts make them: World with 10,000 rows of
    random numbers and Fortune with its 12 messages (one with markup, one in Japanese)."""
    url = urllib.parse.urlsplit(database_url)
    socket_path = urllib.parse.parse_qs(url.query)["socket"][0]
    quote = lambda text: "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"
    rng = random.Random(20)
    sql = ["DROP TABLE IF EXISTS World, Fortune;",
           "CREATE TABLE World (id INT PRIMARY KEY, randomNumber INT NOT NULL) ENGINE=InnoDB;",
           "CREATE TABLE Fortune (id INT PRIMARY KEY, message VARCHAR(2048) NOT NULL) "
           "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;",
           "INSERT INTO World VALUES " + ",".join(f"({i},{rng.randint(1, 10000)})" for i in range(1, 10001)) + ";",
           "INSERT INTO Fortune VALUES " + ",".join(f"({i},{quote(m)})" for i, m in enumerate(FORTUNES, 1)) + ";"]
    subprocess.run(["mariadb", f"--socket={socket_path}", f"--user={urllib.parse.unquote(url.username)}",
                    f"--password={urllib.parse.unquote(url.password or '')}", "--default-character-set=utf8mb4",
                    url.path.lstrip("/")], input="\n".join(sql).encode(), check=True, capture_output=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True, help="Release build directory")
    ap.add_argument("--database-url", help="needed by the spur-app scenarios")
    ap.add_argument("--build-uring", help="a Release build with SPUR_IO_URING=ON: adds the spur (io_uring) rows")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="", help="comma-separated scenario prefixes")
    ap.add_argument("--smoke", action="store_true", help="1 s of /json on spur and bare Beast: the harness works")
    ap.add_argument("--baseline-techempower", metavar="BIN",
                    help="another spur_techempower (e.g. built from an earlier commit): the TechEmpower rows "
                         "also measure it, just before spur's, for a before/after in one run")
    args = ap.parse_args()

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    runs, seconds, warmup = (1, 1, 1) if args.smoke else (1, 3, 1) if args.quick else (3, 5, 2)
    conns = 64
    bench_bin = os.path.join(args.build, "bench")
    express = os.path.join(root, "bench", "express")
    flask = os.path.join(root, "bench", "flask")
    cores = str(os.cpu_count())
    url_db = url_socket = url_user = url_password = ""
    if args.database_url:
        parts = urllib.parse.urlsplit(args.database_url)
        url_db = parts.path.lstrip("/")
        url_socket = urllib.parse.parse_qs(parts.query)["socket"][0]
        url_user, url_password = urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password or "")
    jwt_secret = "bench-" + "s" * 40
    tmp = tempfile.mkdtemp(prefix="spur-bench-")

    servers = {
        "beast": lambda p: Server("beast", [f"{bench_bin}/beast_server", str(p)], p),
        "beast websocket": lambda p: Server("beast-ws", [f"{bench_bin}/beast_ws_server", str(p)], p),
        "spur": lambda p: Server("spur", [f"{bench_bin}/spur_server", str(p), "1"], p),
        "spur (io_uring)": lambda p: Server("spur-uring", [f"{args.build_uring}/bench/spur_server", str(p), "1"], p),
        "express": lambda p: Server("express", ["node", "server.js", str(p)], p, cwd=express),
        "flask": lambda p: Server("flask", ["gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{p}", "app:app"], p,
                                  cwd=flask),
        # Whole machine: every server may use both cores (and shares them with wrk).
        "spur (2 threads)": lambda p: Server("spur2", [f"{bench_bin}/spur_server", str(p), cores], p, pinned=False),
        "express (cluster)": lambda p: Server("express-cluster", ["node", "server.js", str(p), "--cluster"], p,
                                              pinned=False, cwd=express),
        "flask (gunicorn, 2 workers)": lambda p: Server(
            "flask2", ["gunicorn", "--workers", cores, "--bind", f"127.0.0.1:{p}", "app:app"], p, pinned=False,
            cwd=flask),
        # The HTTP/2 rows: HTTP/1.1 and h2c on p, HTTPS on p + 1 (spur) or p + 2 (nginx).
        "spur (h2)": lambda p: Server("spur-h2", [f"{bench_bin}/spur_server", str(p), "1", "--h2c", "--tls", str(p + 1),
                                                  *http2.certificate(tmp)], p),
        "nginx (h2)": lambda p: Server("nginx", http2.nginx_argv(tmp, p), p),
        "spur-app": lambda p: Server("spur-app", [f"{args.build}/app/spur-app", "serve"], p, env={
            "PORT": str(p), "HOST": "127.0.0.1", "DATABASE_URL": args.database_url, "JWT_SECRET": jwt_secret,
            "THREADS": "1", "BCRYPT_COST": "10",
            "LOGIN_BURST_PER_IP": "1000000", "LOGIN_BURST_PER_EMAIL": "1000000"}),
        "express-app": lambda p: Server("express-app", ["node", "app.js", str(p)], p, cwd=express, env={
            "DATABASE_SOCKET": url_socket, "DATABASE_NAME": url_db, "DATABASE_USER": url_user,
            "DATABASE_PASSWORD": url_password, "JWT_SECRET": jwt_secret}),
        # TechEmpower's database tests; every stack keeps at most 16 database connections.
        "spur (techempower)": lambda p: Server("spur-te", [f"{bench_bin}/spur_techempower", str(p), "1"], p, env={
            "DATABASE_URL": args.database_url + "&pool_max=16"}),
        "spur baseline (techempower)": lambda p: Server("spur-te-base", [args.baseline_techempower or "", str(p), "1"],
                                                        p, env={"DATABASE_URL": args.database_url + "&pool_max=16"}),
        "express (techempower)": lambda p: Server("express-te", ["node", "techempower.js", str(p)], p, cwd=express, env={
            "DATABASE_SOCKET": url_socket, "DATABASE_NAME": url_db, "DATABASE_USER": url_user,
            "DATABASE_PASSWORD": url_password}),
        "flask (techempower)": lambda p: Server("flask-te", ["gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{p}",
                                                             "techempower:app"], p, cwd=flask, env={
            "DATABASE_SOCKET": url_socket, "DATABASE_NAME": url_db, "DATABASE_USER": url_user,
            "DATABASE_PASSWORD": url_password}),
    }

    # (scenario, server, path, script, connections)
    plan = []
    uring = ["spur (io_uring)"] if args.build_uring else []
    for path in ("/plaintext", "/json"):
        for name in ("beast", "spur", *uring, "express", "flask"):
            plan.append((f"{path} (1 core)", name, path, None, conns))
    # TechEmpower's plaintext test: 16 requests sent back to back on each connection before
    # their responses are read (wrk counts every response).
    for name in ("beast", "spur", *uring):
        plan.append(("/plaintext, 16 pipelined (1 core)", name, "/plaintext", "pipeline", conns))
    for name in ("spur", *uring, "express"):
        plan.append(("routed: 2 params, 100 routes, 3 middleware (1 core)", name, "/r/users/42/posts/7", None, conns))
    # The same route with middleware::metrics() in front: what recording every request costs.
    plan.append(("metrics on: the routed scenario + middleware::metrics() (1 core)", "spur", "/m/users/42/posts/7", None, conns))
    # A typed body (spur::Body<Note>: parse, validate, fill the struct) against the same checks
    # written by hand over Boost.JSON; both answer the same bytes.
    plan.append(("typed body: POST spur::Body<Note> (1 core)", "spur", "/typed", "note", conns))
    plan.append(("typed body: POST, checked by hand (1 core)", "spur", "/untyped", "note", conns))
    for name in ("beast websocket", "spur"):
        plan.append(("websocket echo, 32-byte messages (1 core)", name, "/ws/echo", "ws", conns))
    for name in ("spur (2 threads)", "express (cluster)", "flask (gunicorn, 2 workers)"):
        plan.append(("/json (2 cores, shared with wrk)", name, "/json", None, conns))
    app_plan = []
    for name in ("spur-app", "express-app"):
        # The app's whole middleware stack (access log, request id, security headers, CORS…)
        # around the smallest handler.
        app_plan.append(("app: GET /healthz (1 core)", name, "/healthz", None, conns))
        app_plan.append(("app: GET /api/texts/:id (1 core)", name, "/api/texts/{text_id}", "auth", conns))
        app_plan.append(("app: GET /api/texts?limit=20 (1 core)", name, "/api/texts?limit=20", "auth", conns))
        # Few connections: each login costs ~65 ms of CPU, so queueing would only add latency.
        app_plan.append(("app: POST /api/auth/login, bcrypt cost 10 (1 core)", name, "/api/auth/login", "login", 4))
    plan += app_plan
    # TechEmpower's database test types (20 queries for the multi-row ones, as their
    # published comparisons quote), each stack on one core against the same MariaDB.
    for test, path in (("db", "/db"), ("queries ×20", "/queries?queries=20"), ("fortunes", "/fortunes"),
                       ("updates ×20", "/updates?queries=20")):
        for name in ("spur baseline", "spur", "express", "flask")[0 if args.baseline_techempower else 1:]:
            plan.append((f"TechEmpower {test} (1 core)", f"{name} (techempower)", path, None, conns))
    # (scenario, server, protocol, connections, streams per connection)
    h2_plan = [(sc, name, protocol, c, m) for sc, protocol, c, m in http2.SCENARIOS for name in http2.SERVERS]
    if args.smoke:
        plan = [p for p in plan if p[0] == "/json (1 core)" and p[1] in ("beast", "spur")]
        h2_plan = [(sc, "spur", protocol, c, m) for sc, protocol, c, m in http2.SMOKE]
        if not http2.built_with_http2(args.build):
            h2_plan = []
    if args.only:
        prefixes = args.only.split(",")
        plan = [p for p in plan if any(p[0].startswith(x) for x in prefixes)]
        h2_plan = [p for p in h2_plan if any(p[0].startswith(x) for x in prefixes)]
    note_lua = os.path.join(tmp, "note.lua")
    with open(note_lua, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                'wrk.body = \'{"title":"Benchmark note","content":"A few sentences of text, as a small note '
                'carries them: enough to be more than a title.","tags":["bench","typed"],"priority":3}\'\n')
    pipeline_lua = os.path.join(tmp, "pipeline.lua")
    with open(pipeline_lua, "w") as f:
        f.write('init = function(args)\n  local r = {}\n  for i = 1, 16 do r[i] = wrk.format(nil, wrk.path) end\n'
                '  batch = table.concat(r)\nend\nrequest = function() return batch end\n')
    named = {"note": note_lua, "pipeline": pipeline_lua}
    plan = [(sc, n, path, named.get(script, script), c) for sc, n, path, script, c in plan]
    if any(p[0].startswith("TechEmpower") for p in plan):
        if not args.database_url:
            sys.exit("bench: the TechEmpower scenarios need --database-url")
        seed_techempower(args.database_url)
    if any(p[0].startswith("app:") for p in plan):
        if not args.database_url:
            sys.exit("bench: the spur-app scenarios need --database-url")
        text_id, auth_lua, login_lua = seed_app(servers, args.build, args.database_url, jwt_secret, tmp)
        scripts = {"auth": auth_lua, "login": login_lua}
        plan = [(sc, n, path.replace("{text_id}", str(text_id)), scripts.get(script, script), c)
                for sc, n, path, script, c in plan]

    results, port = [None] * len(plan), 18300
    started = {}
    try:
        for group in dict.fromkeys(block(p[0]) for p in plan):
            # A server per row, so that its peak RSS is the row's own.
            rows = [(i, p) for i, p in enumerate(plan) if block(p[0]) == group]
            for i, (_, name, _, _, _) in rows:
                port += 1
                started[i] = servers[name](port)

            def load(server, path, script, c):
                if script == "ws":
                    return lambda s: ws(f"{bench_bin}/ws_load", server.port, path, s, c)
                return lambda s: wrk(f"http://127.0.0.1:{server.port}{path}", s, c, script)

            summaries = measure_interleaved([(f"{sc}: {name}", started[i], load(started[i], path, script, c))
                                             for i, (sc, name, path, script, c) in rows], runs, seconds, warmup)
            for (i, (scenario, name, _, script, _)), r in zip(rows, summaries):
                r.update({"scenario": scenario, "server": name})
                if script and script.endswith("pipeline.lua"):
                    r["p50_ms"] = r["p99_ms"] = None  # wrk records no latency for a pipelined batch
                results[i] = r
                log(f"{scenario}: {name}: {r['rps']:.0f} req/s, p99 {ms(r['p99_ms'])} ms, "
                    f"{r['cpu_us_per_req']:.1f} us CPU/req")
                if r["errors"] + r["non2xx"] > 0:
                    log(f"  warning: {r['errors']} socket errors and {r['non2xx']} non-2xx answers in this scenario; "
                        f"the server's last log lines:\n{started[i].log_tail()}")
            for server in started.values():
                server.stop()
            started = {}
        if h2_plan:
            results += measure_http2(servers, h2_plan, runs, seconds, warmup, 18900)
        calls = []
        if not args.smoke and (not args.only or any("syscalls".startswith(x) for x in args.only.split(","))):
            if syscalls.available():
                calls = syscalls.measure_all(syscalls.standard_servers(args.build, args.build_uring, tmp),
                                             seconds, conns, tmp)
            else:
                log("syscalls: perf cannot count syscall tracepoints here; no system-call table")
        idle = []
        if not args.smoke and (not args.only or "idle".startswith(args.only)):
            for name in ("spur", "beast", "express"):
                s = servers[name](port + 1)
                port += 1
                try:
                    log(f"10,000 idle connections: {name}")
                    idle.append({"server": name, **idle_connections(s, 10_000, "/json")})
                finally:
                    s.stop()
    finally:
        for server in started.values():
            server.stop()

    write_outputs(args.out, results, idle, args.quick, calls)


def ms(value):
    return "—" if value is None else f"{value:.2f}"


def write_outputs(out, results, idle, quick, calls=()):
    os.makedirs(out, exist_ok=True)
    meta = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "quick": quick,
            "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"),
            "cores": os.cpu_count()}
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"meta": meta, "results": results, "idle": idle,
                   "syscalls": [{"server": s, "scenario": sc, **c} for s, sc, c in calls]}, f, indent=2)
    keys = ["scenario", "server", "rps", "p50_ms", "p99_ms", "cpu_us_per_req", "peak_rss_mib", "errors", "non2xx"]
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys, extrasaction="ignore")
        w.writeheader()
        w.writerows(results)

    lines = [f"Run {meta['date']} on {meta['cpu']} ({meta['cores']} cores){' — quick mode' if quick else ''}.", "",
             "| scenario | server | req/s | p50 ms | p99 ms | CPU µs/req (user + kernel) | peak RSS MiB | errors |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        split = f" ({r['user_us_per_req']:.1f} + {r['sys_us_per_req']:.1f})" if "user_us_per_req" in r else ""
        lines.append(f"| {r['scenario']} | {r['server']} | {r['rps']:,.0f} | {ms(r['p50_ms'])} | {ms(r['p99_ms'])} | "
                     f"{r['cpu_us_per_req']:.1f}{split} | {r['peak_rss_mib']:.1f} | {r['errors'] + r['non2xx']} |")
    if calls:
        lines += ["", f"System calls per request (bench/syscalls.py: perf stat on the server, wrk -t1 -c64):", "",
                  *syscalls.table(calls)]
    if idle:
        lines += ["", "| 10,000 idle keep-alive connections | answered | still open | RSS added MiB | slowest fresh request ms |",
                  "|---|---:|---:|---:|---:|"]
        for i in idle:
            lines.append(f"| {i['server']} | {i['answered']:,} | {i['still_open']:,} | {i['added_rss_mib']:.1f} | "
                         f"{i['fresh_request_max_ms']:.1f} |")
    lines += ["", *targets(results, idle)]
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def targets(results, idle):
    def get(scenario_prefix, server, key):
        for r in results:
            if r["scenario"].startswith(scenario_prefix) and r["server"] == server:
                return r[key]
        return None

    checks = []

    def check(label, value, goal, ok):
        if value is None:
            return
        checks.append(f"- {'met' if ok(value) else '**missed**'}: {label}: {value:.2f} (target {goal})")

    def where(scenario, name, other):
        """Where a CPU ratio's time goes: user and kernel µs per request on both sides (the
        system calls are in the table above; instructions: bench/instructions.py)."""
        a = [get(scenario, name, k) for k in ("user_us_per_req", "sys_us_per_req")]
        b = [get(scenario, other, k) for k in ("user_us_per_req", "sys_us_per_req")]
        if None not in a + b and b[0] and b[1]:
            checks.append(f"  - where: user {a[0]:.1f} µs vs {b[0]:.1f} ({a[0] / b[0]:.2f}×), "
                          f"kernel {a[1]:.1f} µs vs {b[1]:.1f} ({a[1] / b[1]:.2f}×)")

    for path in ("/plaintext", "/json"):
        b_rps, s_rps = get(path + " (1", "beast", "rps"), get(path + " (1", "spur", "rps")
        b_cpu, s_cpu = get(path + " (1", "beast", "cpu_us_per_req"), get(path + " (1", "spur", "cpu_us_per_req")
        if b_rps and s_rps:
            check(f"spur {path} req/s ÷ bare Beast", s_rps / b_rps, "≥ 0.9", lambda v: v >= 0.9)
            check(f"spur {path} CPU/req ÷ bare Beast", s_cpu / b_cpu, "≤ 1.15", lambda v: v <= 1.15)
    s_json = get("/json (1", "spur", "rps")
    for other, goal in (("express", 10), ("flask", 20)):
        o = get("/json (1", other, "rps")
        if s_json and o:
            check(f"spur /json req/s ÷ {other}", s_json / o, f"≥ {goal}", lambda v, g=goal: v >= g)
    b_ws, s_ws = get("websocket", "beast websocket", "rps"), get("websocket", "spur", "rps")
    if b_ws and s_ws:
        checks.append(f"- (no target) spur WebSocket echo messages/s ÷ bare Beast: {s_ws / b_ws:.2f}")
    typed, hand = get("typed body: POST spur", "spur", "cpu_us_per_req"), get("typed body: POST, checked", "spur", "cpu_us_per_req")
    if typed and hand:
        check("typed body CPU/req ÷ the same checks by hand", typed / hand, "≤ 1.10", lambda v: v <= 1.10)
    routed, b_json = get("routed", "spur", "rps"), get("/json (1", "beast", "rps")
    if routed and b_json:
        check("spur routed + middleware req/s ÷ bare Beast /json", routed / b_json, "≥ 0.8", lambda v: v >= 0.8)
    routed_cpu, metrics_cpu = get("routed", "spur", "cpu_us_per_req"), get("metrics on", "spur", "cpu_us_per_req")
    if routed_cpu and metrics_cpu:
        check("routed with metrics() CPU/req ÷ without", metrics_cpu / routed_cpu, "≤ 1.10", lambda v: v <= 1.10)
    healthz = get("app: GET /healthz", "spur-app", "rps")
    for other, server, goal in (("Express /json", "express", 10), ("spur /json", "spur", 0.8)):
        o = get("/json (1", server, "rps")
        if healthz and o:
            check(f"#38 spur-app /healthz req/s ÷ {other}", healthz / o, f"≥ {goal}", lambda v, g=goal: v >= g)
    for scenario in ("app: GET /api/texts/:id", "app: GET /api/texts?limit"):
        s, e = get(scenario, "spur-app", "rps"), get(scenario, "express-app", "rps")
        if s and e:
            check(f"spur-app ÷ Express, {scenario[5:]} req/s", s / e, "≥ 3", lambda v: v >= 3)
            sp, ep = get(scenario, "spur-app", "p99_ms"), get(scenario, "express-app", "p99_ms")
            check(f"spur-app p99 − Express p99, {scenario[5:]} (ms)", sp - ep, "< 0", lambda v: v < 0)
    rss = [r["peak_rss_mib"] for r in results if r["server"] == "spur-app"]
    if rss:
        check("spur-app peak RSS under load (MiB)", max(rss), "≤ 30", lambda v: v <= 30)
    for i in idle:
        if i["server"] == "spur":
            check("spur RSS added by 10,000 idle connections (MiB)", i["added_rss_mib"], "≤ 60", lambda v: v <= 60)
            check("spur slowest fresh request beside them (ms)", i["fresh_request_max_ms"], "≤ 10", lambda v: v <= 10)
    # Issue #20: ahead of bare Beast, as the fastest C++ frameworks are.
    for name in ("spur", "spur (io_uring)"):
        b_pipe, s_pipe = get("/plaintext, 16 pipelined", "beast", "rps"), get("/plaintext, 16 pipelined", name, "rps")
        if b_pipe and s_pipe:
            check(f"#20 {name} pipelined /plaintext ×16 req/s ÷ bare Beast", s_pipe / b_pipe, "≥ 8", lambda v: v >= 8)
    # Issue #38: ahead of the fastest peer on every row, spur-app as lean as the framework.
    for name in ("spur", "spur (io_uring)"):
        routed, b_json = get("routed", name, "rps"), get("/json (1", "beast", "rps")
        if routed and b_json:
            check(f"#38 {name} routed + middleware req/s ÷ bare Beast /json", routed / b_json, "≥ 0.9",
                  lambda v: v >= 0.9)
    text_cpu = get("app: GET /api/texts/:id", "spur-app", "cpu_us_per_req")
    if text_cpu:
        check("#38 spur-app GET /api/texts/:id CPU µs/req (half of #38's 186)", text_cpu, "≤ 93", lambda v: v <= 93)
    for path, goal in (("/plaintext", 0.75), ("/json", 0.8)):
        for name in ("spur", "spur (io_uring)"):
            b_cpu, s_cpu = get(path + " (1", "beast", "cpu_us_per_req"), get(path + " (1", name, "cpu_us_per_req")
            if b_cpu and s_cpu:
                check(f"#38 {name} {path} CPU/req ÷ bare Beast", s_cpu / b_cpu, f"≤ {goal}", lambda v, g=goal: v <= g)
                where(path + " (1", name, "beast")
        b_p99, s_p99 = get(path + " (1", "beast", "p99_ms"), get(path + " (1", "spur", "p99_ms")
        if b_p99 and s_p99:
            check(f"#20 spur {path} p99 − bare Beast p99 (ms)", s_p99 - b_p99, "≤ 0", lambda v: v <= 0)
    one, two = get("/json (1", "spur", "cpu_us_per_req"), get("/json (2 cores", "spur (2 threads)", "cpu_us_per_req")
    if one and two:
        checks.append(f"- (no target) #20 spur /json CPU/req with 2 I/O threads ÷ 1 (both cores shared with wrk): "
                      f"{two / one:.2f}")
    for test in ("db", "queries ×20", "fortunes", "updates ×20"):
        s = get(f"TechEmpower {test} ", "spur (techempower)", "rps")
        for other in ("express", "flask"):
            o = get(f"TechEmpower {test} ", f"{other} (techempower)", "rps")
            if s and o:
                checks.append(f"- (no target) #20 TechEmpower {test}: spur req/s ÷ {other}: {s / o:.2f}")
        base = get(f"TechEmpower {test} ", "spur baseline (techempower)", "rps")
        if s and base:
            s_cpu = get(f"TechEmpower {test} ", "spur (techempower)", "cpu_us_per_req")
            b_cpu = get(f"TechEmpower {test} ", "spur baseline (techempower)", "cpu_us_per_req")
            checks.append(f"- (no target) TechEmpower {test}: spur ÷ baseline: req/s {s / base:.2f}, "
                          f"CPU/req {s_cpu / b_cpu:.2f}")
    by_server = {i["server"]: i for i in idle}
    if "spur" in by_server and "beast" in by_server:
        extra = (by_server["spur"]["added_rss_mib"] - by_server["beast"]["added_rss_mib"]) * 1024 / by_server["spur"]["connections"]
        check("#20 spur memory per idle connection − bare Beast's (KiB)", extra, "≤ 1", lambda v: v <= 1)
    checks += http2.comparisons(results)
    return ["Targets (issues #6, #15, #20 and #38):", *checks]


if __name__ == "__main__":
    main()
