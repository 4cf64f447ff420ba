"""Hostile input for both APIs on create, update, list and show: in-process, except what
only a live server's HTTP parser and socket see (huge request heads, chunked bodies, hang-ups).

Every case must get a 4xx in that API's own envelope with a message that says
what was wrong, show no traceback (in the answer or the server's log), and
leave the stored clients exactly as they were.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hostile import APIS, Api, send
from starlette.testclient import TestClient

from mockserver.config import ServerConfig
from mockserver.server.process import ServerProcess

JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
LIMIT = ServerConfig().max_body_bytes  # the default --max-body-bytes
DEEP = b"[" * 10_000 + b"]" * 10_000
MEGABYTE = "x" * 1_000_000


@dataclass
class Case:
    name: str
    operations: tuple[str, ...]
    #: raw body, or a function of the API giving one
    body: Any = None
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON))
    #: appended to the operation's path (a query string)
    query: str = ""
    #: replaces the id in the operation's path
    record_id: str | None = None
    #: many headers, sent as given
    extra_headers: list[tuple[str, str]] = field(default_factory=list)
    #: status: an int, or "validation" for the API's validation status
    status: Any = "validation"
    #: text the answer must contain, per API name or for both
    says: Any = ""


BODY = ("create", "update")
EVERY = ("create", "update", "list", "show")
BY_ID = ("update", "show")


def fields(api: Api, **values: Any) -> bytes:
    return json.dumps(api.wrap(values)).encode()


CASES = [
    Case("malformed JSON", BODY, b'{"razon_social": ', says="not valid JSON"),
    Case("JSON array", BODY, b"[1, 2]", says="must be a JSON object"),
    Case("JSON string", BODY, b'"text"', says="must be a JSON object"),
    Case("JSON null", BODY, b"null", says="must be a JSON object"),
    Case("JSON number", BODY, b"42", says="must be a JSON object"),
    Case(
        "text/plain", BODY, b'{"a": 1}', headers={"Content-Type": "text/plain"}, says="must be sent as application/json"
    ),
    # Both APIs read forms (x-mock.input.bodies), so a form is read, then validated like JSON.
    Case("form without the fields", BODY, b"a=1", headers=FORM, says="required"),
    Case("form over the limit", BODY, b"a=" + b"x" * LIMIT, headers=FORM, status=413, says=str(LIMIT)),
    Case("form brackets 100 deep", BODY, b"a" + b"[0]" * 100 + b"=1", headers=FORM, says="nested more than 64 levels"),
    Case("form of 2,000 fields", BODY, b"&".join(b"f%d=1" % i for i in range(2000)), headers=FORM, says="1000 fields"),
    Case("form not UTF-8", BODY, b"razon_social=%FF%FE", headers=FORM, says="not a valid form"),
    Case(
        "multipart with another boundary",
        BODY,
        b'--other\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--other--\r\n',
        headers={"Content-Type": "multipart/form-data; boundary=declared"},
        says="not a valid form",
    ),
    Case("multipart without a boundary", BODY, b"a", headers={"Content-Type": "multipart/form-data"}, says="boundary"),
    Case(
        "multipart over the limit",
        BODY,
        b'--b\r\nContent-Disposition: form-data; name="f"; filename="f.bin"\r\n\r\n' + b"x" * LIMIT + b"\r\n--b--\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=b"},
        status=413,
        says=str(LIMIT),
    ),
    Case(
        "multipart brackets 100 deep",
        BODY,
        b'--b\r\nContent-Disposition: form-data; name="a' + b"[0]" * 100 + b'"\r\n\r\n1\r\n--b--\r\n',
        headers={"Content-Type": "multipart/form-data; boundary=b"},
        says="nested more than 64 levels",
    ),
    Case("no Content-Type", BODY, b'{"a": 1}', headers={}, says="must be sent as application/json"),
    Case("empty body", BODY, b"", says="required"),
    Case(
        "body over the limit",
        BODY,
        b'{"a": "' + b"x" * LIMIT + b'"}',
        status=413,
        says=f"larger than {LIMIT} bytes",
    ),
    Case("10,000 levels deep", BODY, DEEP, says="nested more than 512 levels"),
    Case(
        "1 MB string",
        BODY,
        lambda api: fields(
            api, **({"razon_social": MEGABYTE} if api.name == "facturacion" else {"business_name": MEGABYTE})
        ),
        says={"facturacion": "must not be greater than 255 characters", "daftra": "must be at most 100 characters"},
    ),
    Case("invalid UTF-8", BODY, b'{"razon_social": "\xff\xfe\xc3"}', says="not valid UTF-8"),
    Case("NaN", BODY, b'{"a": NaN}', says="not valid JSON"),
    Case("Infinity", BODY, b'{"a": -Infinity}', says="not valid JSON"),
    Case("duplicate keys", BODY, b'{"razon_social": "A", "razon_social": "B"}', says="razon_social more than once"),
    Case("5,000-digit integer", BODY, b'{"company_id": ' + b"9" * 5000 + b"}", says="number too large"),
    Case("raw NUL byte", BODY, b'{"razon_social": "a\x00b"}', says="not valid JSON"),
    Case("lone surrogate", BODY, b'{"razon_social": "\\ud800"}', says="not valid JSON"),
    # Unicode digits are not digits to either API: "６" is no document type, "１" no staff id.
    Case(
        "Unicode digits",
        BODY,
        lambda api: fields(
            api, **({"tipo_documento": "６"} if api.name == "facturacion" else {"business_name": "Ok", "staff_id": "١"})
        ),
        says={"facturacion": "tipo_documento is invalid", "daftra": "staff_id must be an integer"},
    ),
    # over the mock's 16 KiB and under the HTTP parser's own 64 KiB limit (a longer target: see below)
    Case("query string of 60 KB", EVERY, query="?search=" + "a" * 60_000, status=414, says="16384 bytes"),
    Case(
        "5,000 headers",
        EVERY,
        extra_headers=[(f"X-Noise-{i}", "v") for i in range(5000)],
        status=431,
        says="headers are too large",
    ),
    Case(
        "one header of 100 KB",
        EVERY,
        extra_headers=[("X-Noise", "v" * 100_000)],
        status=431,
        says="headers are too large",
    ),
    Case(
        "Unicode digits in a query",
        ("list",),
        query="?company_id=%EF%BC%91&page=%EF%BC%91",
        says={"facturacion": "company_id must be an integer", "daftra": "page must be an integer"},
    ),
    Case(
        "words in a query",
        ("list",),
        query="?company_id=abc&page=abc",
        says={"facturacion": "company_id must be an integer", "daftra": "page must be an integer"},
    ),
    *[
        Case(
            f"id {label}",
            BY_ID,
            record_id=raw,
            status=404,
            says={"facturacion": "No query results for model", "daftra": "Item not found"},
        )
        for label, raw in [
            ("negative", "-1"),
            ("zero", "0"),
            ("huge", "9" * 40),
            ("of 5,000 digits", "9" * 5000),
            ("non-numeric", "abc"),
            ("fullwidth", "%EF%BC%91"),
            ("with NUL", "1%00"),
            ("dot-dot", "%2e%2e"),
        ]
    ],
    Case(
        "id with path traversal",
        BY_ID,
        record_id="..%2F..%2F..%2Fetc%2Fpasswd",
        status=404,
        says={"facturacion": "could not be found", "daftra": "Invalid Endpoint"},
    ),
]


def _target(api: Api, operation: str, case: Case) -> tuple[str, str]:
    method, path = api.operations[operation]
    if case.record_id is not None:
        suffix = ".json" if path.endswith(".json") else ""
        path = path.removesuffix(suffix).rsplit("/", 1)[0] + f"/{case.record_id}{suffix}"
    return method, path + case.query


def _body(api: Api, operation: str, case: Case) -> bytes | None:
    if case.body is None:  # id, query and header cases send a body the operation accepts: only they can fail
        return json.dumps(api.valid_update).encode() if operation == "update" else None
    return case.body(api) if callable(case.body) else case.body


#: what only a live server's HTTP parser sees as sent: a request line over the head buffer, thousands of headers
PARSER_CASES = {"query string of 60 KB", "5,000 headers", "one header of 100 KB"}


def _matrix(parser: bool) -> list[Any]:
    return [
        pytest.param(api, operation, case, id=f"{api.name}-{operation}-{case.name}")
        for api in APIS
        for case in CASES
        for operation in case.operations
        if (case.name in PARSER_CASES) == parser
    ]


def _check_refusal(api: Api, case: Case, status: int, headers: dict[str, str], text: str) -> None:
    assert headers["content-type"] == "application/json"
    # Bodies, queries and headers are never echoed; an unknown id is, as Laravel's 404 names it.
    assert len(text) < 4096 + len(case.record_id or ""), "the answer echoes the hostile input back"
    body = json.loads(text)
    api.check_envelope(status, body)
    says = case.says[api.name] if isinstance(case.says, dict) else case.says
    assert says in api.texts(body), body
    assert "Traceback" not in text and 'File "' not in text


@pytest.mark.parametrize("api,operation,case", _matrix(parser=False))
def test_hostile_request_is_refused_in_the_api_envelope(
    mock: TestClient, server_log: pytest.LogCaptureFixture, api: Api, operation: str, case: Case
):
    before = api.records(mock)
    method, target = _target(api, operation, case)
    headers = [*{**api.headers, **case.headers}.items(), *case.extra_headers]
    # the in-process client raises what the app leaves unhandled; the log is the one a server would write
    answer = mock.request(method, target, headers=headers, content=_body(api, operation, case))

    status = api.validation_status if case.status == "validation" else case.status
    assert answer.status_code == status, answer.text[:500]
    _check_refusal(api, case, status, dict(answer.headers), answer.text)
    assert "Traceback" not in server_log.text
    assert api.records(mock) == before


# live: a request head of 100 KB or 5,000 headers must get through uvicorn's HTTP parser to be answered
@pytest.mark.parametrize("api,operation,case", _matrix(parser=True))
def test_hostile_request_head_is_refused_in_the_api_envelope(
    server: ServerProcess, http: httpx.Client, api: Api, operation: str, case: Case
):
    before = api.records(http)
    method, target = _target(api, operation, case)
    headers = [*{**api.headers, **case.headers}.items(), *case.extra_headers]
    answer = send(server.url, method, target, headers, _body(api, operation, case))

    status = api.validation_status if case.status == "validation" else case.status
    assert answer.status == status, answer.text[:500]
    _check_refusal(api, case, status, answer.headers, answer.text)
    assert "Traceback" not in server.output()
    assert api.records(http) == before


# live: what the HTTP parser itself refuses never reaches an API
@pytest.mark.parametrize(
    "target,headers",
    [
        pytest.param("/api/v1/clients?search=" + "a" * 100_000, [], id="target of 100 KB"),
        pytest.param("/api/v1/clients", [(f"X-Noise-{i}", "v" * 1000) for i in range(1100)], id="head over 1 MiB"),
    ],
)
def test_a_request_head_past_the_http_layer_limits_gets_its_plain_400(
    server: ServerProcess, http: httpx.Client, target: str, headers: list[tuple[str, str]]
):
    before = APIS[0].records(http)
    answer = send(server.url, "GET", target, [*APIS[0].headers.items(), *headers])
    assert answer.status == 400 and answer.headers["content-type"].startswith("text/plain"), answer.text[:200]
    assert "Traceback" not in server.output()
    assert APIS[0].records(http) == before


# live: a chunked body is counted as uvicorn's parser hands it over
@pytest.mark.parametrize("api", APIS, ids=lambda api: api.name)
def test_body_limit_is_configurable_and_counts_streamed_bodies(api: Api):
    with ServerProcess("--max-body-bytes", "1024") as server, httpx.Client(base_url=server.url) as http:
        method, path = api.operations["create"]
        over = {**api.headers, **JSON}
        big = fields(api, razon_social="x" * 2000)
        response = http.request(method, path, headers=over, content=big)
        assert response.status_code == 413
        api.check_envelope(413, response.json())
        assert "1024 bytes" in api.texts(response.json())
        # A chunked body declares no length: it is counted as it arrives.
        streamed = http.request(method, path, headers=over, content=iter([big[:600], big[600:]]))
        assert streamed.status_code == 413 and "1024 bytes" in api.texts(streamed.json())
        # The journal notes such bodies without reading them either.
        journal = http.get("/__mock/journal", params={"status": "413"}).json()["entries"]
        assert [entry["request_body"] for entry in journal] == ["<more than 1024 bytes, not read>"] * 2
        # Under the limit the request is read as usual.
        small = http.request(method, path, headers=over, content=b"{}")
        assert small.status_code == api.validation_status
        assert "Traceback" not in server.output()


@pytest.mark.parametrize("api", APIS, ids=lambda api: api.name)
def test_mixed_unicode_and_nul_inside_text_are_stored_as_sent(mock: TestClient, api: Api):
    """Not refused: the schemas admit any string, so the mock keeps such text intact."""
    text = "Ñandú\u0000 漢字 😀 \u202eعربي\u202c e\u0301 \U0001d54f"
    if api.name == "facturacion":
        sent = {"tipo_documento": "1", "numero_documento": "70000001", "razon_social": text}
        created = mock.post(api.operations["create"][1], headers=api.headers, json=sent)
        assert created.status_code == 201, created.text
        stored = created.json()["data"]["razon_social"]
        shown = mock.get(f"/api/v1/clients/{created.json()['data']['id']}", headers=api.headers).json()["data"]
        assert stored == shown["razon_social"] == text
    else:
        created = mock.post(api.operations["create"][1], headers=api.headers, json=api.wrap({"business_name": text}))
        assert created.status_code == 202, created.text
        shown = mock.get(f"/api2/clients/{created.json()['id']}.json", headers=api.headers).json()["data"]["Client"]
        assert shown["business_name"] == text


# live: the hang-up is a real socket closed mid-body
def test_a_caller_hanging_up_mid_body_leaves_no_traceback(server: ServerProcess, http: httpx.Client):
    before = APIS[0].records(http)
    head = "POST /api/v1/clients HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n"
    with socket.create_connection((server.host, server.port)) as sock:
        sock.sendall((head + f"Authorization: {APIS[0].headers['Authorization']}\r\n\r\n" + '{"razon').encode())
    time.sleep(0.5)  # the server notices the hang-up on its own time; a broken one logs its traceback by then
    assert APIS[0].records(http) == before
    assert "Traceback" not in server.output()
