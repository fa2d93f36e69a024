#!/usr/bin/env python3
"""Slow clients against a spur example server with its default timeouts, using Debian's
slowhttptest: slowloris (headers dribbled), slow body (POST body dribbled) and slow read
(responses read through a tiny window). For each attack: was the service available to
another client throughout (a probe every second from 127.0.0.2, while the attack comes from
127.0.0.1), did the server close the stalled sockets, and did memory and open files level
off. Since the per-client connection cap (ServerOptions::max_connections_per_ip, 256) the
attacker's own address is refused past its share: slowhttptest's availability check, made
from that address, then reads "unavailable" — the defence working, reported but not failed.
reliability/slow_clients.sh builds and runs this.
"""
import argparse
import csv
import http.client
import glob
import json
import os
import re
import subprocess
import sys
import threading
import time

from common import port_from_log

PROBE_SOURCE = "127.0.0.2"  # another client than the attacker (127.0.0.1)


def sample(pid):
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")) / 1024
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


ATTACKS = {
    # name: slowhttptest arguments (besides -u, -c, -l, -g, -o)
    "slowloris (headers, 1 line every 5 s)": ["-H", "-i", "5", "-r", "200", "-t", "GET"],
    "slow body (POST, 10 bytes every 5 s)": ["-B", "-i", "5", "-r", "200", "-s", "8192", "-t", "POST"],
    "slow read (32-64 byte window, 32 bytes every 3 s)": ["-X", "-r", "200", "-w", "32", "-y", "64", "-n", "3", "-z", "32",
                                                    "-k", "10"],
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True, help="an example binary taking the port as its argument")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=45)
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    log = os.path.join(args.dir, "server.log")
    proc = subprocess.Popen([args.server, "0"], stderr=open(log, "w"), stdout=subprocess.DEVNULL)
    port = port_from_log(log, proc)
    results, ok = [], True
    try:
        for name, extra in ATTACKS.items():
            before = sample(proc.pid)
            samples, stop = [], threading.Event()
            probes = []

            def watch():
                while not stop.is_set():
                    samples.append(sample(proc.pid))
                    start = time.time()
                    try:
                        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5, source_address=(PROBE_SOURCE, 0))
                        c.request("GET", "/")
                        response = c.getresponse()
                        response.read()
                        c.close()
                        probes.append(time.time() - start if response.status == 200 else None)
                    except (OSError, http.client.HTTPException):
                        probes.append(None)
                    time.sleep(1)

            watcher = threading.Thread(target=watch)
            watcher.start()
            out = os.path.join(args.dir, re.sub(r"[^a-z]+", "_", name.split(" (")[0]))
            subprocess.run(["slowhttptest", "-c", str(args.connections), "-l", str(args.seconds), "-p", "3", "-g", "-o",
                            out, "-u", f"http://127.0.0.1:{port}/", *extra], capture_output=True, check=True)
            time.sleep(12)  # past the header timeout: what the attack left behind must be gone
            stop.set()
            watcher.join()
            after = sample(proc.pid)
            with open(out + ".csv") as f:
                rows = list(csv.reader(f))[1:]
            unavailable = sum(1 for r in rows if r and r[-1].strip() == "0")
            peak_connected = max(int(r[3]) for r in rows if r)
            closed = max(int(r[1]) for r in rows if r)
            failed_probes = sum(1 for p in probes if p is None)
            r = {
                "attack": name,
                "connections_attempted": args.connections,
                "peak_connected": peak_connected,
                "closed_by_server_or_done": closed,
                # From the attacker's own address, which the per-client cap refuses past its share.
                "seconds_unavailable_to_the_attacker_per_slowhttptest": unavailable,
                "own_probes": len(probes), "own_probes_failed": failed_probes,
                "slowest_probe_ms": round(1000 * max(p for p in probes if p is not None), 1),
                "rss_mib_before": round(before[0], 1), "rss_mib_peak": round(max(s[0] for s in samples), 1),
                "rss_mib_after": round(after[0], 1),
                "fds_before": before[1], "fds_peak": max(s[1] for s in samples), "fds_after": after[1],
            }
            results.append(r)
            print(json.dumps(r), flush=True)
            # Available to another client throughout, the attacker held to its share, and the
            # stalled sockets gone afterwards.
            ok &= failed_probes == 0 and peak_connected <= 256 + 1 and after[1] <= before[1] + 5
    finally:
        proc.terminate()
        proc.wait(15)
    for f in glob.glob(os.path.join(args.dir, "*.html")):
        os.remove(f)
    print("slow clients:", "PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
