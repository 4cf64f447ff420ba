"""The contract suites' settings, read from `CONTRACT_*` environment variables.

The `mockserver contract` command and the pytest options both write them,
so the suites see one set of settings however they were started.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from mockserver.config import DEFAULT_SPECS
from mockserver.spec.loader import discover_specs
from mockserver.spec.openapi import load_spec


@dataclass
class Settings:
    apis: list[str]
    base_url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    login_body: dict[str, Any] | None = None
    read_only: bool = False
    seed: int = 20261122
    max_examples: int = 25

    @staticmethod
    def all_apis() -> list[str]:
        return [load_spec(path).name for path in discover_specs(DEFAULT_SPECS)]

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        headers = {}
        for line in env.get("CONTRACT_HEADER", "").splitlines():
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip()] = value.strip()
        login = env.get("CONTRACT_LOGIN")
        return cls(
            apis=[a for a in env.get("CONTRACT_API", "").split(",") if a] or cls.all_apis(),
            base_url=(env.get("CONTRACT_BASE_URL") or "").rstrip("/") or None,
            headers=headers,
            login_body=json.loads(login) if login else None,
            read_only=env.get("CONTRACT_READ_ONLY") == "1",
            seed=int(env.get("CONTRACT_SEED") or cls.seed),
            max_examples=int(env.get("CONTRACT_MAX_EXAMPLES") or cls.max_examples),
        )
