"""`mockserver proxy`: traffic to a deployment, forwarded unchanged and checked against the spec on the way.

Each exchange is checked with the engine's own model: the operation is
found by the mock's router, the request read by the operation's compiled
validator, the answer held against the documented statuses, content types,
headers and schemas, and the `x-mock` rules a proxy can see from traffic (a
second record with the same unique key accepted, a reference to a record
the deployment said was missing accepted). Violations go back to the caller
in `X-Mock-Violations`, into the proxy's journal (`/__proxy/journal`) and
into the report written when the proxy stops; exchanges can be recorded as
HAR. Credentials are masked everywhere, as the mock's journal masks them.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from jsonschema import Draft202012Validator
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockserver.errors import AdminError
from mockserver.harness.model import ContractModel
from mockserver.harness.report import curl
from mockserver.pipeline.api import CompiledOperation
from mockserver.pipeline.masking import secret_header
from mockserver.pipeline.routing import Match
from mockserver.server.journal import MASK, Facet, chosen, mask_body, read_limit
from mockserver.spec.openapi import Operation
from mockserver.spec.pointers import value_at

#: the most of the violations header a caller gets; the journal and the report keep them whole
HEADER_LIMIT = 512
_HOP_BY_HOP = {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "accept-encoding", "upgrade"}


@dataclass(frozen=True)
class Violation:
    check: str
    detail: str

    def __str__(self) -> str:
        return f"{self.check}: {self.detail}"


@dataclass
class Exchange:
    """One request through the proxy, as the journal, the report and the HAR keep it (credentials masked)."""

    method: str
    url: str
    operation: str
    status: int
    request_headers: dict[str, str]
    request_body: Any
    response_headers: dict[str, str]
    response_body: Any
    curl: str
    started: str
    milliseconds: float
    violations: list[Violation] = field(default_factory=list)

    def facets(self) -> dict[str, Facet]:
        """What the proxy journal's filters choose by: `operation`, `status` (or `4xx`), `violations` (true/false)."""
        return {"operation": self.operation, "status": self.status, "violations": bool(self.violations)}


@dataclass
class Traffic:
    """What the proxy has seen: every exchange, and what the rules it checks remember."""

    exchanges: list[Exchange] = field(default_factory=list)
    #: (operationId, unique key fields, their values) of every record a create was answered with success
    unique: set[tuple[str, tuple[str, ...], str]] = field(default_factory=set)
    #: (resource, id) the deployment answered 404 for
    missing: set[tuple[str, str]] = field(default_factory=set)


class Checker:
    """The checks of one exchange against the model."""

    def __init__(self, model: ContractModel) -> None:
        self.model = model
        self.traffic = Traffic()

    def operation(self, method: str, path: str) -> tuple[CompiledOperation, dict[str, str]] | None:
        found = self.model.api.router.match(method, path)
        return (found.target, found.params) if isinstance(found, Match) else None

    def check(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        body: bytes,
        response: httpx.Response,
    ) -> tuple[str, list[Violation]]:
        found = self.operation(method, path)
        if found is None:
            return "", [Violation("undocumented_route", f"the spec has no operation for {method} {path}")]
        compiled, params = found
        operation = compiled.operation
        violations = self._request(compiled, params, query, body, response.status_code)
        violations += self._response(operation, response)
        violations += self._rules(operation, params, body, response)
        return operation.operation_id, violations

    def _request(
        self, compiled: CompiledOperation, params: dict[str, str], query: Mapping[str, str], body: bytes, status: int
    ) -> list[Violation]:
        if not 200 <= status < 300:
            return []  # a refused request is no violation whatever it was
        validator = compiled.validator
        problems = [f"path parameter {name}" for name in [validator.path(params)[1]] if name is not None]
        problems += [f"query {error.field} ({error.rule})" for error in validator.query(query)[1]]
        parsed = _json(body)
        if compiled.operation.request_body and (parsed is not None or not body):
            sent = parsed if body else None
            errors = validator.body(validator.coerced(sent), sent=bool(body))
            problems += [f"body {error.field} ({error.rule})" for error in errors]
        if not problems:
            return []
        return [
            Violation(
                "request_refused_by_spec_accepted", f"{status} for a request the spec refuses: {'; '.join(problems)}"
            )
        ]

    def _response(self, operation: Operation, response: httpx.Response) -> list[Violation]:
        status = str(response.status_code)
        documented = (
            operation.responses.get(status)
            or operation.responses.get(f"{status[0]}XX")
            or operation.responses.get("default")
        )
        if documented is None:
            listed = ", ".join(sorted(operation.responses))
            return [Violation("status_code_conformance", f"{status} is not documented (documented: {listed})")]
        violations = []
        if response.status_code >= 500:  # documented or not, a server error is never the contract's answer
            violations.append(Violation("not_a_server_error", f"{status}: {response.text[:200]}"))
        content = documented.get("content") or {}
        media = response.headers.get("content-type", "").split(";")[0].strip()
        if content and response.content and media not in content:
            violations.append(
                Violation("content_type_conformance", f"{media or '(none)'}, documented {', '.join(content)}")
            )
        for name, header in (documented.get("headers") or {}).items():
            if isinstance(header, dict) and header.get("required") and name not in response.headers:
                violations.append(Violation("response_headers_conformance", f"the documented header {name} is missing"))
        schema = operation.response_schema(response.status_code)
        if schema is not None and media in content:
            body = _json(response.content)
            errors = [e.message for e in Draft202012Validator(schema).iter_errors(body)][:3]
            if errors:
                violations.append(Violation("response_schema_conformance", "; ".join(errors)))
        return violations

    def _rules(
        self, operation: Operation, params: dict[str, str], body: bytes, response: httpx.Response
    ) -> list[Violation]:
        mock = operation.mock
        traffic = self.traffic
        if mock.action == "read" and mock.resource and response.status_code == 404 and len(params) == 1:
            traffic.missing.add((mock.resource, next(iter(params.values()))))
        if mock.action != "create" or not 200 <= response.status_code < 300:
            return []
        record = value_at(_json(body), tuple(operation.record_pointer))
        if not isinstance(record, dict):
            return []
        violations = []
        for rule in mock.rules:
            if rule.unique and all(name in record for name in rule.unique):
                key = (operation.operation_id, rule.unique, json.dumps([record[n] for n in rule.unique]))
                if key in traffic.unique:
                    fields = "+".join(rule.unique)
                    violations.append(Violation("unique_key", f"a second record with the same {fields} was accepted"))
                traffic.unique.add(key)
            if rule.exists is not None and (rule.exists.resource, str(record.get(rule.exists.key))) in traffic.missing:
                shown = f"{rule.exists.key} {record.get(rule.exists.key)}"
                violations.append(
                    Violation("reference_exists", f"{shown} names a record the deployment answered 404 for")
                )
        return violations


def _json(content: bytes) -> Any:
    try:
        return json.loads(content) if content else None
    except ValueError:
        return None


def masked_headers(headers: httpx.Headers | Mapping[str, str]) -> dict[str, str]:
    return {name: MASK if secret_header(name) else value for name, value in headers.items()}


def violations_header(violations: list[Violation]) -> str:
    """The violations, short enough for a header (the journal and the report have them whole)."""
    text = "; ".join(str(v) for v in violations).replace("\r", " ").replace("\n", " ")
    text = text.encode("ascii", "replace").decode()  # a header value is ASCII
    return text if len(text) <= HEADER_LIMIT else text[: HEADER_LIMIT - 3] + "..."


def error_answer(model: ContractModel, compiled: CompiledOperation | None, violations: list[Violation]) -> Response:
    """`--errors`: the API's validation envelope naming the violations, with 502 (the deployment broke the contract)."""
    errors = model.api.errors if compiled is None else compiled.errors
    messages = [str(v) for v in violations]
    try:
        body = errors["validation"]({"errors": {"response": messages}, "summary": messages[0]}).body
    except (KeyError, TypeError, ValueError):  # an envelope that needs more than the errors: a plain one
        body = {"message": messages[0], "errors": {"response": messages}}
    return JSONResponse(body, status_code=502, headers={"X-Mock-Violations": violations_header(violations)})


def proxy_app(
    model: ContractModel,
    target: str,
    *,
    errors: bool = False,
    on_exchange: Callable[[Exchange], None] | None = None,
    on_stop: Callable[[Traffic], None] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """The proxy as an ASGI app forwarding to `target` (through `transport`, an app in this process, say)."""
    checker = Checker(model)
    base = target.rstrip("/")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=60, transport=transport) as forwarder:
            app.state.forwarder = forwarder
            try:
                yield
            finally:
                if on_stop is not None:
                    on_stop(checker.traffic)

    async def journal(request: Request) -> Response:
        """The proxy's own journal (the deployment's, if it is a mock, stays at its /__mock/journal): newest first."""
        try:
            limit = read_limit(request.query_params)
        except AdminError as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        matching = chosen(reversed(checker.traffic.exchanges), request.query_params)
        return JSONResponse({"count": len(matching), "entries": [asdict(exchange) for exchange in matching[:limit]]})

    async def forward(request: Request) -> Response:
        body = await request.body()
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP]
        started = time.monotonic()
        try:
            answer = await request.app.state.forwarder.request(
                request.method, base + request.url.path, params=request.url.query or None, headers=headers, content=body
            )
        except httpx.HTTPError as exc:
            return JSONResponse({"message": f"the deployment did not answer: {exc}"}, status_code=502)
        elapsed = (time.monotonic() - started) * 1000
        operation, violations = checker.check(request.method, request.url.path, request.query_params, body, answer)
        exchange = Exchange(
            method=request.method,
            url=str(answer.request.url),
            operation=operation,
            status=answer.status_code,
            request_headers=masked_headers(request.headers),
            request_body=mask_body(body),
            response_headers=masked_headers(answer.headers),
            response_body=mask_body(answer.content),
            curl=curl(answer.request),
            started=datetime.now(UTC).isoformat(),
            milliseconds=round(elapsed, 1),
            violations=violations,
        )
        checker.traffic.exchanges.append(exchange)
        if on_exchange is not None:
            on_exchange(exchange)
        if violations and errors:
            found = checker.operation(request.method, request.url.path)
            return error_answer(model, found[0] if found else None, violations)
        out = {k: v for k, v in answer.headers.items() if k.lower() not in (*_HOP_BY_HOP, "content-encoding")}
        if violations:
            out["X-Mock-Violations"] = violations_header(violations)
        return Response(answer.content, status_code=answer.status_code, headers=out)

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    return Starlette(
        routes=[Route("/__proxy/journal", journal), Route("/{path:path}", forward, methods=methods)],
        lifespan=lifespan,
    )
