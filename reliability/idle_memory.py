#!/usr/bin/env python3
"""Memory an idle connection holds, HTTP/2 (h2c) against HTTP/1.1: opens N connections to the
HTTP/2 test server (tests/http2/h2_server), each serves one GET /, then the server's RSS is read.

    /usr/bin/python3 reliability/idle_memory.py build/dev/tests/http2/h2_server [N]

Prints bytes per idle connection for each protocol (docs/http2.md quotes it)."""
import resource
import socket
import subprocess
import sys
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"  # + empty SETTINGS
BLOCK = b"\x82\x86\x84\x41\x01x"  # HPACK: GET, http, /, :authority x
HEADERS = len(BLOCK).to_bytes(3, "big") + b"\x01\x05\x00\x00\x00\x01" + BLOCK  # stream 1, END_STREAM|END_HEADERS


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))


def measure(server, count, request, answered):
    argv = [server, "--h2c", "--max-connections-per-ip", "0", "--threads", "1"]
    srv = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = int(srv.stdout.readline().split()[1])
        time.sleep(0.3)
        before = rss_kib(srv.pid)
        socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
        for s in socks:
            s.sendall(request)
        for s in socks:
            s.settimeout(5)
            got = b""
            while answered not in got:
                got += s.recv(65536)
        time.sleep(0.5)
        return (rss_kib(srv.pid) - before) * 1024 / count
    finally:
        srv.terminate()
        srv.wait()


def main():
    server = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 100), hard))
    h2 = measure(server, count, PREFACE + HEADERS, b"hello")
    h1 = measure(server, count, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"hello")
    print(f"{count} idle connections, one request each: HTTP/2 {h2:,.0f} bytes each, HTTP/1.1 {h1:,.0f} bytes each")


if __name__ == "__main__":
    main()
