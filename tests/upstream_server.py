"""A deployment that behaves like the upstream Facturación app on its client endpoints.

It reproduces the deviations /work/shared/reference/facturacion-api.md §9
records between the published page (which the spec and the mock follow) and
the upstream Laravel code, so `mockserver drift` and `mockserver proxy` can
be shown finding each one:

- `company_id` left out is not defaulted: the company lookup finds none, 404 (§9 #1);
- the same document in another company passes the per-company check and
  breaks the global unique index: 500 (§9 #2);
- a 16-to-20-character `numero_documento` overflows its varchar(15): 500 (§9 #3);
- `ubigeo` is checked as `size:6`, so six letters are accepted (§9 #4);
- an unknown `company_id` is refused by the `exists` rule with 422 (§9 #6);
- a 201 body carries only the keys sent, plus id, timestamps and company (§9 #7).

Two are changes to the spec the mock serves (ubigeo's pattern, an `exists`
rule answering 422); the rest are a thin ASGI layer in front of it, because
they are failures no honest declaration describes.
`uvicorn --factory upstream_server:app` serves it.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from broken_servers import Raw, _operation, changed_in_process
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.config import DEFAULT_FIXTURES

CLIENTS = "/api/v1/clients"
#: what upstream adds to the keys a create was sent (§9 #7)
ALWAYS_ANSWERED = {"id", "created_at", "updated_at", "company"}
DUPLICATE_ENTRY = "Error al crear cliente: SQLSTATE[23000]: Integrity constraint violation: 1062 Duplicate entry"
TOO_LONG = "Error al crear cliente: SQLSTATE[22001]: String data, right truncated: 1406 Data too long for column"


def upstream_rules(raw: Raw) -> None:
    """ubigeo checked for its size only; an unknown company refused by validation, before the other rules."""
    raw["components"]["schemas"]["ClientFields"]["properties"]["ubigeo"]["pattern"] = "^.{6}$"
    mock = _operation(raw, "createClient")["x-mock"]
    mock["rules"].insert(
        0,
        {"exists": {"resource": "companies", "key": "company_id"}, "error": {"field": "company_id", "rule": "exists"}},
    )


class UpstreamClients:
    """The failures of upstream's client creation, in front of the mock serving its rules."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        seed = yaml.safe_load((DEFAULT_FIXTURES / "facturacion.yaml").read_text(encoding="utf-8"))
        #: (tipo_documento, numero_documento) -> company: upstream's unique index is global
        self.documents = {(c["tipo_documento"], c["numero_documento"]): c["company_id"] for c in seed["clients"]}
        # a company the lookup does not find as active: where a missing company_id ends up
        self.inactive = next(c["id"] for c in seed["companies"] if not c["activo"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != CLIENTS:
            await self.app(scope, receive, send)
            return
        raw = await _read(receive)
        try:
            sent = json.loads(raw)
        except ValueError:
            sent = None
        if isinstance(sent, dict) and sent.get("company_id") is None:
            # no default is applied: the lookup of a company with no id fails as for an inactive one (§9 #1)
            raw = json.dumps({**sent, "company_id": self.inactive}).encode()
        status, headers, body = await _call(self.app, scope, raw)
        if status == 201 and isinstance(sent, dict):
            status, body = self._stored(sent, json.loads(body))
        headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _stored(self, sent: dict[str, Any], answer: dict[str, Any]) -> tuple[int, bytes]:
        record = answer["data"]
        document = (record["tipo_documento"], record["numero_documento"])
        if document in self.documents and self.documents[document] != record["company_id"]:
            return 500, _message(DUPLICATE_ENTRY)  # §9 #2
        if 15 < len(record["numero_documento"]):
            return 500, _message(TOO_LONG)  # §9 #3
        self.documents[document] = record["company_id"]
        answer["data"] = {k: v for k, v in record.items() if k in sent or k in ALWAYS_ANSWERED}  # §9 #7
        return 201, json.dumps(answer).encode()


def _message(text: str) -> bytes:
    return json.dumps({"success": False, "message": text}).encode()


async def _read(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _call(app: ASGIApp, scope: Scope, body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The app's whole answer to a request with this body."""
    delivered = False
    start: Message = {}
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
    await app(dict(scope, headers=[*headers, (b"content-length", str(len(body)).encode())]), receive, send)
    return int(start["status"]), list(start.get("headers", [])), b"".join(chunks)


def app() -> ASGIApp:
    return UpstreamClients(changed_in_process("facturacion", upstream_rules))
