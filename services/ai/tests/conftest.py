"""Fixtures: `server`, the real service started by serve.sh on a free port for the whole
session, and `client`, an httpx client for it."""

from __future__ import annotations

import httpx
import pytest

from ai_service.summarize import PAGERANK_NUMPY_WARNINGS
from live_server import LiveServer


def pytest_configure(config):
    # pytest shows every DeprecationWarning, overriding the filters the service
    # installs for networkx 2.8's pagerank_numpy; the same three are ignored here.
    for category, message in PAGERANK_NUMPY_WARNINGS:
        config.addinivalue_line("filterwarnings", f"ignore:{message}:{category.__name__}")


@pytest.fixture(scope="session")
def server():
    with LiveServer.start() as live:
        yield live
    # Clients that leave, refused bodies, bad input: none of it may be an error.
    assert "Traceback" not in live.stderr() and "ERROR" not in live.stderr(), live.stderr()


@pytest.fixture
def client(server):
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        yield http
