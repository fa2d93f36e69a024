#!/usr/bin/env python3
"""System calls per request, counted by the kernel's tracepoints through `perf stat` while wrk
drives the server: what each request costs in receives, sends and event-loop calls.

perf counts in the kernel (no ptrace stop per call, as under strace -c), so the server runs at
nearly its normal speed and the timing-dependent counts (a read that finds nothing happens when
the server is faster than its client) are those of a normal run.

  bench/syscalls.py --build build/release [--build-uring build/release-uring] [--seconds 5]

Also imported by bench/run.py for its report's system-call table.
"""
import argparse
import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
import http2  # noqa: E402  (bench/http2.py: nginx's configuration)
import run  # noqa: E402  (bench/run.py: servers, wrk)

TRACING = "/sys/kernel/tracing/events/syscalls"
# The columns: what a request's bytes cost, what the event loop costs, and what should be zero.
GROUPS = {
    "recv": ("recvfrom", "recvmsg", "read", "readv"),
    "send": ("sendto", "sendmsg", "write", "writev"),
    "epoll_wait": ("epoll_wait", "epoll_pwait"),
    "epoll_ctl": ("epoll_ctl",),
    "io_uring_enter": ("io_uring_enter",),
    "futex": ("futex",),
    "getpid": ("getpid",),
}
COLUMNS = ["total", *GROUPS, "other"]


def available():
    """Whether perf can count syscall tracepoints here (root, or a permissive perf_event_paranoid)."""
    try:
        probe = subprocess.run(["perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter", "--", "true"],
                               capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0 and "raw_syscalls" in probe.stderr


def events():
    names = [n for group in GROUPS.values() for n in group if os.path.isdir(f"{TRACING}/sys_enter_{n}")]
    return ["raw_syscalls:sys_enter", *(f"syscalls:sys_enter_{n}" for n in names)]


def count(pid, url, seconds, connections, script=None):
    """Runs wrk against `url` for `seconds` under `perf stat -p pid`; returns system calls per
    request by group, and the wrk figures."""
    argv = ["taskset", "-c", run.LOAD_CPU, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", url]
    if script:
        argv[5:5] = ["-s", script]
    with tempfile.NamedTemporaryFile("r") as counts:
        out = subprocess.run(["perf", "stat", "-x,", "-o", counts.name, "-e", ",".join(events()), "-p", str(pid),
                              "--", *argv], capture_output=True, text=True, check=True).stdout
        perf = counts.read()
    requests = 0
    for line in out.splitlines():
        if "requests in" in line:
            requests = int(line.split()[0])
    by_event = {}
    for line in perf.splitlines():
        fields = line.split(",")
        if len(fields) > 2 and fields[0].strip().isdigit():
            by_event[fields[2].split(":")[-1].removeprefix("sys_enter_")] = int(fields[0])
    result = {"requests": requests}
    if requests == 0:
        return result
    total = by_event.get("sys_enter", 0)
    result["total"] = total / requests
    grouped = 0
    for group, names in GROUPS.items():
        n = sum(by_event.get(name, 0) for name in names)
        grouped += n
        result[group] = n / requests
    result["other"] = (total - grouped) / requests
    return result


def table(rows):
    """Markdown lines for rows of (server, scenario, counts)."""
    lines = ["| server | scenario | " + " | ".join(COLUMNS) + " |",
             "|---|---|" + "---:|" * len(COLUMNS)]
    for server, scenario, c in rows:
        cells = [f"{c[k]:.2f}" if k in c else "—" for k in COLUMNS]
        lines.append(f"| {server} | {scenario} | " + " | ".join(cells) + " |")
    return lines


def pipeline_script(tmp):
    path = os.path.join(tmp, "pipeline16.lua")
    with open(path, "w") as f:
        f.write('init = function(args)\n  local r = {}\n  for i = 1, 16 do r[i] = wrk.format(nil, wrk.path) end\n'
                '  batch = table.concat(r)\nend\nrequest = function() return batch end\n')
    return path


def measure_all(servers, seconds, connections, tmp):
    """servers: (label, start(port) -> run.Server, paths). Each row: one server, one scenario."""
    rows, port = [], 18700
    pipelined = pipeline_script(tmp)
    for label, start, paths in servers:
        port += 3
        server = start(port)
        try:
            for path in paths:
                base = f"http://127.0.0.1:{port}{path}"
                count(server.pid, base, 1, connections)  # warm-up
                rows.append((label, path, count(server.pid, base, seconds, connections)))
                if path == "/plaintext" and label != "nginx":
                    rows.append((label, "/plaintext, 16 pipelined",
                                 count(server.pid, base, seconds, connections, pipelined)))
                run.log(f"syscalls: {label} {path}: {rows[-1][2].get('total', 0):.2f} per request")
        finally:
            server.stop()
    return rows


def standard_servers(build, build_uring, tmp):
    bench = os.path.join(build, "bench")
    servers = [
        ("beast", lambda p: run.Server("beast", [f"{bench}/beast_server", str(p)], p), ["/plaintext", "/json"]),
        ("spur", lambda p: run.Server("spur", [f"{bench}/spur_server", str(p), "1"], p), ["/plaintext", "/json"]),
    ]
    if build_uring:
        ub = os.path.join(build_uring, "bench")
        servers.append(("spur (io_uring)", lambda p: run.Server("spur-uring", [f"{ub}/spur_server", str(p), "1"], p),
                        ["/plaintext", "/json"]))
    if subprocess.run(["sh", "-c", "command -v nginx"], capture_output=True).returncode == 0:
        servers.append(("nginx", lambda p: run.Server("nginx", http2.nginx_argv(tmp, p), p), ["/plaintext"]))
    return servers


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", required=True, help="Release build with SPUR_BUILD_BENCH=ON")
    ap.add_argument("--build-uring", help="the same with SPUR_IO_URING=ON: adds spur (io_uring) rows")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=64)
    args = ap.parse_args()
    if not available():
        sys.exit("syscalls: perf cannot count syscall tracepoints here (run as root, or lower "
                 "/proc/sys/kernel/perf_event_paranoid; Debian's package is linux-perf)")
    tmp = tempfile.mkdtemp(prefix="spur-syscalls-")
    rows = measure_all(standard_servers(args.build, args.build_uring, tmp), args.seconds, args.connections, tmp)
    print(f"System calls per request (perf stat, wrk -t1 -c{args.connections}, {args.seconds} s, server on CPU "
          f"{run.SERVER_CPU}, wrk on CPU {run.LOAD_CPU}):\n")
    print("\n".join(table(rows)))


if __name__ == "__main__":
    main()
