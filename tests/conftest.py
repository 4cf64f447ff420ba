"""Shared fixtures.

Engine behaviour is tested in-process: `mock` is a client on an app built by
`create_app` in this process (no socket, no uvicorn), shared by a module's
tests as a live server would be; `make_mock(**options)` builds a fresh one
with `ServerConfig` options (`locale=`, `fault=`, `delay=`, `admin_token=`,
`specs_dir=`, ...). `server` and `http` start a real `mockserver serve`
process, for the tests where the process itself is what is tested.
`redis_server` is a real redis-server for the shared-state tests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from inprocess import in_process
from redis_server import RedisServer
from starlette.testclient import TestClient

from mockserver.server.process import ServerProcess


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


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One real redis-server for the run (per xdist worker), nothing saved to disk."""
    with RedisServer() as server:
        yield server


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


#: The modules whose tests run minutes, not milliseconds (real processes, whole contract runs), longest
#: first. They start first: a worker that met one of them last would finish minutes after the other.
LONGEST_FIRST = (
    "test_self_certification",
    "test_harness",
    "test_replicas",
    "test_drift",
    "test_proxy",
    "test_package",
    "test_shipping",
    "test_browser",
    "test_lifecycle",
)


def _start_order(item: pytest.Item) -> int:
    module = getattr(item, "module", None)
    name = module.__name__ if module is not None else ""
    return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests of a module's live server share an xdist group: one worker runs them, on one process."""
    items.sort(key=_start_order)  # stable: the rest keep their order
    for item in items:
        if "server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group(f"live-{item.module.__name__}"))
