"""The contract suites' settings: one scheme, whichever way the suites are started.

Each setting is a pytest option of the suites, `--contract-<name>`, that
falls back to the environment variable `MOCKSERVER_CONTRACT_<NAME>`; the
`mockserver contract` command reads the same variables for its options and
hands its values to pytest as those options. The suites' conftest resolves
them once (`Settings.resolve`) and `activate`s the result, which the test
modules read at import time with `Settings.active()`.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from mockserver.config import DEFAULT_SPECS
from mockserver.errors import SpecErrors
from mockserver.spec.loader import discover_specs
from mockserver.spec.openapi import ApiSpec, load_spec

ENV_PREFIX = "MOCKSERVER_CONTRACT_"
#: every setting's name: `--contract-<name>` and MOCKSERVER_CONTRACT_<NAME>, dashes as underscores
NAMES = ("api", "spec", "base_url", "header", "login", "read_only", "seed", "max_examples", "operation", "phase")
#: the generation phases of the conformance layer, in schemathesis' names (the stateful layer is its own)
PHASES = ("examples", "coverage", "fuzzing")


def login_body(given: str | None) -> dict[str, Any] | None:
    """A --login JSON body: the login operation's, so an object; a ValueError says what is wrong."""
    if not given:
        return None
    try:
        body = json.loads(given)
    except ValueError as exc:
        raise ValueError(f"--login is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ValueError("--login must be a JSON object, the login operation's body")
    return body


@dataclass
class Settings:
    apis: list[str]
    #: the OpenAPI document to test instead of the bundled spec of the API's name
    spec: Path | None = None
    base_url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    login_body: dict[str, Any] | None = None
    read_only: bool = False
    seed: int = 20261122
    max_examples: int = 25
    #: operationIds to test; empty for every operation of the spec
    operations: list[str] = field(default_factory=list)
    #: the conformance layer's generation phases (PHASES)
    phases: tuple[str, ...] = PHASES

    _active: ClassVar[Settings | None] = None

    @staticmethod
    def all_apis() -> list[str]:
        return list(bundled_specs())

    @classmethod
    def resolve(cls, options: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Settings:
        """Settings from the pytest options by NAMES (None or [] when not given), each falling back to its variable."""
        env = os.environ if env is None else env

        def values(name: str, separator: str) -> list[str]:
            given = options.get(name)
            if given not in (None, []):
                return [str(v) for v in given] if isinstance(given, list) else [str(given)]
            return [v for v in env.get(ENV_PREFIX + name.upper(), "").split(separator) if v.strip()]

        def value(name: str) -> str | None:
            found = values(name, "\0")
            return found[0] if found else None

        headers = {}
        for line in values("header", "\n"):  # one 'Name: value' per line in the variable
            if ":" in line:
                name, header = line.split(":", 1)
                headers[name.strip()] = header.strip()
        spec, login = value("spec"), value("login")
        phases = tuple(name.strip() for name in values("phase", ","))
        unknown = [name for name in phases if name not in PHASES]
        if unknown:
            raise ValueError(f"unknown phase {', '.join(unknown)}; the phases are {', '.join(PHASES)}")
        read_only = value("read_only")
        return cls(
            apis=values("api", ",") or ([spec_at(Path(spec)).name] if spec else cls.all_apis()),
            spec=Path(spec) if spec else None,
            base_url=(value("base_url") or "").rstrip("/") or None,
            headers=headers,
            login_body=login_body(login),
            read_only=read_only is not None and read_only.lower() in ("1", "true", "yes", "on"),
            seed=int(value("seed") or cls.seed),
            max_examples=int(value("max_examples") or cls.max_examples),
            operations=values("operation", ","),
            phases=phases or PHASES,
        )

    @classmethod
    def activate(cls, settings: Settings) -> None:
        cls._active = settings

    @classmethod
    def active(cls) -> Settings:
        """The settings of this run; from the environment alone when no conftest resolved them."""
        return cls._active or cls.resolve({})


def bundled_specs() -> dict[str, ApiSpec]:
    """The bundled specs by API name, each loaded once while its file stays the same."""
    specs = (spec_at(path) for path in discover_specs(DEFAULT_SPECS))
    return {spec.name: spec for spec in specs}


def spec_at(path: Path) -> ApiSpec:
    """The spec at `path`, loaded once while the file stays the same."""
    return _load_spec(path.resolve(), stamp(path))


def stamp(path: Path) -> tuple[int, int] | None:
    """What tells a changed file from the one loaded: its modification time and size."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status.st_mtime_ns, status.st_size


@functools.lru_cache(maxsize=64)
def _load_spec(path: Path, stamp: tuple[int, int] | None) -> ApiSpec:
    try:
        return load_spec(path)
    except SpecErrors:
        # A spec downloaded from a deployment has no file templates beside it: read for its
        # contract alone, without its file declarations (any other problem is raised again).
        return load_spec(path, files=False)
