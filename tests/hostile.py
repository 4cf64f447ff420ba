"""What the hostile-input, concurrency and credential tests share: each API's
client operations, its error envelope, and a raw HTTP sender for requests
httpx refuses to build (URLs over 64 KiB)."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from seed import ADMIN, DAFTRA


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def send(
    url: str, method: str, target: str, headers: dict[str, str] | list[tuple[str, str]], body: bytes | None = None
) -> Answer:
    """One request over http.client, which sends any target and any number of headers as given."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        pairs = headers.items() if isinstance(headers, dict) else headers
        for name, value in pairs:
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return Answer(
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            response.read().decode("utf-8", errors="replace"),
        )
    finally:
        connection.close()


@dataclass
class Api:
    name: str
    headers: dict[str, str]
    #: operation -> (method, path) on a seeded record
    operations: dict[str, tuple[str, str]]
    #: wraps record fields in the body the API expects
    wrap: Callable[[dict[str, Any]], dict[str, Any]]
    #: a body the update operation accepts
    valid_update: dict[str, Any]
    validation_status: int

    def texts(self, body: dict[str, Any]) -> str:
        """Every message of an error body, as one text."""
        parts = [str(body.get("message", ""))]
        for errors in (body.get("errors"), body.get("validation_errors")):
            if isinstance(errors, dict):
                for value in errors.values():
                    parts.extend(value if isinstance(value, list) else [value])
        return " | ".join(parts)

    def check_envelope(self, status: int, body: Any) -> None:
        assert isinstance(body, dict), body
        assert isinstance(body.get("message"), str) and body["message"], body
        if self.name == "daftra":
            assert body["result"] == "failed" and body["code"] == status, body
            assert set(body) <= {"result", "code", "message", "validation_errors"}, body
            assert all(isinstance(v, str) and v for v in (body.get("validation_errors") or {}).values()), body
        else:
            assert set(body) <= {"success", "message", "data", "errors"}, body
            assert body.get("success", False) is False, body
            for messages in (body.get("errors") or {}).values():
                assert isinstance(messages, list) and all(isinstance(m, str) and m for m in messages), body

    def records(self, http: httpx.Client) -> list[dict[str, Any]]:
        """Every stored client, in id order, through the API's own list operation."""
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            response = http.get(self.operations["list"][1], params={"page": page, "limit": 1000}, headers=self.headers)
            assert response.status_code == 200, response.text
            body = response.json()
            found += [item.get("Client", item) for item in body["data"]]
            last = body["meta"]["last_page"] if "meta" in body else body["pagination"]["page_count"]
            if page >= last:
                return found
            page += 1


FACTURACION = Api(
    name="facturacion",
    headers=ADMIN,
    operations={
        "create": ("POST", "/api/v1/clients"),
        "update": ("PUT", "/api/v1/clients/1"),
        "list": ("GET", "/api/v1/clients"),
        "show": ("GET", "/api/v1/clients/1"),
    },
    wrap=lambda fields: fields,
    valid_update={"company_id": 1, "tipo_documento": "6", "numero_documento": "20100047218", "razon_social": "X"},
    validation_status=422,
)
DAFTRA_API = Api(
    name="daftra",
    headers=DAFTRA,
    operations={
        "create": ("POST", "/api2/clients.json"),
        "update": ("PUT", "/api2/clients/1.json"),
        "list": ("GET", "/api2/clients.json"),
        "show": ("GET", "/api2/clients/1.json"),
    },
    wrap=lambda fields: {"Client": fields},
    valid_update={"Client": {"business_name": "X"}},
    validation_status=400,
)
APIS = [FACTURACION, DAFTRA_API]
