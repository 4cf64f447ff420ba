"""Credentials, in-process: every operation a spec secures, taken
from the specs themselves, refuses missing, malformed, unknown and revoked
credentials with the API's 401; login does not tell which e-mails exist; no
secret reaches a live server's log."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from seed import DAFTRA_SEED, FACTURACION_SEED

from mockserver.config import DEFAULT_SPECS
from mockserver.harness.target import find_model
from mockserver.pipeline.auth import Scheme
from mockserver.server.process import ServerProcess
from mockserver.spec.loader import discover_specs
from mockserver.spec.openapi import ApiSpec, Operation, load_spec

SPECS = {spec.name: spec for spec in (load_spec(path) for path in discover_specs(DEFAULT_SPECS))}


def secured(spec: ApiSpec) -> list[Operation]:
    """Operations no caller may use anonymously: every alternative names a scheme."""
    return [op for op in spec.operations if op.security and all(op.security)]


def schemes_of(spec: ApiSpec) -> dict[str, Scheme]:
    """The API's security schemes by name (Daftra has two: the API key and the OAuth bearer)."""
    return dict(find_model(spec.name).api.auth.schemes)


def scheme_of(spec: ApiSpec) -> Scheme:
    (scheme,) = schemes_of(spec).values()  # an API with one scheme
    return scheme


def malformed(scheme: Scheme, valid: str) -> list[dict[str, str | bytes]]:
    """Credentials that are almost right: wrong scheme word, no value, extra text, a stray Authorization."""
    if scheme.kind == "bearer":
        # "Bearer null" and "Bearer undefined" are what a frontend sends before it has a token.
        return [
            {"Authorization": "Bearer"},
            {"Authorization": "Bearer null"},
            {"Authorization": "Bearer undefined"},
            {"Authorization": valid},
            {"Authorization": f"Basic {valid}"},
            {"Authorization": f"Bearer {valid} {valid}"},
            {"Authorization": f"Bearer {valid}é".encode()},
        ]
    name = scheme.parameter
    # Daftra's guide: an Authorization header next to the key fails even with the right key.
    return [
        {name: ""},
        {name: f"Bearer {valid}"},
        {name: f"{valid},{valid}"},
        {name: valid, "Authorization": f"Bearer {valid}"},
    ]


VALID = {
    ("facturacion", "bearerAuth"): FACTURACION_SEED["tokens"][0]["token"],
    ("daftra", "apiKey"): next(k["key"] for k in DAFTRA_SEED["api_keys"] if "write" in k["scopes"]),
    ("daftra", "oauthBearer"): DAFTRA_SEED["oauth_tokens"][0]["access_token"],
}


def expected_401(spec: ApiSpec, op: Operation) -> tuple[dict[str, Any], dict[str, str]]:
    """The unauthenticated answer the spec declares for this operation: its own, else the API's."""
    declared = op.mock.errors.get("unauthenticated") or spec.mock.errors["unauthenticated"]
    return declared.body, {k.lower(): v for k, v in declared.headers.items()}


def call(mock: httpx.Client, op: Operation, headers: dict[str, Any]) -> httpx.Response:
    path = re.sub(r"\{[^}]+\}", "1", op.path)
    body = {} if op.request_body else None
    return mock.request(op.method, path, headers={"Accept": "application/json", **headers}, json=body)


def refusals(mock: httpx.Client, spec: ApiSpec, credentials: dict[str, Any]) -> list[str]:
    """Every secured operation's answer to these credentials that is not the API's 401."""
    wrong = []
    for op in secured(spec):
        response = call(mock, op, credentials)
        body, headers = expected_401(spec, op)
        if (
            response.status_code != 401
            or response.json() != body
            or any(response.headers.get(k) != v for k, v in headers.items())
        ):
            wrong.append(f"{op.method} {op.path} with {credentials}: {response.status_code} {response.text[:200]}")
    return wrong


def variants() -> list[Any]:
    return list(_variants())


def _variants() -> Iterator[Any]:
    for name, spec in SPECS.items():
        yield pytest.param(spec, {}, id=f"{name}-missing")
        for scheme_name, scheme in schemes_of(spec).items():
            for i, headers in enumerate(malformed(scheme, VALID[name, scheme_name])):
                yield pytest.param(spec, headers, id=f"{name}-{scheme_name}-malformed-{i}")
            unknown = scheme.present("1|no-such-credential-anywhere")
            yield pytest.param(spec, unknown, id=f"{name}-{scheme_name}-unknown")


def test_both_specs_secure_their_operations():
    assert {name: len(secured(spec)) > 10 for name, spec in SPECS.items()} == {"facturacion": True, "daftra": True}


@pytest.mark.parametrize("spec,credentials", variants())
def test_every_secured_operation_refuses_bad_credentials(mock, spec, credentials):
    assert refusals(mock, spec, credentials) == []


def test_every_secured_operation_refuses_a_token_after_logout(mock):
    spec = SPECS["facturacion"]
    token = mock.post("/api/auth/login", json={"email": "admin@demo.pe", "password": "secret123"}).json()[
        "access_token"
    ]
    mine = scheme_of(spec).present(token)
    assert mock.get("/api/v1/auth/me", headers=mine).status_code == 200
    assert mock.post("/api/v1/auth/logout", headers=mine).status_code == 200
    assert refusals(mock, spec, mine) == []


@pytest.mark.parametrize("email", ["nobody@nowhere.pe", "admin@demo.pe", "inactivo@demo.pe"])
def test_login_does_not_reveal_whether_an_email_exists(mock, email):
    unknown = mock.post("/api/auth/login", json={"email": "nobody@nowhere.pe", "password": "wrong-password"})
    response = mock.post("/api/auth/login", json={"email": email, "password": "wrong-password"})
    assert response.status_code == unknown.status_code == 401
    assert response.json() == unknown.json() == {"message": "Credenciales incorrectas", "status": "error"}
    assert sorted(response.headers.keys()) == sorted(unknown.headers.keys())


# live: the access log and the log level are uvicorn's, written by the server process
def test_no_token_key_or_password_reaches_the_log():
    secrets = {t["token"] for t in FACTURACION_SEED["tokens"]} | {k["key"] for k in DAFTRA_SEED["api_keys"]}
    secrets |= {
        "secret123",
        "wrong-password-in-log",
        "1|leaked-unknown-token",
        "leaked-unknown-key",
        "leaked-query-token",
        "leaked-query-key",
        "leaked-malformed-password",
        "leaked-form-password",
    }
    # the access log on again (the last of --no-access-log/--access-log wins), and every debug line
    with (
        ServerProcess("--log-level", "debug", "--access-log") as server,
        httpx.Client(base_url=server.url, timeout=10) as http,
    ):
        login = http.post("/api/auth/login", json={"email": "admin@demo.pe", "password": "secret123"})
        issued = login.json()["access_token"]
        secrets.add(issued)
        http.post("/api/auth/login", json={"email": "admin@demo.pe", "password": "wrong-password-in-log"})
        for token in [*(t["token"] for t in FACTURACION_SEED["tokens"]), issued, "1|leaked-unknown-token"]:
            http.get("/api/v1/clients", headers={"Authorization": f"Bearer {token}"})
            http.post("/api/v1/clients", headers={"Authorization": f"Bearer {token}"}, content=b"{oops")
        http.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {issued}"})
        http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {issued}"})
        for key in [*(k["key"] for k in DAFTRA_SEED["api_keys"]), "leaked-unknown-key"]:
            http.get("/api2/clients.json", headers={"APIKEY": key})
            http.post("/api2/clients.json", headers={"APIKEY": key}, json={"Client": {}})
        # Credentials where no spec takes them: in a query string, in a body that is not JSON.
        http.get("/api/v1/clients?token=leaked-query-token&page=1&api_key=leaked-query-key")
        http.post(
            "/api/auth/login",
            content=b'{"email": "admin@demo.pe", "password": "leaked-malformed-password"',
            headers={"Content-Type": "application/json"},
        )
        http.post("/api/auth/login", data={"email": "admin@demo.pe", "password": "leaked-form-password"})
        journal = http.get("/__mock/journal", params={"limit": 1000}).text
        server.stop()
        log = server.output()
    assert '"GET /api/v1/clients?' in log  # the access log was on
    assert "page=1" in log and "/api/auth/login" in journal  # and the journal kept the requests
    assert sorted(secret for secret in secrets if secret in log) == []
    assert sorted(secret for secret in secrets if secret in journal) == []
