"""Shared fixtures: a real mock server process per test module, and seed credentials."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import httpx
import pytest
import yaml

from mockserver.process import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
FACTURACION_SEED = yaml.safe_load((ROOT / "fixtures" / "facturacion.yaml").read_text())
DAFTRA_SEED = yaml.safe_load((ROOT / "fixtures" / "daftra.yaml").read_text())


def bearer(user_id: int) -> dict[str, str]:
    token = next(t["token"] for t in FACTURACION_SEED["tokens"] if t["user_id"] == user_id)
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def api_key(scopes: tuple[str, ...] = ("read", "write")) -> dict[str, str]:
    key = next(k["key"] for k in DAFTRA_SEED["api_keys"] if tuple(k["scopes"]) == scopes)
    return {"APIKEY": key, "Accept": "application/json"}


ADMIN = bearer(1)  # user 1 belongs to company 1
SOUTH = bearer(2)  # user 2 belongs to company 2
DAFTRA = api_key()
DAFTRA_READ_ONLY = api_key(("read",))


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess() as process:
        yield process


@pytest.fixture(scope="module")
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client
