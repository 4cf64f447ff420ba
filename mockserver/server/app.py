"""The Starlette application: every spec in a folder, each under its own prefix.

`MockServer` owns what the APIs share: the request journal, the latency and
fault controls, and whole-server state operations (snapshot, restore, reload).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import dataclasses
import functools
import gc
import json
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.config import DEFAULT_FIXTURES, DEFAULT_SPECS, ServerConfig
from mockserver.errors import SpecError, StateError, TooLarge
from mockserver.pipeline.api import MockApi, Outcome
from mockserver.pipeline.auth import secret_headers
from mockserver.pipeline.controls import Controls, Rule, TransportFaults
from mockserver.pipeline.incoming import ClientDisconnect, Incoming
from mockserver.pipeline.limits import Limits
from mockserver.pipeline.responses import Encoded, Reply, encode
from mockserver.pipeline.routing import ALL_METHODS
from mockserver.server import admin, docs, idle
from mockserver.server.journal import (
    Journal,
    MaskedAccessLog,
    RawEntry,
    SharedJournal,
    kept_headers,
    kept_query,
    kept_size,
)
from mockserver.server.persistence import StateFile
from mockserver.spec.fixtures import load_seed
from mockserver.spec.loader import discover_specs
from mockserver.spec.openapi import ApiSpec, load_spec
from mockserver.state.backend import is_memory
from mockserver.state.shared import NAMESPACE, RedisConnection, SharedDocument, SharedList
from mockserver.state.store import check_tables

__all__ = ["DEFAULT_FIXTURES", "DEFAULT_SPECS", "MockServer", "create_app"]

log = logging.getLogger("mockserver")
#: a restore of at least this many records is frozen out of the garbage collector's sight
FREEZE_AFTER = 10_000
GENERIC_SECRETS = secret_headers()


class AnyPath(Convertor[str]):
    """Every path, control characters included: unknown paths are the APIs' to answer."""

    regex = r"[\s\S]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("anypath", AnyPath())


@functools.cache
def _malloc_trim() -> Any:
    """glibc's malloc_trim, or None (musl, macOS: their allocators return memory by themselves)."""
    name = ctypes.util.find_library("c")
    return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None


def _give_back_memory() -> None:
    """Free memory back to the system after a large load or its replacement, now and once the request
    that loaded it has let go of the parsed document it came in.

    The C allocator keeps what a large load's parsing freed (its dicts' tables, the body) for reuse;
    100,000 loaded records of 22 fields stayed at 265 MB resident with 70 MB live, and 152 MB once trimmed.
    """
    trim = _malloc_trim()
    if trim is None:
        return
    trim(0)
    with contextlib.suppress(RuntimeError):  # no loop: a load at start-up, whose document is already gone
        asyncio.get_running_loop().call_soon(trim, 0)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No garbage collection while an API is built (at start-up, on a reload, in every test's app).

    A build makes some half a million objects and keeps nearly all of them, so each collection it
    triggered walked them for nothing: half of the CPU of building both specs (0.9 s -> 0.45 s here).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class MockServer:
    def __init__(self, config: ServerConfig, specs: Iterable[ApiSpec] | None = None) -> None:
        """The APIs of the specs in `config.specs_dir`, or of exactly the loaded `specs` given."""
        self.config = config
        #: a restore froze a large load (see settle_memory)
        self.frozen_load = False
        #: HTTP requests so far (counted by MockApp): how a serving process tells it is idle (idle.py)
        self.requests = 0
        self.controls = Controls(Rule.parse(config.delay, config.fault, config.fault_rate), config.seed)
        #: the Redis every replica shares (`--store redis://…`); None: the state is this process's
        self.shared: RedisConnection | None = None
        if not is_memory(config.store):
            try:
                self.shared = RedisConnection(config.store)
            except ValueError as exc:  # redis-py's reading of the URL
                raise StateError(f"--store {config.store!r}: use memory or redis://HOST:PORT/DB ({exc})") from None
        self.journal: Journal
        if self.shared is None:
            self.journal = Journal(config.journal_size)
        else:
            self.journal = SharedJournal(SharedList(self.shared, f"{NAMESPACE}:journal", config.journal_size))
            self.controls.shared = SharedDocument(self.shared, f"{NAMESPACE}:controls")
            # each request refreshes its state and then syncs the controls: one round trip for both
            self.controls.shared.watch()
        self.limits = Limits(max_body_bytes=config.max_body_bytes)
        loaded: list[tuple[Path, ApiSpec | None]] = (
            [(path, None) for path in discover_specs(Path(config.specs_dir))]
            if specs is None
            else [(spec.source, spec) for spec in specs]
        )
        apis: list[MockApi] = []
        for path, spec in loaded:
            api = self._build(path, spec)
            clash = self._clash(api, apis)
            if clash is not None:
                raise clash
            apis.append(api)
        self.apis = self._sorted(apis)
        profile = config.profile
        if profile is not None and not any(profile in api.spec.mock.profiles for api in apis):
            offered = sorted({name for api in apis for name in api.spec.mock.profiles})
            raise ValueError(f"no spec declares the profile {profile!r} (declared: {', '.join(offered) or 'none'})")

    def _build(self, spec_path: Path, spec: ApiSpec | None = None) -> MockApi:
        try:
            with _collector_paused():
                return MockApi(
                    spec or load_spec(spec_path, profile=self.config.profile),
                    Path(self.config.fixtures_dir),
                    self.config,
                    self.controls,
                    self.limits,
                    self.shared,
                )
        except SpecError as exc:  # a behaviour that cannot be built names its operation; the file is known here
            raise exc.at(file=spec_path) from exc

    @staticmethod
    def _clash(api: MockApi, others: Any) -> SpecError | None:
        """Two specs of one name or one prefix: requests and admin calls could not tell them apart."""
        for other in others:
            if other.name == api.name:
                reason = f"the API name {api.name!r} is already the name of {other.spec.source}"
                return SpecError(reason, file=api.spec.source, pointer="/x-mock/name")
            if other.prefix == api.prefix:
                reason = f"the prefix {api.prefix or '(none)'!r} is already the prefix of {other.spec.source}"
                return SpecError(reason, file=api.spec.source, pointer="/x-mock/prefix")
        return None

    @staticmethod
    def _sorted(apis: Any) -> list[MockApi]:
        # Longest prefix first, so /api2 is not taken for /api.
        return sorted(apis, key=lambda api: len(api.prefix), reverse=True)

    def api(self, name: str) -> MockApi | None:
        return next((api for api in self.apis if api.name == name), None)

    # -- requests ----------------------------------------------------------
    async def dispatch(self, request: Incoming) -> Encoded:
        """The answer to a request for the APIs, journaled."""
        started = time.perf_counter()
        path = request.path
        api = next((api for api in self.apis if api.owns(path)), None)
        outcome = await api.handle(request) if api is not None else self._no_api(path)
        await self._write_journal(request, api, outcome, started)
        assert outcome.response is not None  # every handled request has its answer
        return outcome.response

    async def endpoint(self, request: Request) -> Response:
        """`dispatch` as a Starlette endpoint, for a request that came through the router (CORS, the docs)."""
        encoded = await self.dispatch(Incoming(request.scope, request.receive))
        return encoded.as_response()

    def _no_api(self, path: str) -> Outcome:
        prefixes = ", ".join(api.prefix for api in self.apis)
        body = {
            "message": f"No API is served at {path}",
            "apis": [
                {
                    "name": api.name,
                    "prefix": api.prefix,
                    "title": api.spec.title,
                    "docs": f"/{api.name}/docs",
                }
                for api in self.apis
            ],
            "admin": "/__mock/",
        }
        return Outcome(
            encode(Reply(200 if path == "/" else 404, body)),
            miss={"reason": f"no API is served under {path}; prefixes: {prefixes}", "nearest": None},
        )

    async def _write_journal(self, request: Incoming, api: MockApi | None, outcome: Outcome, started: float) -> None:
        response = outcome.response
        assert response is not None
        parsed = outcome.body
        secret = api.secret_headers if api is not None else GENERIC_SECRETS
        self.journal.record(
            RawEntry(
                method=request.method,
                path=request.path,
                query=kept_query(request.query),
                status=response.status,
                api=api.name if api is not None else None,
                operation=outcome.operation,
                session=request.headers.get(self.config.session_header),
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
                headers=kept_headers(request.headers.raw, secret),
                secret_headers=secret,
                request_body=kept_size(await self._journal_body(request)),
                response_raw=kept_size(response.body),
                response_data=None if isinstance(parsed, dict | list) else parsed,
                miss=outcome.miss,
                routed_as=outcome.routed_as,
            )
        )

    async def _journal_body(self, request: Incoming) -> bytes | str | None:
        """The request body as read (the journal masks it when read); one over the limit is not read at all."""
        try:
            return await self.limits.read_body(request)
        except TooLarge as exc:
            return f"<more than {exc.limit} bytes, not read>"
        except ClientDisconnect:
            return None

    # -- whole state -------------------------------------------------------
    def snapshot(self, session: str | None = None, *, copy_records: bool = True) -> dict[str, Any]:
        """The records of every API (of one session), as JSON-ready data.

        `copy_records=False`: the stored records themselves, for a caller that serializes them at once.
        """
        apis = {}
        for api in self.apis:
            store = api.sessions.peek(session)
            if store is not None:
                apis[api.name] = store.dump(copy_records=copy_records)
        return {"apis": apis}

    def restore(self, snapshot: Any, session: str | None = None, *, owned: bool = False) -> None:
        """Replace the state of the APIs a snapshot names; all are checked before any is changed.

        `owned`: the snapshot was parsed for this call and nothing else holds it, so its records are kept
        as they are rather than copied (a restore of 100,000 records held them twice).
        """
        if not isinstance(snapshot, Mapping) or not isinstance(snapshot.get("apis"), Mapping):
            raise StateError('a snapshot is {"apis": {"<api>": {"<resource>": [records]}}}')
        stores = {}
        for name, tables in snapshot["apis"].items():
            api = self.api(name)
            if api is None:
                raise StateError(f"no API named {name!r}")
            try:
                check_tables(tables)
                stores[name] = api.fresh_store(tables, owned=owned)
            except (ValueError, TypeError) as exc:  # StateError included
                raise StateError(f"{name}: {exc}") from None
        for name, store in stores.items():
            self.api(name).sessions.replace(session, store)  # type: ignore[union-attr]
        self.settle_memory(
            large=sum(len(t) for store in stores.values() for t in store.tables.values()) >= FREEZE_AFTER
        )

    def settle_memory(self, *, large: bool) -> None:
        """After the state was replaced: a `large` new load is kept out of the collector's sight.

        Frozen, the next full collection does not walk every new record (0.47 s for the first list page
        after loading 100,000 records). A state frozen earlier and dropped now frees its records at once,
        but what it leaves in cycles (each table's key orders, `Shape.family`) only once unfrozen, so the
        heap is unfrozen and collected first.
        """
        if large or self.frozen_load:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            _give_back_memory()
        self.frozen_load = large

    @property
    def generation(self) -> tuple[tuple[int, int], ...]:
        """Changes whenever the default state does: a write, a restore or a reload."""
        return tuple((api.sessions.default.number, api.sessions.default.generation) for api in self.apis)

    # -- hot reload --------------------------------------------------------
    def reload(self, changed: set[Path]) -> None:
        """Rebuild the APIs whose spec changed and re-seed those whose fixtures changed.

        Records survive a spec change; a spec that fails to load leaves the
        old one serving.
        """
        apis = {api.spec.source.resolve(): api for api in self.apis}
        for path in sorted(changed):
            path = path.resolve()
            if path in apis and not path.exists():
                log.warning("%s was removed; its API is no longer served", path)
                del apis[path]
            elif path.suffix in (".yaml", ".yml", ".json") and path.parent == Path(self.config.specs_dir).resolve():
                try:
                    fresh = self._build(path)
                    clash = self._clash(fresh, (api for source, api in apis.items() if source != path))
                    if clash is not None:
                        raise clash
                except (SpecError, OSError, ValueError) as exc:
                    log.error("%s did not load, the previous version keeps serving: %s", path, exc)
                    continue
                old = apis.get(path)
                if old is not None:
                    for name, store in old.sessions.stores():
                        fresh.sessions.replace(name, fresh.fresh_store(store.dump(), owned=True))
                apis[path] = fresh
                log.warning("%s reloaded", path)
        for api in apis.values():
            if api.fixtures_path.resolve() in {p.resolve() for p in changed}:
                self._reseed(api)
        self.apis = self._sorted(apis.values())

    @staticmethod
    def _reseed(api: MockApi) -> None:
        """New fixtures: seeded records are replaced by their new versions; others stay."""
        try:
            seed = load_seed(api.fixtures_path)
            reseeded = []
            for name, store in api.sessions.stores():
                tables = store.dump()
                for resource, records in seed.items():
                    kept = {record.get("id"): record for record in tables.get(resource, [])}
                    kept.update({record.get("id"): record for record in records})
                    tables[resource] = list(kept.values())
                reseeded.append((name, api.fresh_store(tables)))
        except (SpecError, OSError, ValueError, TypeError) as exc:
            log.error("%s did not load, the previous fixtures stay: %s", api.fixtures_path, exc)
            return
        # only fixtures that loaded everywhere replace the old ones
        api.seed = seed
        for name, store in reseeded:
            api.sessions.replace(name, store)
        log.warning("%s reloaded", api.fixtures_path)


#: the docs routes' paths (docs.py): `/{api}/docs`, `/{api}/openapi.json`, `/{api}/openapi.yaml`
_DOCS_PATH = re.compile(r"^/[^/]+/(?:docs|openapi\.json|openapi\.yaml)$")
_METHODS = frozenset(ALL_METHODS)


class MockApp(Starlette):
    """Starlette, with transport faults outside everything (they need the server's own connection).

    Requests for the APIs, nearly all of them, take a short way: from the
    ASGI scope straight to `MockServer.dispatch`, without the router (which
    tried `/__mock` and the docs routes first), the exception and CORS
    middleware, and their wrappers around `send`. CORS headers are only ever
    added to a request with an `Origin`, so such a request takes the long
    way, through `CORSMiddleware`, as do the admin API, the docs and the
    lifespan. What a caller sees is the same either way.
    """

    server: MockServer

    def build_middleware_stack(self) -> Any:
        return TransportFaults(super().build_middleware_stack())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.server.requests += 1  # the admin API's and the docs' requests too: none comes in an idle spell
            if self._for_an_api(scope):
                scope["app"] = self
                await self._direct(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    def _for_an_api(self, scope: Scope) -> bool:
        path: str = scope["path"]
        if path.startswith("/__mock") or scope.get("root_path") or scope["method"] not in _METHODS:
            return False
        if self.server.config.cors:
            for name, _ in scope["headers"]:  # a plain loop: `any()` over a generator cost twice as much
                if name == b"origin":
                    return False
        return _DOCS_PATH.match(path) is None

    @functools.cached_property
    def _direct(self) -> ASGIApp:
        async def answer(scope: Scope, receive: Receive, send: Send) -> None:
            encoded = await self.server.dispatch(Incoming(scope, receive))
            await encoded.send(send)

        return TransportFaults(answer)


def _deferred_imports() -> None:
    """What a start leaves out to answer sooner: jsonschema (the messages of a 422,
    `validation.format_checker`) and Jinja2 (file templates). Left to a request, the first 422 of a
    process waited some 100 ms for jsonschema, and so did every request behind it: at 32 connections
    that pause was the invalid create's p99 (6-11 times its p50 on a fresh server)."""
    import jinja2.sandbox  # noqa: F401

    from mockserver.pipeline.validation import format_checker

    format_checker()


def create_app(config: ServerConfig | None = None, specs: Iterable[ApiSpec] | None = None, **options: Any) -> MockApp:
    """The ASGI app; `create_app(specs_dir=..., locale=...)` sets single options.

    With `specs` it serves exactly those loaded specs instead of the ones in `specs_dir`.
    """
    config = config or ServerConfig(**options)
    if config.state_file and not is_memory(config.store):
        raise StateError(
            "--state-file keeps an in-memory state; with --store redis, Redis keeps it (its own persistence)"
        )
    server = MockServer(config, specs)
    state_file = StateFile(Path(config.state_file), server) if config.state_file else None
    if state_file is not None:
        state_file.load()

    def requests() -> int:
        return server.requests

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(idle.import_when_idle(requests, _deferred_imports))]
        if idle.is_serving():  # the collector leaves the older generations to idle spells
            tasks.append(asyncio.create_task(idle.collect_when_idle(requests)))
        if state_file is not None:
            tasks.append(asyncio.create_task(state_file.save_every(config.state_interval_seconds)))
        if config.reload:
            from mockserver.server.reload import watch

            tasks.append(asyncio.create_task(watch(server, [Path(config.specs_dir), Path(config.fixtures_dir)])))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            if state_file is not None:
                state_file.save_or_log()

    middleware = []
    if config.cors:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(config.cors_origins),
                allow_methods=ALL_METHODS,
                allow_headers=[
                    *config.cors_headers,
                    config.session_header,
                    *(name for api in server.apis for name in api.auth.key_headers()),
                ],
                allow_credentials=True,
                expose_headers=["Location", "Allow"],
            )
        )
    app = MockApp(
        routes=[
            Mount("/__mock", routes=admin.routes(server)),
            *docs.routes(server),
            Route("/{path:anypath}", server.endpoint, methods=ALL_METHODS),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.server = server
    app.server = server
    return app


#: the options of `mockserver serve --workers N`, for each worker process to build its app from
CONFIG_VARIABLE = "MOCKSERVER_WORKER_CONFIG"


def config_to_json(config: ServerConfig) -> str:
    data = {key: str(value) if isinstance(value, Path) else value for key, value in dataclasses.asdict(config).items()}
    return json.dumps(data)


def serving_app(config: ServerConfig) -> MockApp:
    """The app as a serving process builds it (`serve`, and each of its `--workers`), with the collector
    set for serving (see idle.py)."""
    with idle.serving():
        return create_app(config)


def app_from_environment() -> MockApp:
    """The app of one worker of `--workers N` (uvicorn imports it by name in each process)."""
    data = json.loads(os.environ[CONFIG_VARIABLE])
    for key in ("specs_dir", "fixtures_dir", "state_file"):
        if data.get(key) is not None:
            data[key] = Path(data[key])
    for key in ("cors_origins", "cors_headers"):
        data[key] = tuple(data[key])
    app = serving_app(ServerConfig(**data))
    logging.getLogger("uvicorn.access").addFilter(MaskedAccessLog())
    return app
