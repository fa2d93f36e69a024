"""The HTTP/2 rows of bench/run.py: h2load as the load, nginx 1.22 as the reference server, and
the self-signed certificate both servers use for TLS. Standard library only.

spur serves HTTP/1.1 and h2c (prior knowledge) on one port and HTTPS (h2 by ALPN) on the next;
nginx 1.22 needs a port per protocol (`listen ... http2` without `ssl` speaks h2c only), so it
takes three: HTTP/1.1, h2c, TLS.
"""
import os
import subprocess

# (scenario, protocol, connections, streams per connection). With -m 1 each connection has one
# request in flight, as wrk's do; -m 16 multiplexes 16 on each of 16 connections.
SCENARIOS = [
    ("h2 reference: /plaintext over HTTP/1.1, wrk -c64 (1 core)", "http/1.1", 64, 1),
    ("h2c: /plaintext, h2load -c64 -m1 (1 core)", "h2c", 64, 1),
    ("h2c: /plaintext, h2load -c16 -m16 (1 core)", "h2c", 16, 16),
    ("h2 TLS: /plaintext, h2load -c64 -m1 (1 core)", "h2", 64, 1),
    ("h2 TLS: /plaintext, h2load -c16 -m16 (1 core)", "h2", 16, 16),
]
SERVERS = ("spur", "nginx")
# The bench smoke test: a second of h2c, enough to show the harness and spur's h2c work.
SMOKE = [("h2c: /plaintext, h2load -c16 -m16 (1 core)", "h2c", 16, 16)]


def label(server):
    """The server column: nginx with its version."""
    if server != "nginx":
        return server
    out = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr
    return "nginx " + out.strip().rsplit("/", 1)[-1]


def comparisons(results):
    """Lines for the targets list (no targets): spur ÷ nginx in each row, and what h2c costs
    spur per request against HTTP/1.1."""
    rows = {(r["scenario"], r["server"].split()[0]): r for r in results if r["scenario"].startswith("h2")}
    lines = []
    for scenario, *_ in SCENARIOS:
        s, n = rows.get((scenario, "spur")), rows.get((scenario, "nginx"))
        if s and n:
            lines.append(f"- (no target) {scenario}: spur ÷ nginx, req/s {s['rps'] / n['rps']:.2f}, "
                         f"CPU/req {s['cpu_us_per_req'] / n['cpu_us_per_req']:.2f}")
    h1, h2c = rows.get((SCENARIOS[0][0], "spur")), rows.get((SCENARIOS[1][0], "spur"))
    if h1 and h2c:
        lines.append(f"- (no target) spur CPU/req, h2c (-c64 -m1) ÷ HTTP/1.1 (wrk -c64): "
                     f"{h2c['cpu_us_per_req'] / h1['cpu_us_per_req']:.2f}")
    return lines


def ports(server, port):
    """The port serving each protocol, for a server started on `port`."""
    if server == "nginx":
        return {"http/1.1": port, "h2c": port + 1, "h2": port + 2}
    return {"http/1.1": port, "h2c": port, "h2": port + 1}


def url(server, port, protocol, path="/plaintext"):
    scheme = "https" if protocol == "h2" else "http"
    return f"{scheme}://127.0.0.1:{ports(server, port)[protocol]}{path}"


def built_with_http2(build):
    """False when the build tree says SPUR_WITH_HTTP2=OFF (spur_server --h2c would then refuse)."""
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            return not any(line.startswith("SPUR_WITH_HTTP2:BOOL=OFF") for line in f)
    except OSError:
        return True


def certificate(tmp):
    """A self-signed P-256 certificate for 127.0.0.1 (h2load does not verify it)."""
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    if not os.path.exists(cert):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1"],
                       check=True, capture_output=True)
    return cert, key


def nginx_argv(tmp, port):
    """nginx in the foreground with one worker, answering /plaintext as spur does (same body and
    Content-Type), no access log, TLS 1.3 offered (1.22 offers only up to 1.2 by default, spur
    1.2 and 1.3). keepalive_requests is raised from its default of 1,000 so
    that nginx, like spur, never closes a busy connection itself."""
    cert, key = certificate(tmp)
    p = ports("nginx", port)
    prefix = os.path.join(tmp, f"nginx-{port}")
    os.makedirs(prefix, exist_ok=True)
    temp = "\n".join(f"  {kind}_temp_path {prefix}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                          "scgi"))
    conf = f"""worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 100000000;
{temp}
  server {{
    listen 127.0.0.1:{p['http/1.1']};
    listen 127.0.0.1:{p['h2c']} http2;
    listen 127.0.0.1:{p['h2']} ssl http2;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    location = /plaintext {{
      default_type text/plain;
      return 200 "Hello, World!";
    }}
  }}
}}
"""
    path = os.path.join(prefix, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    return ["nginx", "-p", prefix, "-e", f"{prefix}/error.log", "-c", path]


def h2load(cpu, url, seconds, connections, streams):
    """One h2load run on `cpu` (one thread, like wrk -t1). Raises if the protocol spoken was not
    HTTP/2 (a server that fell back to HTTP/1.1 would be measuring the wrong thing) or nothing
    was answered."""
    argv = ["taskset", "-c", cpu, "h2load", "-t1", f"-c{connections}", f"-m{streams}", f"-D{seconds}", url]
    if url.startswith("https:"):
        # One TLS 1.3 suite for both servers: spur prefers its own order (AES-256-GCM first),
        # nginx the client's (AES-128-GCM first, h2load's and browsers' choice).
        argv.insert(-1, "--tls13-ciphers=TLS_AES_128_GCM_SHA256")
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    result = {"requests": 0, "errors": 0, "non2xx": 0, "protocol": "h2c" if url.startswith("http:") else None}
    for line in out.splitlines():
        parts = line.replace(",", "").split()
        if line.startswith("finished in"):
            result["rps"] = float(parts[3])
        elif line.startswith("requests:"):
            # requests: N total, N started, N done, N succeeded, N failed, N errored, N timeout
            result["requests"] = int(parts[7])
            result["errors"] = int(parts[9]) + int(parts[11]) + int(parts[13])
        elif line.startswith("status codes:"):
            result["non2xx"] = int(parts[4]) + int(parts[6]) + int(parts[8])
        elif line.startswith("TLS Protocol:") or line.startswith("Cipher:"):
            result["tls"] = " ".join(filter(None, [result.get("tls"), parts[-1]]))
        elif line.startswith("Application protocol:"):
            result["protocol"] = parts[2]
        elif line.strip().startswith("time for request:"):
            result["mean_ms"] = duration_ms(parts[5])
    if result["protocol"] not in ("h2", "h2c") or result["requests"] == 0:
        raise RuntimeError(f"h2load spoke {result['protocol']} and finished {result['requests']} requests "
                           f"against {url}:\n{out[-800:]}")
    return result


def duration_ms(text):
    for unit, scale in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
    return float(text)
