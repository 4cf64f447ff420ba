"""Where the contract suites send their requests, and with which credentials."""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from mockserver.config import DEFAULT_FIXTURES, DEFAULT_SPECS
from mockserver.harness.settings import Settings
from mockserver.server.process import ServerProcess
from mockserver.spec.loader import discover_specs, load_yaml
from mockserver.spec.openapi import ApiSpec, Operation, load_spec


@dataclass
class Target:
    spec: ApiSpec
    base_url: str
    headers: dict[str, str]
    #: a body for the spec's login operation, to get throw-away credentials
    login_body: dict[str, Any] | None = None
    #: paths of the records the suite created; a DELETE on each removes (or deactivates) it
    created: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_route = {(op.method, op.path): op for op in self.spec.operations}
        self._by_id = {op.operation_id: op for op in self.spec.operations}

    def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        """A request to the target with its credentials; what it creates is remembered for `clean_up`."""
        response = httpx.request(method, self.base_url + path, headers=self.headers, timeout=10, **options)
        self.remember(method, path, response.status_code, response.content)
        return response

    def remember(self, method: str, path: str, status: int, content: bytes) -> None:
        """Note the undo of a successful create, found through the spec's link from it to a DELETE."""
        operation = self._by_route.get((method.upper(), path))
        if operation is None or operation.mock.get("action") != "create" or not 200 <= status < 300:
            return
        for link in (operation.responses.get(str(status), {}).get("links") or {}).values():
            undo = self._by_id.get(link.get("operationId"))
            if undo is not None and undo.method == "DELETE":
                try:
                    body = json.loads(content)
                except ValueError:
                    return
                values = {name: _resolve(body, expression) for name, expression in link.get("parameters", {}).items()}
                if all(value is not None for value in values.values()):
                    self.created.append(undo.path.format(**values))
                return

    def clean_up(self) -> list[str]:
        """Delete (or deactivate) what the suite created, newest first; returns what could not be undone."""
        left = []
        for path in reversed(self.created):
            try:
                response = httpx.delete(self.base_url + path, headers=self.headers, timeout=10)
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
        login, field_name = login_route(self.spec)
        response = httpx.post(self.base_url + login.path, json=self.login_body, timeout=10)
        response.raise_for_status()
        return {**self.headers, **credential_header(self.spec, response.json()[field_name])}


def _resolve(body: Any, expression: str) -> Any:
    """A `$response.body#/json/pointer` runtime expression against a response body."""
    if not expression.startswith("$response.body#"):
        return None
    for part in expression.removeprefix("$response.body#").strip("/").split("/"):
        if not isinstance(body, dict) or part not in body:
            return None
        body = body[part]
    return body


def find_spec(name: str, specs_dir: Path = DEFAULT_SPECS) -> ApiSpec:
    specs = {s.name: s for s in (load_spec(p) for p in discover_specs(specs_dir))}
    if name not in specs:
        raise LookupError(f"no spec named {name!r}; known: {', '.join(sorted(specs))}")
    return specs[name]


def login_route(spec: ApiSpec) -> tuple[Operation, str]:
    """The spec's login operation and the answer's field that carries the new credential."""
    login = next(op for op in spec.operations if op.mock.get("action") == "login")
    scheme_key = next(iter(spec.security_schemes.values()))["x-mock"]["key"]
    field_name = next(k for k, v in login.mock["response"]["body"].items() if v == f"${{credential.{scheme_key}}}")
    return login, field_name


def credential_header(spec: ApiSpec, value: str) -> dict[str, str]:
    """The header that presents a credential under the spec's first security scheme."""
    scheme = next(iter(spec.security_schemes.values()))
    if scheme.get("type") == "http":
        return {"Authorization": f"Bearer {value}"}
    return {scheme["name"]: value}


def seed_credentials(
    spec: ApiSpec, fixtures_dir: Path = DEFAULT_FIXTURES
) -> tuple[dict[str, str], dict[str, Any] | None]:
    """Headers for the seeded credential with the widest scopes, and a login body for its principal."""
    seed = load_yaml(fixtures_dir / f"{spec.mock.get('fixtures', spec.name)}.yaml") or {}
    scheme = next(iter(spec.security_schemes.values()))
    mock = scheme["x-mock"]
    records = seed.get(mock["credentials"], [])
    scopes = mock.get("scopes", "scopes")
    credential = max(records, key=lambda r: len(r.get(scopes) or []))
    headers = credential_header(spec, credential[mock["key"]])
    principal_link = mock.get("principal")
    login = next((op for op in spec.operations if op.mock.get("action") == "login"), None)
    if not principal_link or login is None:
        return headers, None
    principal = next(
        r for r in seed.get(principal_link["resource"], []) if r["id"] == credential[principal_link["key"]]
    )
    body = {}
    for source in ("identity", "secret"):
        for stored, template in login.mock[source].items():
            body[template.removeprefix("${body.").removesuffix("}")] = principal[stored]
    return headers, body


@contextlib.contextmanager
def mock_target(name: str, settings: Settings) -> Iterator[Target]:
    """A fresh mock server process, with the seeded credentials."""
    spec = find_spec(name)
    headers, login_body = seed_credentials(spec)
    with ServerProcess() as server:
        yield Target(spec=spec, base_url=server.url, headers={**headers, **settings.headers}, login_body=login_body)


@contextlib.contextmanager
def remote_target(name: str, settings: Settings) -> Iterator[Target]:
    """A deployment, with the credentials the caller gave."""
    assert settings.base_url is not None
    target = Target(
        spec=find_spec(name), base_url=settings.base_url, headers=settings.headers, login_body=settings.login_body
    )
    try:
        yield target
    finally:
        left = target.clean_up()
        if left:
            warnings.warn(
                f"{name}: {len(left)} record(s) the suite created could not be removed: " + "; ".join(left[:10]),
                stacklevel=2,
            )
