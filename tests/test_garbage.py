"""Answering leaves no reference cycles behind.

What a request leaves in a cycle only the cyclic garbage collector frees, and
its collections stall every request in flight: a raised 400 that kept its
traceback made the duplicate create's p99 7.8 times its p50 (bench/results.md).
The app is driven through its ASGI interface on one event loop, as a server
drives it, so the test client's own threads add nothing to what is counted.
"""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Callable
from typing import Any

from inprocess import bundled_specs

from mockserver.server.app import create_app

FACTURACION = [(b"authorization", b"Bearer 1|sunat_demo_admin_token")]
DAFTRA = [(b"apikey", b"demo-daftra-api-key")]
Headers = list[tuple[bytes, bytes]]


def client_body(document: str) -> bytes:
    return json.dumps(
        {"company_id": 1, "tipo_documento": "6", "numero_documento": document, "razon_social": "EMPRESA DEMO S.A.C."}
    ).encode()


async def status_of(app: Any, method: str, path: str, headers: Headers, body: bytes = b"") -> int:
    """Send one request straight to the ASGI app; the status it answered."""
    sent = [(b"host", b"mock"), (b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    scope = {"type": "http", "method": method, "path": path, "query_string": b"", "headers": sent + headers}
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    answered: list[int] = []

    async def receive() -> dict[str, Any]:
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answered.append(message["status"])

    await app(scope, receive, send)
    return answered[0]


def in_session(n: int) -> Headers:
    """Daftra's credential in a session of its own: past the session limit, each evicts the oldest."""
    return [*DAFTRA, (b"x-mock-session", b"garbage-%d" % n)]


# every way an answer leaves the pipeline: rendered, raised by a rule, refused by validation or by
# authentication, no route at all; and a state dropped (a session evicted)
REQUESTS: dict[str, tuple[str, str, Headers | Callable[[int], Headers], Callable[[int], bytes], int]] = {
    "created": ("POST", "/api/v1/clients", FACTURACION, lambda n: client_body(f"9{n:010d}"), 201),
    "duplicate": ("POST", "/api/v1/clients", FACTURACION, lambda n: client_body("20100047218"), 400),
    "invalid": ("POST", "/api/v1/clients", FACTURACION, lambda n: b'{"company_id": 1, "email": "x"}', 422),
    "unauthenticated": ("GET", "/api/v1/clients/1", [], lambda n: b"", 401),
    "no route": ("GET", "/api/v1/nothing-here", FACTURACION, lambda n: b"", 404),
    "daftra created": (
        "POST",
        "/api2/clients",
        DAFTRA,
        lambda n: b'{"Client": {"is_offline": true, "business_name": "A", "staff_id": 1}}',
        202,
    ),
    "list": ("GET", "/api/v1/clients", FACTURACION, lambda n: b"", 200),
    "too deep": ("POST", "/api2/clients", DAFTRA, lambda n: b'{"Client": ' + b"[" * 2000, 400),
    "too large": (
        "POST",
        "/api2/clients",
        DAFTRA,
        lambda n: b'{"Client": {"business_name": "%s"}}' % (b"x" * 5000),
        413,
    ),
    "session evicted": ("GET", "/api2/clients/1", in_session, lambda n: b"", 200),
}


def sent(headers: Headers | Callable[[int], Headers], n: int) -> Headers:
    return headers(n) if callable(headers) else headers


def test_no_answer_leaves_cyclic_garbage():
    app = create_app(specs=bundled_specs(None), session_limit=2, max_body_bytes=4096)

    async def garbage_left() -> dict[str, int]:
        # the first answers build what each operation keeps (validators, templates): not garbage, not counted
        for method, path, headers, body, status in REQUESTS.values():
            assert await status_of(app, method, path, sent(headers, 0), body(0)) == status
        gc.collect()
        gc.freeze()  # what exists now is out of the count, and the collections below need not walk it
        left = {}
        for kind, (method, path, headers, body, status) in REQUESTS.items():
            for n in range(1, 11):
                assert await status_of(app, method, path, sent(headers, n), body(n)) == status
            left[kind] = gc.collect()
        return left

    enabled = gc.isenabled()
    gc.disable()  # no collection meanwhile: the one after each kind counts everything its requests left
    try:
        assert asyncio.run(garbage_left()) == dict.fromkeys(REQUESTS, 0)
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()
