"""The mock in-process: a client on an app built by `create_app` in the test's own process."""

from __future__ import annotations

import functools
import warnings
from typing import Any

from mockserver.config import DEFAULT_SPECS
from mockserver.server.app import create_app
from mockserver.spec.loader import discover_specs
from mockserver.spec.openapi import ApiSpec, load_spec

# Starlette's test client would rather drive httpx2; the project's client is httpx, which it still drives.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from starlette.testclient import TestClient

#: where in-process clients send their requests (the served specs name it as their server)
MOCK_URL = "http://mock"


@functools.cache
def bundled_specs(profile: str | None) -> tuple[ApiSpec, ...]:
    """The bundled specs, loaded once per test process: loading them is most of an app's start-up (2 s here).

    An app only reads a loaded spec, so every in-process app of the bundled specs can share one load.
    """
    return tuple(load_spec(path, profile=profile) for path in discover_specs(DEFAULT_SPECS))


def in_process(**options: Any) -> TestClient:
    """A client on a fresh in-process app; enter it (`with`) to run the app's lifespan.

    Exceptions the app does not handle are raised in the test, so a request
    that would leave a traceback in a server's log fails the test instead.
    """
    specs = None if "specs_dir" in options else bundled_specs(options.get("profile"))
    return TestClient(create_app(specs=specs, **options), base_url=MOCK_URL, raise_server_exceptions=True)
