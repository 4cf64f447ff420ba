"""Shared fixtures.

Engine behaviour is tested in-process: `mock` is a client on an app built by
`create_app` in this process (no socket, no uvicorn), shared by a module's
tests as a live server would be; `make_mock(**options)` builds a fresh one
with `ServerConfig` options (`locale=`, `fault=`, `delay=`, `admin_token=`,
`specs_dir=`, ...). `server` and `http` start a real `mockserver serve`
process, for the tests where the process itself is what is tested.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest

from mockserver.server.app import create_app
from mockserver.server.process import ServerProcess

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


@pytest.fixture(scope="module")
def mock() -> Iterator[TestClient]:
    with in_process() as client:
        yield client


@pytest.fixture
def make_mock() -> Iterator[Callable[..., TestClient]]:
    with ExitStack() as stack:

        def make(**options: Any) -> TestClient:
            return stack.enter_context(in_process(**options))

        yield make


@pytest.fixture
def server_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """What the app logs during the test (the `mockserver` logger), as a server's log would show it."""
    caplog.set_level(logging.DEBUG, logger="mockserver")
    return caplog


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess() as process:
        yield process


@pytest.fixture(scope="module")
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client
