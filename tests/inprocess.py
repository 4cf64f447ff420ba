"""The mock in-process: a client on an app built by `create_app` in the test's own process."""

from __future__ import annotations

import warnings
from typing import Any

from mockserver.server.app import create_app

# Starlette's test client would rather drive httpx2; the project's client is httpx, which it still drives.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from starlette.testclient import TestClient

#: where in-process clients send their requests (the served specs name it as their server)
MOCK_URL = "http://mock"


def in_process(**options: Any) -> TestClient:
    """A client on a fresh in-process app; enter it (`with`) to run the app's lifespan.

    Exceptions the app does not handle are raised in the test, so a request
    that would leave a traceback in a server's log fails the test instead.
    """
    return TestClient(create_app(**options), base_url=MOCK_URL, raise_server_exceptions=True)
