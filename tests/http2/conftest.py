"""Fixtures of the HTTP/2 tests: h2_server processes (the binary named by SPUR_H2_SERVER) and a
throwaway certificate made with the openssl CLI. Every server must exit 0 when the test is done
(SIGTERM drains): a crash under a flood fails the test that caused it."""
import json
import os
import select
import signal
import subprocess
import time

import pytest

import h2wire
from h2wire import H2Client

SERVER = os.environ.get("SPUR_H2_SERVER")
if not SERVER:
    pytest.skip("SPUR_H2_SERVER (the h2_server binary) is not set", allow_module_level=True)


class ServerProcess:
    """A running h2_server; its stderr (spur's log and the access log) goes to `log_path`."""

    def __init__(self, args, log_path):
        self.args, self.log_path = args, log_path
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen([SERVER, *args], stdout=subprocess.PIPE, stderr=log)
        ready, _, _ = select.select([self.proc.stdout], [], [], 10)
        line = self.proc.stdout.readline().decode() if ready else ""
        if not line.startswith("PORT "):
            self.proc.kill()
            raise AssertionError(f"h2_server {args} did not start ({line!r}): {self.log()}")
        _, plain, _, tls = line.split()
        self.port, self.tls_port = int(plain), int(tls)

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def terminate(self):
        """SIGTERM (a graceful drain); the exit status, or None if it did not exit in 15 s."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def client(self, tls=False, **kwargs):
        """A python-h2 client: TLS with ALPN h2 on the TLS port, else h2c on the plain port."""
        return H2Client(self.tls_port if tls else self.port, tls=tls, **kwargs)

    def stats(self):
        """GET /stats on a connection of its own (HTTP/1.1, so it works whatever is under test)."""
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", "/stats")
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()

    def wait_stats(self, predicate, timeout=10.0, what="the counters"):
        """Polls /stats until predicate(stats) holds (the handlers' state changes on their own
        threads); AssertionError with the last stats after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            stats = self.stats()
            if predicate(stats):
                return stats
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}: {stats}")
            time.sleep(0.02)


def finished(stats, key):
    """How many responses the finish hooks saw as `key` ("/hang 499")."""
    return stats["finished"].get(key, 0)


@pytest.fixture(autouse=True)
def close_clients():
    yield
    h2wire.close_all()


@pytest.fixture(scope="session")
def cert(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return str(cert), str(key)


class Servers:
    """Starts servers for one scope and requires each to exit 0 on SIGTERM at its end."""

    def __init__(self, cert, folder):
        self.cert, self.folder, self.started = cert, folder, []

    def __call__(self, *flags, tls=True):
        args = [*flags] + (["--tls-cert", self.cert[0], "--tls-key", self.cert[1]] if tls else [])
        if "--drain-timeout-ms" not in flags:
            args += ["--drain-timeout-ms", "3000"]  # a connection the server failed to close costs 3 s, not 10
        server = ServerProcess(args, self.folder / f"server{len(self.started)}.log")
        self.started.append(server)
        return server

    def stop_all(self):
        h2wire.close_all()  # else each drain would wait for the test's clients
        failures = []
        for server in self.started:
            status = server.terminate()
            if status != 0:
                failures.append(f"h2_server {server.args} exited {status}; its log:\n{server.log()[-4000:]}")
        assert not failures, "\n".join(failures)


@pytest.fixture
def spawn(cert, tmp_path):
    """spawn(*flags, tls=True) -> a fresh ServerProcess with those flags."""
    servers = Servers(cert, tmp_path)
    yield servers
    servers.stop_all()


@pytest.fixture(scope="module")
def server(cert, tmp_path_factory):
    """The module's shared server: default limits, TLS with ALPN h2, and h2c on the plain port."""
    servers = Servers(cert, tmp_path_factory.mktemp("server"))
    yield servers("--h2c")
    servers.stop_all()
