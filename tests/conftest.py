"""Shared fixtures: a real mock server process per test module."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mockserver.server.process import ServerProcess


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess() as process:
        yield process


@pytest.fixture(scope="module")
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client
