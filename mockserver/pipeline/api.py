"""One API served from its spec: the story of a request.

match the operation -> authenticate -> honour a forced response ->
validate path, query, headers and body -> run the behaviour on the state ->
render the API's envelope.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mockserver.config import ServerConfig
from mockserver.errors import BadPreference, BodyError, FieldError, Invalid, Refusal, SpecError, StoreUnavailable
from mockserver.pipeline import behaviours
from mockserver.pipeline import rules as business_rules
from mockserver.pipeline.auth import Authenticator, secret_headers
from mockserver.pipeline.controls import TRANSPORT_FAULTS, Controls, request_transport_fault
from mockserver.pipeline.dynamic import DataGenerator
from mockserver.pipeline.incoming import ClientDisconnect, Incoming
from mockserver.pipeline.inputs import InputReader
from mockserver.pipeline.limits import Limits
from mockserver.pipeline.messages import Messages
from mockserver.pipeline.preferences import Preference, read_preference
from mockserver.pipeline.responses import Encoded, Reply, ReplyTemplate, encode, reply_template
from mockserver.pipeline.routing import Match, Router
from mockserver.pipeline.validation import RequestValidator
from mockserver.spec.fixtures import load_seed
from mockserver.spec.model import parse_reply
from mockserver.spec.openapi import ApiSpec, Operation
from mockserver.state.backend import StateBackend
from mockserver.state.sessions import Sessions
from mockserver.state.shared import RedisConnection, RedisSessions
from mockserver.state.store import Record, ResourceConfig, Store

log = logging.getLogger("mockserver")

_FALLBACK_ERRORS = {
    name: parse_reply(declared)
    for name, declared in {
        "validation": {"status": 422, "body": {"message": "Invalid request", "errors": "${errors}"}},
        "unauthenticated": {"status": 401, "body": {"message": "Unauthenticated"}},
        "forbidden": {"status": 403, "body": {"message": "Forbidden"}},
        "route_not_found": {"status": 404, "body": {"message": "Not found: ${request.path}"}},
        "method_not_allowed": {
            "status": 405,
            "body": {"message": "Method ${request.method} not allowed; use ${allowed}"},
        },
        "bad_preference": {"status": 400, "body": {"message": "${detail}"}},
        "payload_too_large": {"status": 413, "body": {"message": "The request body is larger than ${limit} bytes"}},
        "uri_too_long": {
            "status": 414,
            "body": {"message": "The request path and query are longer than ${limit} bytes"},
        },
        "headers_too_large": {"status": 431, "body": {"message": "The request headers are too large"}},
        "internal": {"status": 500, "body": {"message": "The mock failed to answer: ${detail}"}},
    }.items()
}


#: format -> (the second, the time formatted for it): formats without `%f` change once a second
_NOW: dict[str, tuple[int, str]] = {}


def formatted_now(fmt: str) -> str:
    """The current UTC time in `fmt`, formatted once a second rather than on every request."""
    now = time.time()
    second = int(now)
    kept = _NOW.get(fmt)
    if kept is not None and kept[0] == second:
        return kept[1]
    text = datetime.fromtimestamp(now, UTC).strftime(fmt)
    if "%f" not in fmt:
        _NOW[fmt] = (second, text)
    return text


#: how often a write is run again after another process committed first (shared state only)
COMMIT_ATTEMPTS = 50


def _unavailable(internal: ReplyTemplate) -> ReplyTemplate:
    """The state store is down: the API's own error envelope, as a 503 (an API may declare `unavailable`)."""
    return ReplyTemplate(503, lambda context: internal.body({**context, "status": 503}), internal.headers)


class CompiledOperation:
    """An operation with its validator, behaviour and error envelopes built once."""

    def __init__(self, operation: Operation, api: MockApi) -> None:
        self.operation = operation
        self.input = api.spec.mock.input
        self.behaviour = behaviours.build(operation, api.environment)
        overrides = operation.mock.errors
        self.errors = {**api.errors, **{name: reply_template(t, operation) for name, t in overrides.items()}}
        self.documented = sorted(operation.responses)
        self.examples = {status: operation.examples(status) for status in self.documented}
        # one generator per operation, so a seed gives each operation the same answers in every run
        self.dynamic = DataGenerator(f"{api.seed_value}:{operation.operation_id}")

    @functools.cached_property
    def validator(self) -> RequestValidator:
        """Built at the operation's first request: building every operation's was a quarter of the
        start-up, and it refuses nothing (a schema it cannot compile is checked the slow way)."""
        declared = self.input
        return RequestValidator(
            self.operation, coercion=declared.coerce, blank_query_is_null=declared.empty_strings_to_null
        )

    def forced(self, preference: Preference) -> Reply:
        """The documented response a caller asked for with `Prefer` or `__code`."""
        status = preference.code or next((s for s in self.documented if s.startswith("2")), self.documented[0])
        if status not in self.operation.responses:
            raise BadPreference(
                f"Response {status} is not documented for {self.operation.operation_id}; "
                f"documented: {', '.join(self.documented)}"
            )
        examples = self.examples[status]
        if preference.example is not None:
            if preference.example not in examples:
                names = ", ".join(examples) or "none"
                raise BadPreference(
                    f"No example named {preference.example!r} for response {status}; available: {names}"
                )
            return Reply(int(status), examples[preference.example])
        if preference.dynamic:
            schema = self.operation.response_schema(int(status))
            return Reply(int(status), self.dynamic.generate(schema) if schema else None)
        if not examples:
            raise BadPreference(f"Response {status} of {self.operation.operation_id} has no documented example")
        return Reply(int(status), next(iter(examples.values())))

    def injected(self, status: str, context: dict[str, Any]) -> Reply:
        """A fault given as an HTTP status: its documented example, else the API's error envelope."""
        examples = self.examples.get(status)
        if examples:
            return Reply(int(status), next(iter(examples.values())))
        reply = self.errors["internal"]({**context, "status": int(status), "detail": f"fault {status} injected"})
        reply.status = int(status)
        return reply


@dataclass(slots=True)
class Outcome:
    """A handled request: the answer, and for the journal what answered it (or why nothing did)."""

    response: Encoded | None = None
    operation: str | None = None
    miss: dict[str, Any] | None = None
    #: the data the response body was rendered from
    body: Any = None
    #: the method a POST was routed as (`_method`, `X-HTTP-Method-Override`), when it named one
    routed_as: str | None = None


class MockApi:
    def __init__(
        self,
        spec: ApiSpec,
        fixtures_dir: Path,
        config: ServerConfig,
        controls: Controls,
        limits: Limits,
        shared: RedisConnection | None = None,
    ) -> None:
        self.spec = spec
        self.name = spec.name
        mock = spec.mock
        stripped = mock.prefix.strip("/")
        #: "" (no x-mock.prefix) owns every path; the server tries it after every longer prefix
        self.prefix = f"/{stripped}" if stripped else ""
        self.also_owns = mock.also_owns
        self.timestamp_format = mock.timestamp_format
        self.bind_first = mock.bind_before_validation
        self.rules_beside_schema = mock.rules_beside_schema
        self.messages = Messages(mock, config.locale)
        self.controls = controls
        self.session_header = config.session_header
        self.seed_value = config.seed
        self.limits = limits
        self.input = InputReader(mock.input, limits)
        self.errors: dict[str, ReplyTemplate] = {
            name: reply_template(t) for name, t in {**_FALLBACK_ERRORS, **mock.errors}.items()
        }
        self.errors.setdefault("unavailable", _unavailable(self.errors["internal"]))
        try:
            self.resources = {name: ResourceConfig.from_spec(name, data) for name, data in mock.resources.items()}
        except SpecError as exc:  # a formula the loader could not judge: the spec is where to look
            raise exc.at(file=spec.source) from None
        self.auth = Authenticator(spec.security_schemes, spec.scheme_mocks)
        self.secret_headers = secret_headers(self.auth.secret_headers())
        self.environment = behaviours.Environment(
            resources=self.resources,
            auth=self.auth,
            not_found={name: reply_template(r.not_found) for name, r in mock.resources.items() if r.not_found},
            templates=spec.source.parent,
            answer_as=self._answer_as,
        )
        self.router: Router[CompiledOperation] = Router(mock.path_suffixes)
        indexes: dict[str, set[tuple[str, ...]]] = self.auth.index_fields()
        for declared in mock.resources.values():  # every read of a parent lists its children
            for child in declared.children.values():
                indexes.setdefault(child.resource, set()).add((child.key,))
        #: each operation as compiled, by its operationId (read by the contract harness)
        self.operations: dict[str, CompiledOperation] = {}
        for operation in spec.operations:
            compiled = self.operations[operation.operation_id] = CompiledOperation(operation, self)
            self.router.add(operation.method, operation.path, compiled)
            for resource, field_sets in compiled.behaviour.index_fields().items():
                indexes.setdefault(resource, set()).update(field_sets)
        self.indexes = indexes
        self.fixtures_path = spec.fixtures_file(fixtures_dir)
        self.seed = load_seed(self.fixtures_path)
        self._pristine: tuple[Mapping[str, list[Record]], Store] | None = None
        self.sessions: StateBackend = (
            Sessions(self.fresh_store, config.session_limit, config.session_idle_seconds)
            if shared is None
            else RedisSessions(shared, self.name, self.fresh_store, config.session_limit, config.session_idle_seconds)
        )

    def fresh_store(self, records: Mapping[str, list[Record]] | None = None, *, owned: bool = False) -> Store:
        """A state holding the fixtures, or the given records (kept as they are when `owned`: see Store.load)."""
        if records is None:
            return self._seeded().copy()
        store = Store(self.resources)
        store.load(records, self.indexes, owned=owned)
        return store

    def _seeded(self) -> Store:
        """The fixtures as loaded, kept to be copied: every new session and reset starts from a copy.

        Kept for the seed it was loaded from: new fixtures (a reload) are loaded afresh on first use.
        """
        kept = self._pristine
        if kept is None or kept[0] is not self.seed:
            store = Store(self.resources)
            store.load(self.seed, self.indexes)
            kept = self._pristine = (self.seed, store)
        return kept[1]

    @functools.cached_property
    def _owned(self) -> tuple[frozenset[str], tuple[str, ...]]:
        """The prefixes this API owns, and each with a slash after it (worked out once: `owns` runs for every
        API on every request)."""
        prefixes = (self.prefix, *self.also_owns)
        return frozenset(prefixes), tuple(prefix + "/" for prefix in prefixes)

    def owns(self, path: str) -> bool:
        exact, below = self._owned
        return path in exact or path.startswith(below)

    async def handle(self, request: Incoming) -> Outcome:
        method = request.method
        path = request.path
        context: dict[str, Any] = {
            "request": {"method": method, "path": path, "route": path.lstrip("/"), "origin": request.origin}
        }
        outcome = Outcome()
        try:
            self.limits.check_head(request)
            routed = await self.input.method(request)
            if routed is not None:  # the service routes it as the method it names, and so says it was
                outcome.routed_as = method = routed
                context["request"]["method"] = routed
            reply = await self._answer(request, method, path, context, outcome)
        except Reply as raised:
            reply = raised.caught()
        except Refusal as refusal:  # refused before any operation was matched
            reply = self.refused(self.errors, refusal, context)
        except ClientDisconnect:  # the caller hung up mid-body: nobody is left to answer
            log.info("caller disconnected during %s %s", method, path)
            reply = Reply(400)
        except Exception as exc:  # a bug in the mock: log it, never leak a traceback
            log.exception("unexpected error on %s %s", method, path)
            reply = self.errors["internal"]({**context, "status": 500, "detail": type(exc).__name__})
        outcome.response = encode(reply, head_only=request.method == "HEAD")
        # a file is journaled as what it is, not as its bytes
        is_file = isinstance(reply.body, bytes)
        outcome.body = f"<{len(reply.body)} bytes, {reply.headers.get('Content-Type')}>" if is_file else reply.body
        return outcome

    async def _answer(
        self, request: Incoming, method: str, path: str, context: dict[str, Any], outcome: Outcome
    ) -> Reply:
        found = self.router.match(method, path)
        if not isinstance(found, Match):
            outcome.miss = self.router.explain(method, path, found)
            if not found.allowed:
                return self.errors["route_not_found"](context)
            allowed = ", ".join(found.allowed)
            if method == "OPTIONS":
                return Reply(200, None, {"Allow": allowed})
            reply = self.errors["method_not_allowed"]({**context, "allowed": allowed})
            reply.headers["Allow"] = allowed
            return reply
        operation: CompiledOperation = found.target
        outcome.operation = operation.operation.operation_id
        try:
            return await self._serve(request, operation, found, context)
        except Refusal as refusal:
            return self.refused(operation.errors, refusal, context)

    async def _serve(
        self, request: Incoming, operation: CompiledOperation, found: Match[CompiledOperation], context: dict[str, Any]
    ) -> Reply:
        query = request.query_params
        preference = read_preference(request.headers.get("prefer"), query) or Preference()
        session = request.headers.get(self.session_header)
        store = self.sessions.get(session)  # an unknown or over-limit session is refused before any delay
        self.controls.sync()
        decision = self.controls.decide(self.name, operation.operation.operation_id, preference.control)
        if decision.delay_seconds:
            await asyncio.sleep(decision.delay_seconds)
        if decision.fault in TRANSPORT_FAULTS:
            request_transport_fault(request.scope, decision.fault)
            return Reply(200)
        if decision.fault is not None:
            return operation.injected(decision.fault, context)

        if decision.delay_seconds:  # after a delay: a reset or restore meanwhile may have replaced it
            # (without one nothing awaited since the first look: taking it again, one more round trip to a
            # shared store, would find the same)
            store = self.sessions.get(session)
        identity = self.auth.authenticate(operation.operation.security, store, request.headers, query, request.cookies)
        seen = store.generation  # the state the caller was identified on
        context["principal"] = identity.principal
        context["credential"] = identity.credential

        if preference.forces_answer:
            return operation.forced(preference)
        requested = await self._outcome(operation, preference, decision.outcome)

        validator = operation.validator
        path_values, failed = validator.path(found.params)
        if failed is not None:  # a path parameter that cannot name anything
            return operation.behaviour.missing_from_path(context, found.params[failed], failed)
        context["path"] = path_values
        query_values, errors = validator.query(query)
        context["query"] = query_values
        if self.bind_first:  # route-model binding: an unknown path record is its 404 before any validation error
            operation.behaviour.bind(behaviours.Call(store=store, identity=identity, context={**context, "body": {}}))
        errors += validator.headers(request.headers)
        body: Any = None
        readable = True
        if validator.body_schema is not None:
            try:
                sent = await self.input.read(request)
                if isinstance(sent.value, list) and validator.body_schema.get("type") != "array":
                    raise BodyError("body.not_object")  # a list only where the operation takes one
                body = validator.coerced(sent.value)
                errors += validator.body(body, sent=sent.sent)
            except BodyError as exc:
                readable = False
                errors.append(FieldError("body", exc.rule, {"detail": exc.detail, "limit": exc.limit}))
        context["body"] = body if isinstance(body, dict) else {}
        if errors:
            if self.rules_beside_schema and readable:  # a body that could not be read is all its answer says
                errors = self._beside(
                    operation,
                    behaviours.Call(
                        store=store, identity=identity, context={**context}, fields=validator.record(body), body=body
                    ),
                    errors,
                )
            raise Invalid(errors)

        context["now"] = formatted_now(self.timestamp_format)
        fields = validator.record(body)
        query_string = list(query.multi_items())
        for attempt in range(COMMIT_ATTEMPTS):
            if attempt:  # a lost race: the fields may sit in the records that were undone
                fields = copy.deepcopy(validator.record(body))
            # the body was read (an await): the store is taken again, after the last await, so a write
            # never lands in one a reset or restore replaced meanwhile (nor, after a lost race, on the old state)
            latest = self.sessions.resume(session, store)
            # replaced, or written since (another process's commit, a logout): the caller is identified again
            if latest is not store or latest.generation != seen:
                store = latest
                seen = store.generation
                identity = self.auth.authenticate(
                    operation.operation.security, store, request.headers, query, request.cookies
                )
                context["principal"] = identity.principal
                context["credential"] = identity.credential
            call = behaviours.Call(
                store=store, identity=identity, context=context, fields=fields, query_string=query_string, body=body
            )
            call.outcome = requested
            try:
                reply = operation.behaviour(call)
            except BaseException:  # a refusal or a raised reply: what was written before it stays, as in memory
                if self.sessions.commit(session, store):
                    raise
                continue
            # shared state: another process may have committed since the read; then the behaviour runs again
            if self.sessions.commit(session, store):
                return reply
        raise StoreUnavailable(f"the write lost the race to other writers {COMMIT_ATTEMPTS} times")

    @staticmethod
    def _beside(operation: CompiledOperation, call: behaviours.Call, errors: list[FieldError]) -> list[FieldError]:
        """The validation errors with the rules' and after-hooks' (`x-mock.rules_beside_schema`).

        Laravel's validator runs every rule and then the request's after-hooks
        before it answers, so one 422 lists them all: a rule's error at its
        field's place among the schema's, the after-hooks' at the end.
        """
        found, hooks = operation.behaviour.beside(call, {error.field for error in errors})
        if not found and not hooks:
            return errors
        validator = operation.validator
        order, prefix = validator.fields.order, ".".join(validator.record_prefix)

        def rank(name: str) -> int:
            # an element's field (`detalles.0.codigo`) sits where the schema declares `detalles.*.codigo`
            key = ".".join("*" if part.isdigit() else part for part in name.split("."))
            return order.get(f"{prefix}.{key}" if prefix else key, len(order))

        return business_rules.placed(errors, found, rank) + hooks

    async def _outcome(
        self, operation: CompiledOperation, preference: Preference, controlled: str | None
    ) -> str | None:
        """The outcome a caller asked for (its `Prefer` key, else the operation's control), after its wait."""
        outcomes = getattr(operation.behaviour, "outcomes", None)
        if outcomes is None:
            return None
        requested = preference.values.get(outcomes.prefer) or controlled
        delay = outcomes.delay(requested)  # refuses an outcome the operation does not declare
        if delay:
            await asyncio.sleep(delay)
        return requested

    def _answer_as(self, operation_id: str, call: behaviours.Call, body: Any) -> Reply:
        """`body` answered as `operation_id` answers it sent alone, in the call's state: a bulk element."""
        each = self.operations[operation_id]
        body = copy.deepcopy(body)  # a write that loses a race runs again: what it stored is undone, not reused
        context = {**call.context, "body": body if isinstance(body, dict) else {}}
        try:
            value = each.validator.coerced(body)
            errors = each.validator.body(value)
            if errors:
                raise Invalid(errors)
            context["body"] = value
            return each.behaviour(
                behaviours.Call(
                    store=call.store,
                    identity=call.identity,
                    context=context,
                    fields=each.validator.record(value),
                    body=value,
                )
            )
        except Reply as raised:
            return raised.caught()
        except Refusal as refusal:
            return self.refused(each.errors, refusal, context)

    def refused(self, errors: Mapping[str, ReplyTemplate], refusal: Refusal, context: dict[str, Any]) -> Reply:
        """The one place a refusal becomes its envelope: the operation's own, else the API's."""
        if isinstance(refusal, Invalid):
            rendered = self.messages.render(refusal.errors)
            return errors["validation"]({**context, "errors": rendered, "summary": self.messages.summary(rendered)})
        return errors[refusal.kind]({**context, **refusal.values})
