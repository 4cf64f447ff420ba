"""Seed credentials and data, read from the bundled fixtures."""

from __future__ import annotations

from pathlib import Path

import yaml

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
