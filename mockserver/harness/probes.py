"""The request sequences `mockserver drift` sends to the mock and to a deployment alike.

Each `Probe` is built from what the spec declares (its documented examples,
security requirements, link workflows, `x-mock` rules and schema
constraints); none is written per API. A probe is prepared once against the
mock, which fixes every body it sends, then run against each side: both get
the same requests, and what an earlier answer names (a created record's id)
is read from that side's own answer through the spec's links.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from mockserver.harness.check import parameter_example, request_examples
from mockserver.harness.scenarios import discover_all, fresh_body, violations
from mockserver.harness.semantics import revokes_credentials
from mockserver.harness.target import Target, link_value
from mockserver.spec.model import ExistsDecl, RuleDecl
from mockserver.spec.openapi import ApiSpec, Operation
from mockserver.spec.schemas import merged_properties, required_names

#: an id no deployment is expected to have issued
MISSING_ID = 2_147_000_000


@dataclass(frozen=True)
class Answer:
    """One answer of a probe's run, named by the step that asked for it."""

    step: str
    response: httpx.Response
    #: compare values too, not only the shape (off where the answer shows data the two sides need not share)
    values: bool = True
    #: the answer reads back what an earlier step changed
    side_effect: bool = False
    #: what the step derived from its answers (a list's growth), compared instead of the answer itself
    observed: Any = None


Runner = Callable[[Target], list[Answer]]


@dataclass(frozen=True)
class Probe:
    operation: Operation
    name: str
    writes: bool
    #: given the mock, fixes the requests and returns what runs them against either side
    prepare: Callable[[Target], Runner]

    @property
    def label(self) -> str:
        return f"{self.operation.method} {self.operation.path}"


def build(spec: ApiSpec, only: tuple[str, ...] = (), read_only: bool = False) -> list[Probe]:
    """Every probe of the spec (or of the operationIds in `only`); without writes when `read_only`."""
    probes: list[Probe] = []
    for operation in spec.operations:
        if only and operation.operation_id not in only:
            continue
        probes += _examples(operation)
        if operation.method == "GET" and operation.security and all(operation.security):
            probes.append(Probe(operation, "credentials", False, _without_credentials(operation)))
        if operation.mock.action == "create" and "{" not in operation.path:
            probes += _create_probes(spec, operation)
    return [probe for probe in probes if not (read_only and probe.writes)]


# -- documented examples ---------------------------------------------------------------------------


def _examples(operation: Operation) -> Iterator[Probe]:
    """The documented request: a GET with its parameters' examples, a safe action with its body example."""
    params = {p["name"]: parameter_example(p) for p in operation.parameters}
    if any(params[name] is None for name in operation.parameter_names("path")):
        return
    path = operation.path.format(**params)
    query = {p["name"]: params[p["name"]] for p in operation.parameters if p.get("in") == "query" and p.get("required")}
    if operation.method == "GET":
        yield Probe(operation, "documented example", False, _fixed(operation.method, path, None, query))
    elif operation.mock.action not in ("create", "update", "delete") and not revokes_credentials(operation):
        for name, body, _ in request_examples(operation):
            yield Probe(operation, f"documented example {name!r}", True, _fixed(operation.method, path, body, query))


def _fixed(method: str, path: str, body: Any, query: dict[str, Any]) -> Callable[[Target], Runner]:
    def prepare(_: Target) -> Runner:
        def run(target: Target) -> list[Answer]:
            response = target.request(method, path, json=body, params=query or None)
            # an example shows data (seeded records) the two sides need not share: its shape is compared
            return [Answer("answer", response, values=False)]

        return run

    return prepare


def _without_credentials(operation: Operation) -> Callable[[Target], Runner]:
    """The operation asked without a credential, then with one no one issued."""
    path = re.sub(r"\{[^}]+\}", "1", operation.path)

    def prepare(_: Target) -> Runner:
        def run(target: Target) -> list[Answer]:
            bogus = {
                name: value
                for scheme in target.model.schemes_of(operation)
                for name, value in scheme.present("not-a-real-credential").items()
            }
            url = target.base_url + path
            return [
                Answer("none", target.http.request(operation.method, url)),
                Answer("one no one issued", target.http.request(operation.method, url, headers=bogus)),
            ]

        return run

    return prepare


# -- creates, and the workflow their links describe ----------------------------------------------


def _create_probes(spec: ApiSpec, operation: Operation) -> list[Probe]:
    def probe(name: str, prepare: Callable[[Target], Runner]) -> Probe:
        return Probe(operation, name, True, prepare)

    probes = [
        probe("a new valid record, read back, listed, updated and deleted", _workflow(spec, operation)),
        probe("only the required fields", _minimal(operation)),
    ]
    probes += [
        probe(f"{name} left out (the spec defaults it)", _left_out(operation, name)) for name in operation.mock.defaults
    ]
    references = {rule.exists.key: rule.exists for rule in operation.mock.rules if rule.exists is not None}
    for rule in operation.mock.rules:
        if rule.unique:
            key = "+".join(rule.unique)
            probes.append(probe(f"the same {key} twice", _twice(operation)))
            for name in rule.unique:
                if name in references:
                    probes.append(
                        probe(f"the same {key} in another {name}", _other_scope(operation, rule, references[name]))
                    )
        if rule.exists is not None and rule.respond is not None:
            probes.append(
                probe(f"{rule.exists.key} names no record", _changed(operation, {rule.exists.key: MISSING_ID}))
            )
    for field, kind, value in violations(operation.record_schema(), spec.mock.input.coerce):
        shown = "left out" if value is None else repr(value)[:40]
        probes.append(
            probe(f"{field} breaks {kind} ({shown})", _changed(operation, {field: value}, drop=value is None))
        )
    for field, kind, value in boundaries(operation):
        probes.append(probe(f"{field} {kind}", _changed(operation, {field: value})))
    return probes


def boundaries(operation: Operation) -> Iterator[tuple[str, str, Any]]:
    """(field, what the value is, value): each constraint's edges, on either side of it.

    A value at a bound must be accepted, one past it refused; a value of the
    documented example's length that breaks the field's pattern must be
    refused even by a service that only checks the length.
    """
    media = operation.request_media()
    example = media.get("example") or {}
    for part in operation.record_pointer:
        example = example.get(part) or {} if isinstance(example, dict) else {}
    for name, sub in merged_properties(operation.record_schema()).items():
        if sub.get("readOnly") or sub.get("enum") or sub.get("format"):
            continue
        pattern = str(sub.get("pattern", ""))
        if "maxLength" in sub and not pattern.startswith("^"):
            limit = int(sub["maxLength"])
            yield name, f"at its maxLength {limit}", _digits(limit)
        if int(sub.get("minLength", 0)) > 1 and not pattern.startswith("^"):
            limit = int(sub["minLength"])
            yield name, f"below its minLength {limit}", _digits(limit - 1)
        shown = example.get(name) if isinstance(example, dict) else None
        if pattern.startswith("^") and isinstance(shown, str) and shown:
            wrong = "x" * len(shown)
            if re.search(pattern, wrong) is None:
                yield name, f"breaks its pattern at the example's length ({wrong!r})", wrong
        for bound, step in (("minimum", -1), ("maximum", 1)):
            if isinstance(sub.get(bound), int | float) and not isinstance(sub.get(bound), bool):
                yield name, f"past its {bound} {sub[bound]}", sub[bound] + step


#: where this run's digit strings start: the clock in milliseconds, so runs minutes apart send different values
_digit_counter = itertools.count(int(time.time() * 1000) % 10**11)


def _digits(length: int) -> str:
    """A string of digits of exactly `length` characters, new on every call (it may be a unique key).

    Its last digits are the ones that change, so a short one keeps them.
    """
    number = str(next(_digit_counter))
    return (number * (length // len(number) + 1))[-length:] if length else ""


def _send(target: Target, operation: Operation, body: Any, step: str) -> Answer:
    return Answer(step, target.request(operation.method, operation.path, json=body))


def _changed(operation: Operation, changes: dict[str, Any], drop: bool = False) -> Callable[[Target], Runner]:
    def prepare(mock: Target) -> Runner:
        body, record = fresh_body(mock, operation)
        for name, value in changes.items():
            if drop:
                record.pop(name, None)
            else:
                record[name] = value
        return lambda target: [_send(target, operation, body, "answer")]

    return prepare


def _left_out(operation: Operation, name: str) -> Callable[[Target], Runner]:
    return _changed(operation, {name: None}, drop=True)


def _minimal(operation: Operation) -> Callable[[Target], Runner]:
    """Only the required fields (and those the spec defaults, which have probes of their own)."""

    def prepare(mock: Target) -> Runner:
        body, record = fresh_body(mock, operation)
        kept = required_names(operation.record_schema()) | set(operation.mock.defaults)
        for name in list(record):
            if name not in kept:
                del record[name]
        return lambda target: [_send(target, operation, body, "answer")]

    return prepare


def _twice(operation: Operation) -> Callable[[Target], Runner]:
    def prepare(mock: Target) -> Runner:
        body, _ = fresh_body(mock, operation)
        return lambda target: [_send(target, operation, body, "first"), _send(target, operation, body, "again")]

    return prepare


def _other_scope(operation: Operation, rule: RuleDecl, exists: ExistsDecl) -> Callable[[Target], Runner]:
    """The unique key's other fields again, under another record the key's reference accepts."""

    def prepare(mock: Target) -> Runner:
        candidates = discover_all(mock, exists)
        body, record = fresh_body(mock, operation)
        second = dict(record)
        if len(candidates) < 2:
            return lambda target: []
        record[exists.key], second[exists.key] = candidates[0], candidates[1]
        wrapped = _rewrap(operation, second)
        return lambda target: [
            _send(target, operation, body, "first"),
            _send(target, operation, wrapped, f"under {exists.key} {candidates[1]}"),
        ]

    return prepare


def _rewrap(operation: Operation, record: dict[str, Any]) -> Any:
    wrapped: Any = record
    for part in reversed(operation.record_pointer):
        wrapped = {part: wrapped}
    return wrapped


def _workflow(spec: ApiSpec, operation: Operation) -> Callable[[Target], Runner]:
    """Create, read back through the create's links, count in the list, update, read, delete, read."""
    by_id = {op.operation_id: op for op in spec.operations}
    lister = next(
        (
            op
            for op in spec.operations
            if op.mock.action == "list" and op.mock.resource == operation.mock.resource and "{" not in op.path
        ),
        None,
    )

    def prepare(mock: Target) -> Runner:
        body, _ = fresh_body(mock, operation)
        linked = _links(operation, by_id)
        update = next((op for op in linked.values() if op.mock.action == "update" and op.method == "PUT"), None)
        try:
            update_body = fresh_body(mock, update)[0] if update is not None else None
        except LookupError:  # no documented body to update with
            update, update_body = None, None

        def run(target: Target) -> list[Answer]:
            answers: list[Answer] = []
            before = _count(target, lister)
            created = target.request(operation.method, operation.path, json=body)
            answers.append(Answer("create", created))
            if not 200 <= created.status_code < 300:
                return answers
            after = _count(target, lister)
            if before is not None and after is not None:
                answers.append(Answer("the list counts one more", created, side_effect=True, observed=after - before))
            paths = _linked_paths(operation, created, linked)
            reader = next((name for name, op in linked.items() if op.mock.action == "read"), None)

            def read(step: str) -> None:
                if reader is not None and reader in paths:
                    answers.append(Answer(step, target.request("GET", paths[reader]), side_effect=True))

            read("reads back after the create")
            if update is not None and update.operation_id in paths:
                answers.append(Answer("update", target.request("PUT", paths[update.operation_id], json=update_body)))
                read("reads back after the update")
            deleter = next((name for name, op in linked.items() if op.mock.action == "delete"), None)
            if deleter is not None and deleter in paths:
                answers.append(Answer("delete", target.request("DELETE", paths[deleter])))
                read("reads after the delete")
            return answers

        return run

    return prepare


def _links(operation: Operation, by_id: dict[str, Operation]) -> dict[str, Operation]:
    """The operations the create's success answer links to, by operationId."""
    response = operation.responses.get(str(operation.mock.response.status)) or {}
    found: dict[str, Operation] = {}
    for link in (response.get("links") or {}).values():
        linked = by_id.get(link.get("operationId"))
        if linked is not None:
            found.setdefault(linked.operation_id, linked)
    return found


def _linked_paths(operation: Operation, created: httpx.Response, linked: dict[str, Operation]) -> dict[str, str]:
    """The path of each linked operation for the record this side created, from its own answer."""
    response = operation.responses.get(str(created.status_code)) or {}
    try:
        body = created.json()
    except ValueError:
        return {}
    paths: dict[str, str] = {}
    for link in (response.get("links") or {}).values():
        target = linked.get(link.get("operationId"))
        if target is None:
            continue
        values = {name: link_value(body, expression) for name, expression in (link.get("parameters") or {}).items()}
        if values and all(value is not None for value in values.values()):
            paths.setdefault(target.operation_id, target.path.format(**values))
    return paths


def _count(target: Target, lister: Operation | None) -> int | None:
    """How many records the resource's list says it holds, where its answer says it."""
    if lister is None:
        return None
    where = target.model.total_pointer(lister)
    if where is None:
        return None
    value: Any = target.request("GET", lister.path).json()
    for part in where:
        value = value.get(part) if isinstance(value, dict) else None
    return value if isinstance(value, int) else None
