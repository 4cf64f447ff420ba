"""Where the contract suites send their requests, and with which credentials."""

from __future__ import annotations

import contextlib
import functools
import http.cookiejar
import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from mockserver.config import DEFAULT_FIXTURES, DEFAULT_SPECS
from mockserver.errors import SpecError
from mockserver.harness.model import ContractModel
from mockserver.harness.settings import Settings, bundled_specs, spec_at, stamp
from mockserver.server.process import ServerProcess
from mockserver.spec.loader import discover_specs
from mockserver.spec.openapi import ApiSpec, Operation
from mockserver.spec.pointers import parse_pointer, value_at


@dataclass
class Target:
    model: ContractModel
    base_url: str
    headers: dict[str, str]
    #: a body for the spec's login operation, to get throw-away credentials
    login_body: dict[str, Any] | None = None
    #: paths of the records the suite created; a DELETE on each removes (or deactivates) it
    created: list[str] = field(default_factory=list)
    #: what requests go through (an in-process app's TestClient, say); by default an httpx.Client of its own
    http_client: httpx.Client | None = None

    @property
    def spec(self) -> ApiSpec:
        return self.model.spec

    def __post_init__(self) -> None:
        self._by_route = {(op.method, op.path): op for op in self.spec.operations}
        self._by_id = {op.operation_id: op for op in self.spec.operations}
        # One connection pool for every request: `httpx.request` builds a pool, TLS context included, per call
        # (some 0.2 s on two busy cores). It keeps no cookies, as separate calls would not.
        self.http = self.http_client or httpx.Client(
            timeout=10, cookies=http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        )

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        """A request to the target with its credentials; what it creates is remembered for `clean_up`."""
        response = self.http.request(method, self.base_url + path, headers=self.headers, **options)
        self.remember(method, path, response.status_code, response.content)
        return response

    def remember(self, method: str, path: str, status: int, content: bytes) -> None:
        """Note the undo of a successful create, found through the spec's link from it to a DELETE."""
        operation = self._by_route.get((method.upper(), path))
        if operation is None or operation.mock.action != "create" or not 200 <= status < 300:
            return
        for link in (operation.responses.get(str(status), {}).get("links") or {}).values():
            undo = self._by_id.get(link.get("operationId"))
            if undo is not None and undo.method == "DELETE":
                try:
                    body = json.loads(content)
                except ValueError:
                    return
                values = {name: link_value(body, expression) for name, expression in link.get("parameters", {}).items()}
                if all(value is not None for value in values.values()):
                    self.created.append(undo.path.format(**values))
                return

    def clean_up(self) -> list[str]:
        """Delete (or deactivate) what the suite created, newest first; returns what could not be undone."""
        left = []
        for path in reversed(self.created):
            try:
                response = self.http.delete(self.base_url + path, headers=self.headers)
                if response.status_code >= 400 and response.status_code != 404:
                    left.append(f"DELETE {path}: {response.status_code}")
            except httpx.HTTPError as exc:
                left.append(f"DELETE {path}: {exc}")
        self.created.clear()
        return left

    def operation(self, method: str, path: str) -> Operation:
        return self._by_route[(method.upper(), path)]

    def throwaway_headers(self) -> dict[str, str]:
        """Headers with a credential of their own, issued by the spec's login operation."""
        login = self.model.login()
        if login is None:
            raise LookupError(f"{self.model.name}: the spec has no login operation to issue a credential")
        response = self.http.post(self.base_url + login.operation.path, json=self.login_body)
        response.raise_for_status()
        return {**self.headers, **login.scheme.present(value_at(response.json(), parse_pointer(login.selector)))}


def link_value(body: Any, expression: str) -> Any:
    """A `$response.body#/json/pointer` runtime expression against a response body."""
    if not expression.startswith("$response.body#"):
        return None
    return value_at(body, parse_pointer(expression.removeprefix("$response.body#")))


def find_spec(name: str, source: Path | None = None) -> ApiSpec:
    """The API's bundled spec, or the document at `source` (given with --spec) whatever its name."""
    if source is not None:
        return spec_at(source)
    for path in discover_specs(DEFAULT_SPECS):
        # a bundled spec is named as its file: the others need not be loaded (seconds each) to find it
        if path.stem == name and (spec := spec_at(path)).name == name:
            return spec
    specs = bundled_specs()
    if name not in specs:
        raise LookupError(f"no spec named {name!r}; known: {', '.join(sorted(specs))}")
    return specs[name]


def find_model(name: str, source: Path | None = None, fixtures_dir: Path = DEFAULT_FIXTURES) -> ContractModel:
    """The compiled model of the API (see `find_spec`), built once while its spec and fixtures stay the same."""
    path = find_spec(name, source).source.resolve()
    fixtures = tuple(stamp(file) for file in sorted(fixtures_dir.glob("*.y*ml")))
    return _build_model(path, stamp(path), fixtures_dir.resolve(), fixtures)


@functools.lru_cache(maxsize=16)
def _build_model(
    path: Path, stamp: tuple[int, int] | None, fixtures_dir: Path, fixtures: tuple[tuple[int, int] | None, ...]
) -> ContractModel:
    return ContractModel.build(spec_at(path), fixtures_dir)


def seed_credentials(model: ContractModel) -> tuple[dict[str, str], dict[str, Any] | None]:
    """Headers for the seeded credential with the widest scopes, and a login body for its principal.

    Without fixtures (or a seeded credential) there are none: the caller passes its own. A seeded
    credential without its value, or whose principal is not seeded, is a `SpecError` at its record.
    """
    scheme = model.scheme()
    records = list(enumerate(model.seed.get(scheme.table, []))) if scheme is not None else []
    if scheme is None or not records:
        return {}, None
    fixtures = model.api.fixtures_path
    index, credential = max(records, key=lambda found: len(found[1].get(scheme.scopes) or []))
    where = f"/{scheme.table}/{index}"
    if credential.get(scheme.key) is None:
        raise SpecError(f"the {scheme.table} credential has no {scheme.key}", file=fixtures, pointer=where)
    headers = scheme.present(str(credential[scheme.key]))
    login = model.login()
    if scheme.principal is None or login is None:
        return headers, None
    relation = scheme.principal
    wanted = credential.get(relation.key)
    principal = next((r for r in model.seed.get(relation.resource, []) if r.get("id") == wanted), None)
    if principal is None:
        reason = f"the {scheme.table} credential's {relation.key} {wanted!r} names no seeded {relation.resource} record"
        raise SpecError(reason, file=fixtures, pointer=f"{where}/{relation.key}")
    return headers, {sent: principal.get(stored) for stored, sent in login.body_fields.items()}


@contextlib.contextmanager
def mock_target(name: str, settings: Settings) -> Iterator[Target]:
    """A fresh mock server process, with the seeded credentials; it serves the folder of a --spec document."""
    model = find_model(name, settings.spec)
    headers, login_body = seed_credentials(model)
    with ServerProcess(*(["--specs", str(settings.spec.parent)] if settings.spec else [])) as server:
        target = Target(
            model=model, base_url=server.url, headers={**headers, **settings.headers}, login_body=login_body
        )
        try:
            yield target
        finally:
            target.close()


@contextlib.contextmanager
def remote_target(name: str, settings: Settings) -> Iterator[Target]:
    """A deployment, with the credentials the caller gave."""
    assert settings.base_url is not None
    target = Target(
        model=find_model(name, settings.spec),
        base_url=settings.base_url,
        headers=settings.headers,
        login_body=settings.login_body,
    )
    try:
        yield target
    finally:
        left = target.clean_up()
        target.close()
        if left:
            warnings.warn(
                f"{name}: {len(left)} record(s) the suite created could not be removed: " + "; ".join(left[:10]),
                stacklevel=2,
            )
