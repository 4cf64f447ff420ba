"""Shared fixtures.

Engine behaviour is tested in-process: `mock` is a client on an app built by
`create_app` in this process (no socket, no uvicorn), shared by a module's
tests as a live server would be; `make_mock(**options)` builds a fresh one
with `ServerConfig` options (`locale=`, `fault=`, `delay=`, `admin_token=`,
`specs_dir=`, ...). `server` and `http` start a real `mockserver serve`
process, for the tests where the process itself is what is tested.
`redis_server` is a real redis-server for the shared-state tests.

The behaviour modules (`pytestmark = pytest.mark.both_backends`) run each
test that uses `mock` twice: on the in-memory store and on Redis. The Redis
one runs on the session's redis-server, in a database flushed before each
module's app starts, so its tests share one state as they do in memory.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from inprocess import in_process
from redis_server import RedisServer
from starlette.testclient import TestClient

from mockserver.server.process import ServerProcess
from mockserver.spec.cache import DIRECTORY_VARIABLE
from mockserver.state.backend import is_memory

#: the state backends the behaviour modules run on; the Redis one on this database of `redis_server`
BACKENDS = ("memory", "redis")
BEHAVIOUR_DB = 1


@pytest.fixture(scope="session", autouse=True)
def start_up_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The run's on-disk start-up cache (parsed specs, compiled templates) in a folder of its own, not the
    user's: the servers the tests start inherit it."""
    os.environ[DIRECTORY_VARIABLE] = str(tmp_path_factory.mktemp("start-up-cache"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_backends"):
        metafunc.parametrize("store", BACKENDS, indirect=True, scope="module")


def _on_backend(request: pytest.FixtureRequest, backend: str, db: int) -> str:
    """A `--store`: memory, or a freshly flushed database of the session's redis-server."""
    if backend == "memory":
        return "memory"
    redis_server: RedisServer = request.getfixturevalue("redis_server")
    redis_server.client(db).flushdb()
    return redis_server.url(db)


@pytest.fixture(scope="module")
def store(request: pytest.FixtureRequest) -> str:
    """The `--store` of the module's `mock` (memory unless the module runs on both backends)."""
    return _on_backend(request, getattr(request, "param", "memory"), BEHAVIOUR_DB)


@pytest.fixture(scope="module")
def other_store(request: pytest.FixtureRequest, store: str) -> str:
    """A state of its own on `mock`'s backend, for a second app (`make_mock(store=other_store)`)."""
    return _on_backend(request, "memory" if is_memory(store) else "redis", BEHAVIOUR_DB + 1)


@pytest.fixture(scope="module")
def mock(store: str) -> Iterator[TestClient]:
    with in_process(store=store) as client:
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


@pytest.fixture(scope="session")
def facturacion_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A live mock of Facturación alone, shared by the QA commands' process tests (`xdist_group("live-qa")`).

    Each of them creates records of its own and compares counts, never totals, so one server serves all.
    """
    from broken_servers import facturacion_alone

    with ServerProcess("--specs", str(facturacion_alone(tmp_path_factory.mktemp("facturacion")))) as process:
        yield process


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


#: module-scoped fixtures that start something slow, by the xdist group their tests share: the live
#: server process, the Dockerfile's replay (tests/test_shipping.py: 40 s, built once per worker otherwise)
SHARED_FIXTURES = {"server": "live", "image": "image"}


# tryfirst: xdist reads these marks in a hook of its own (`--dist loadgroup`), which must run after this one.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests of a module that share a slow fixture share an xdist group: one worker runs them, and starts it once."""
    items.sort(key=_start_order)  # stable: the rest keep their order
    for item in items:
        used = getattr(item, "fixturenames", ())
        group = next((prefix for name, prefix in SHARED_FIXTURES.items() if name in used), None)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(f"{group}-{item.module.__name__}"))
