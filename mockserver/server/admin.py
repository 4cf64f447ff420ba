"""The admin API under `/__mock/`: state, sessions, controls and the journal.

Described by its own OpenAPI document (`admin.yaml`, served at
`/__mock/openapi.json`). When the server has an admin token every endpoint
but health, the documents and the console page asks for it, in
`X-Mock-Admin-Token` or as a bearer token.
"""

from __future__ import annotations

import copy
import functools
import hmac
import importlib.util
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from mockserver.errors import AdminError, ControlError, StateError, StoreUnavailable
from mockserver.pipeline.api import MockApi
from mockserver.pipeline.controls import Rule
from mockserver.pipeline.responses import JSONResponse
from mockserver.server.journal import read_limit
from mockserver.spec.loader import load_yaml
from mockserver.spec.shape import schema_text
from mockserver.state.store import Row, whole_number

if TYPE_CHECKING:
    from mockserver.server.app import MockServer

HERE = Path(__file__).resolve().parent
DOCUMENT_PATH = HERE / "admin.yaml"


@functools.cache
def admin_document() -> dict[str, Any]:
    """The admin API's own OpenAPI document, read when first asked for: parsing it at import was a
    sixth of the imports' time at start-up."""
    parsed: dict[str, Any] = load_yaml(DOCUMENT_PATH)
    return parsed


#: Swagger UI's files, from the swagger-ui-py package (found without importing it)
SWAGGER_UI_ASSETS = Path(importlib.util.find_spec("swagger_ui").origin).parent / "static"  # type: ignore[union-attr,arg-type]
Endpoint = Callable[[Request], Awaitable[Response]]


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_body(request: Request) -> Any:
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise AdminError(400, f"the body is not valid JSON: {exc}") from None


class Admin:
    def __init__(self, server: MockServer) -> None:
        self.server = server

    def guarded(self, endpoint: Endpoint) -> Endpoint:
        """The endpoint, behind the admin token when one is set, with AdminError rendered."""

        async def guarded_endpoint(request: Request) -> Response:
            token = self.server.config.admin_token
            if token:
                given = request.headers.get("x-mock-admin-token") or ""
                scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
                if scheme.lower() == "bearer":
                    given = given or bearer.strip()
                if not hmac.compare_digest(given.encode(), token.encode()):
                    return _error(401, "the admin API needs the server's admin token in X-Mock-Admin-Token")
            try:
                return await endpoint(request)
            except AdminError as exc:
                return _error(exc.status, exc.message)
            except StoreUnavailable as exc:
                return _error(503, str(exc))

        return guarded_endpoint

    def _api(self, request: Request) -> MockApi:
        return self._api_named(request.path_params["api"])

    @staticmethod
    def _session(request: Request) -> str | None:
        return request.query_params.get("session") or None

    # -- open endpoints ----------------------------------------------------
    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "apis": [api.name for api in self.server.apis]})

    async def document(self, request: Request) -> Response:
        if request.url.path.endswith(".yaml"):
            return PlainTextResponse(DOCUMENT_PATH.read_text(encoding="utf-8"), media_type="application/yaml")
        return JSONResponse(admin_document())

    async def xmock_schema(self, request: Request) -> Response:
        """The JSON Schema every spec's `x-mock` is checked against when it loads."""
        return Response(schema_text(), media_type="application/schema+json")

    async def console(self, request: Request) -> Response:
        return FileResponse(HERE / "console.html", media_type="text/html")

    # -- APIs and records --------------------------------------------------
    async def list_apis(self, request: Request) -> Response:
        session = self._session(request)
        described = []
        for api in self.server.apis:
            store = api.sessions.peek(session)
            described.append(
                {
                    "name": api.name,
                    "title": api.spec.title,
                    "prefix": api.prefix,
                    "docs": f"/{api.name}/docs",
                    "operations": [
                        {"id": op.operation_id, "method": op.method, "path": op.path} for op in api.spec.operations
                    ],
                    "resources": {name: len(table) for name, table in sorted(store.tables.items())} if store else {},
                }
            )
        return JSONResponse({"apis": described})

    def _table(self, request: Request) -> Any:
        api = self._api(request)
        store = api.sessions.peek(self._session(request))
        name = request.path_params["resource"]
        if store is None or name not in store.tables:
            raise AdminError(404, f"{api.name} has no records of {name!r}")
        return store.tables[name]

    async def records(self, request: Request) -> Response:
        table = self._table(request)
        offset, limit = read_limit(request.query_params, "offset", 0), read_limit(request.query_params)
        chosen = list(table)[offset : offset + limit]
        return JSONResponse({"count": len(table), "records": [dict(Row(table, record)) for record in chosen]})

    async def record(self, request: Request) -> Response:
        table = self._table(request)
        raw = request.path_params["id"]
        number = whole_number(raw)
        row = table.row(number) if number is not None else None
        row = row or table.row(raw)
        if row is None:
            raise AdminError(404, f"no record with id {raw!r}")
        return JSONResponse(dict(row))

    # -- state -------------------------------------------------------------
    async def reset(self, request: Request) -> Response:
        name = request.query_params.get("api")
        apis = [self._api_named(name)] if name else self.server.apis
        for api in apis:
            api.sessions.reset(self._session(request))
        self.server.settle_memory(large=False)
        return JSONResponse({"reset": [api.name for api in apis], "session": self._session(request)})

    def _api_named(self, name: str) -> MockApi:
        api = self.server.api(name)
        if api is None:
            known = ", ".join(api.name for api in self.server.apis)
            raise AdminError(404, f"no API named {name!r}; known: {known}")
        return api

    async def load_fixtures(self, request: Request) -> Response:
        api = self._api(request)
        given = await _json_body(request)
        if not isinstance(given, dict):
            raise AdminError(400, 'fixtures are {"<resource>": [records]}')
        store = api.sessions.peek(self._session(request))
        # the resources given are replaced; the others (credentials, say) stay, copied
        kept = store.dump(copy_records=False) if store is not None else {}
        tables = copy.deepcopy({name: records for name, records in kept.items() if name not in given})
        await self._restore({"apis": {api.name: {**tables, **given}}}, request)
        return JSONResponse({"loaded": api.name, "session": self._session(request)})

    async def snapshot(self, request: Request) -> Response:
        if request.method == "PUT":
            await self._restore(await _json_body(request), request)
        # serialized here and now: the records need no copy
        return JSONResponse(self.server.snapshot(self._session(request), copy_records=False))

    async def _restore(self, data: Any, request: Request) -> None:
        """`data` was parsed from this request's body for this call: the state keeps it without a copy."""
        try:
            self.server.restore(data, self._session(request), owned=True)
        except StateError as exc:
            raise AdminError(400, str(exc)) from None

    # -- sessions ----------------------------------------------------------
    async def sessions(self, request: Request) -> Response:
        return JSONResponse({api.name: api.sessions.describe() for api in self.server.apis})

    async def drop_session(self, request: Request) -> Response:
        name = request.path_params["name"]
        dropped = [api.name for api in self.server.apis if api.sessions.drop(name)]
        if not dropped:
            raise AdminError(404, f"no session named {name!r}")
        return JSONResponse({"dropped": name, "apis": dropped})

    # -- latency and faults ------------------------------------------------
    async def controls(self, request: Request) -> Response:
        self.server.controls.sync()
        if request.method == "PUT":
            try:
                everywhere = Rule.from_data(await _json_body(request))
                if everywhere.outcome is not None:
                    raise ControlError("an outcome is set per operation (PUT /__mock/controls/API/OPERATION)")
                self.server.controls.set_everywhere(everywhere)
            except ControlError as exc:
                raise AdminError(400, str(exc)) from None
        return JSONResponse(self.server.controls.to_data())

    async def operation_controls(self, request: Request) -> Response:
        api = self._api(request)
        operation = request.path_params["operation"]
        if operation not in {op.operation_id for op in api.spec.operations}:
            raise AdminError(404, f"{api.name} has no operation {operation!r}")
        if request.method == "DELETE":
            self.server.controls.set_operation(api.name, operation, None)
        else:
            try:
                rule = Rule.from_data(await _json_body(request))
            except ControlError as exc:
                raise AdminError(400, str(exc)) from None
            if rule.outcome is not None:
                declared = api.operations[operation].operation.mock.outcomes
                refusal = (
                    f"{operation} declares no outcomes"
                    if declared is None
                    else declared.refusal(operation, rule.outcome)
                )
                if refusal is not None:
                    raise AdminError(400, refusal)
            self.server.controls.set_operation(api.name, operation, rule)
        return JSONResponse(self.server.controls.to_data())

    # -- journal -----------------------------------------------------------
    async def journal(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.server.journal.clear()
            return JSONResponse({"count": 0, "entries": []})
        count, entries = self.server.journal.read(request.query_params, read_limit(request.query_params))
        return JSONResponse({"count": count, "entries": [entry.to_data() for entry in entries]})

    async def journal_count(self, request: Request) -> Response:
        return JSONResponse({"count": self.server.journal.count(request.query_params)})


def routes(server: MockServer) -> list[BaseRoute]:
    admin = Admin(server)
    guard = admin.guarded
    return [
        Route("/", admin.console),
        Route("/health", admin.health),
        Route("/openapi.json", admin.document),
        Route("/openapi.yaml", admin.document),
        Route("/x-mock.schema.json", admin.xmock_schema),
        Mount("/assets/swagger-ui", StaticFiles(directory=SWAGGER_UI_ASSETS)),
        Route("/apis", guard(admin.list_apis)),
        Route("/apis/{api}/resources/{resource}", guard(admin.records)),
        Route("/apis/{api}/resources/{resource}/{id}", guard(admin.record)),
        Route("/apis/{api}/fixtures", guard(admin.load_fixtures), methods=["PUT"]),
        Route("/reset", guard(admin.reset), methods=["POST"]),
        Route("/snapshot", guard(admin.snapshot), methods=["GET", "PUT"]),
        Route("/sessions", guard(admin.sessions)),
        Route("/sessions/{name}", guard(admin.drop_session), methods=["DELETE"]),
        Route("/controls", guard(admin.controls), methods=["GET", "PUT"]),
        Route("/controls/{api}/{operation}", guard(admin.operation_controls), methods=["PUT", "DELETE"]),
        Route("/journal", guard(admin.journal), methods=["GET", "DELETE"]),
        Route("/journal/count", guard(admin.journal_count)),
    ]
