"""Business-rule scenarios derived from what the specs declare.

Every declared unique key, reference, validation constraint and security
requirement becomes a scenario; a rule added to a spec gets its scenario
with no new test code. Scenarios only use the spec: against a deployment
they check the same contract the mock honours.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from jsonschema import Draft202012Validator

from mockserver.harness.report import expect
from mockserver.harness.target import Target
from mockserver.spec.model import CoercionDecl, ExistsDecl, ReplyDecl, RuleDecl
from mockserver.spec.openapi import ApiSpec, Operation
from mockserver.spec.schemas import merged_properties, required_names

MARKER = "contract-test"
_counter = itertools.count(int(time.time()) % 10_000_000)


@dataclass
class Scenario:
    api: str
    name: str
    writes: bool
    run: Callable[[Target], None]


def _wrap(pointer: list[str], record: dict[str, Any]) -> dict[str, Any]:
    for part in reversed(pointer):
        record = {part: record}
    return record


def example(operation: Operation) -> dict[str, Any]:
    """The documented request example: the starting point of every body the suite sends."""
    media = operation.request_media()
    example = media.get("example") or (media.get("schema") or {}).get("example")
    if not isinstance(example, dict):
        raise LookupError(f"{operation.operation_id}: the spec documents no request example to build bodies from")
    return example


def _fresh(schema: dict[str, Any]) -> Any:
    """A value unlikely to exist yet that fits a field's type and length."""
    number = next(_counter)
    types: list[Any] = schema["type"] if isinstance(schema.get("type"), list) else [schema.get("type")]
    if "string" not in types:
        return 900_000_000 + number
    if schema.get("format") == "email":  # a unique e-mail address must still be one
        return f"fresh{number}@example.com"
    length = max(int(schema.get("minLength", 0)), min(int(schema.get("maxLength", 12)), 12))
    return str(number).rjust(length, "9")[-length:]


def fresh_body(target: Target, operation: Operation) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new valid body built from the example, and the record inside it (the same dict, to change in place)."""
    record = dict(example(operation))
    for part in operation.record_pointer:
        record = dict(record[part])
    properties = merged_properties(operation.record_schema())
    references = {rule.exists.key for rule in operation.mock.rules if rule.exists is not None}
    for rule in operation.mock.rules:
        # A new value for each free field of a unique key makes the record new.
        for name in rule.unique:
            if name not in references and "enum" not in properties.get(name, {}):
                record[name] = _fresh(properties.get(name, {}))
        if rule.exists is not None and rule.respond is not None:
            found = discover(target, rule.exists)
            if found is not None:
                record[rule.exists.key] = found
    for name, sub in properties.items():  # mark what the suite creates
        free_text = not (sub.get("enum") or sub.get("format") or str(sub.get("pattern", "")).startswith("^"))
        if name in references:  # text that names another record (a payment method) must keep naming it
            continue
        if name in record and sub.get("type") == "string" and free_text and int(sub.get("maxLength", 255)) >= 40:
            record[name] = f"{MARKER} {record[name]}"[: int(sub.get("maxLength", 255))]
            break
    return _wrap(operation.record_pointer, record), record


def discover(target: Target, exists: ExistsDecl) -> Any:
    """The id of a record the rule accepts, found through the resource's list operation."""
    return next(iter(discover_all(target, exists)), None)


def discover_all(target: Target, exists: ExistsDecl) -> list[Any]:
    """The ids of the records the rule accepts on the first page of the resource's list operation."""
    lister = next(
        (
            op
            for op in target.spec.operations
            if op.mock.action == "list" and op.mock.resource == exists.resource and "{" not in op.path
        ),
        None,
    )
    shape = target.model.rows_shape(lister) if lister is not None else None
    if lister is None or shape is None:
        return []
    return [
        record.get("id")
        for record in shape.records(target.request("GET", lister.path).json())
        if all(record.get(k) == v for k, v in exists.where.items())
    ]


def _check_schema(operation: Operation, response: httpx.Response) -> None:
    schema = operation.response_schema(response.status_code)
    if schema is not None:
        errors = [e.message for e in Draft202012Validator(schema).iter_errors(_json(response))]
        expect(
            not errors,
            "response_schema_conformance",
            f"a body that fits the documented {response.status_code} schema ({'; '.join(errors)})",
            response,
        )


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _names_field(body: Any, field: str) -> bool:
    if isinstance(body, dict):
        return field in body or any(_names_field(v, field) for v in body.values())
    return False


def _success_status(operation: Operation) -> int:
    return operation.mock.response.status


def _wrong_type(types: list[Any], coercion: CoercionDecl) -> Any:
    """A value of another type than the field's that the API's declared input semantics do not read as its type.

    A service that reads a number as a string (`numbers_as_strings`) accepts `12345` for a string field, one
    that reads numeric strings accepts `"5"` for a number, and one with boolean forms accepts those forms.
    """
    if "string" in types:
        return [12345] if coercion.numbers_as_strings else 12345
    if "integer" in types or "number" in types:
        return "not-a-number"  # no numeric string, whatever `numeric_strings` says
    forms = {(type(form), form) for form in (*coercion.true_values, *coercion.false_values)}
    return next(value for value in ("not-a-boolean", ["not-a-boolean"]) if (type(value), value) not in forms)


def violations(schema: dict[str, Any], coercion: CoercionDecl) -> Iterator[tuple[str, str, Any]]:
    """(field, rule, value) for every constraint a field declares; None means "leave it out".

    The wrong-type value is one `coercion` (the API's `x-mock.input.coerce`) does not read as the field's type.
    """
    required = required_names(schema)
    for name, sub in merged_properties(schema).items():
        if sub.get("readOnly"):
            continue
        types = sub.get("type") if isinstance(sub.get("type"), list) else [sub.get("type")]
        if name in required:
            yield name, "required", None
        if "string" in types:
            if "maxLength" in sub:
                yield name, "maxLength", "x" * (int(sub["maxLength"]) + 1)
            if sub.get("format") == "email":
                yield name, "format", "not an e-mail"
            if sub.get("pattern", "").startswith("^"):
                yield name, "pattern", "not valid!"
            if "null" not in types:
                yield name, "type", _wrong_type(types, coercion)
        elif "integer" in types or "boolean" in types:
            yield name, "type", _wrong_type(types, coercion)
        if "enum" in sub:
            yield name, "enum", "__not_allowed__"


def build(spec: ApiSpec, only: Sequence[str] = ()) -> list[Scenario]:
    """The scenarios of every operation, or of the operationIds in `only`."""
    scenarios: list[Scenario] = []
    for operation in spec.operations:
        if only and operation.operation_id not in only:
            continue
        label = f"{operation.method} {operation.path}"
        secured = operation.security and all(requirement for requirement in operation.security)
        if secured:
            scenarios.append(
                Scenario(
                    spec.name,
                    f"{label}: refuses missing and bad credentials with 401",
                    False,
                    _credentials_scenario(operation),
                )
            )
        if operation.mock.action != "create" or "{" in operation.path:
            continue
        if any(declared.empty is not None for declared in operation.mock.rules):
            continue  # a create that works only while its resource is empty (a first-run setup) cannot run on a seeded one
        if operation.mock.gather is not None or not _has_example(operation):
            # a create of what other records hold (gather), or one whose valid bodies change with the
            # day, documents no fixed example to build bodies from: its rules are tested in-process
            continue
        scenarios.append(
            Scenario(spec.name, f"{label}: creates with the documented answer", True, _create_scenario(operation))
        )
        for declared in operation.mock.rules:
            if declared.unique:
                scenarios.append(
                    Scenario(
                        spec.name,
                        f"{label}: unique {'+'.join(declared.unique)}",
                        True,
                        _unique_scenario(operation, declared),
                    )
                )
            if declared.exists is not None and declared.respond is not None and _first_on(operation, declared):
                scenarios.append(
                    Scenario(
                        spec.name,
                        f"{label}: {declared.exists.key} must name an existing record",
                        True,
                        _missing_reference_scenario(operation, declared.exists, declared.respond),
                    )
                )
        for field, rule, value in violations(operation.record_schema(), spec.mock.input.coerce):
            scenarios.append(
                Scenario(spec.name, f"{label}: {field} {rule}", True, _validation_scenario(operation, field, value))
            )
    return scenarios


def _has_example(operation: Operation) -> bool:
    try:
        example(operation)
    except LookupError:
        return False
    return True


def _first_on(operation: Operation, rule: RuleDecl) -> bool:
    """Whether no earlier `exists` rule checks the same field (an earlier one answers an unknown reference)."""
    assert rule.exists is not None
    earlier = operation.mock.rules[: operation.mock.rules.index(rule)]
    return not any(other.exists is not None and other.exists.key == rule.exists.key for other in earlier)


def _path(operation: Operation) -> str:
    """The operation's path with every parameter set to 1."""
    return re.sub(r"\{[^}]+\}", "1", operation.path)


def _credentials_scenario(operation: Operation) -> Callable[[Target], None]:
    def run(target: Target) -> None:
        bogus = {
            name: value
            for scheme in target.model.schemes_of(operation)
            for name, value in scheme.present("not-a-real-credential").items()
        }
        for headers in ({}, bogus):
            response = target.http.request(
                operation.method,
                target.base_url + _path(operation),
                headers=headers,
                json={} if operation.request_body else None,
            )
            expect(
                response.status_code == 401,
                "auth_required",
                f"401 for {'missing' if not headers else 'bad'} credentials",
                response,
            )
            _check_schema(operation, response)

    return run


def _create_scenario(operation: Operation) -> Callable[[Target], None]:
    def run(target: Target) -> None:
        response = target.request(operation.method, operation.path, json=fresh_body(target, operation)[0])
        expect(
            response.status_code == _success_status(operation),
            "create_response",
            f"{_success_status(operation)} for a new valid record",
            response,
        )
        _check_schema(operation, response)
        documented = operation.examples(response.status_code)
        if documented:
            keys = list(next(iter(documented.values())))
            expect(list(_json(response)) == keys, "create_response", f"the documented keys {keys}", response)

    return run


def _unique_scenario(operation: Operation, rule: RuleDecl) -> Callable[[Target], None]:
    def run(target: Target) -> None:
        body, _ = fresh_body(target, operation)
        first = target.request(operation.method, operation.path, json=body)
        expect(
            first.status_code == _success_status(operation),
            "create_response",
            f"{_success_status(operation)} for a new valid record",
            first,
        )
        again = target.request(operation.method, operation.path, json=body)
        key = "+".join(rule.unique)
        if rule.respond is not None:
            status = rule.respond.status
            expect(
                again.status_code == status,
                "unique_key",
                f"{status}: a second record with the same {key} is refused",
                again,
            )
            documented = operation.examples(status)
            if documented and rule.respond.example is None:
                example = next(iter(documented.values()))
                expect(_json(again) == example, "unique_key", f"the documented answer {example}", again)
        else:
            assert rule.error is not None  # a rule either responds or adds a field error
            status = target.model.validation_status(operation)
            field = rule.error.field
            expect(
                again.status_code == status and _names_field(_json(again), field),
                "unique_key",
                f"{status} naming {field}: a second record with the same {key} is refused",
                again,
            )

    return run


def _missing_reference_scenario(
    operation: Operation, exists: ExistsDecl, respond: ReplyDecl
) -> Callable[[Target], None]:
    def run(target: Target) -> None:
        body, record = fresh_body(target, operation)
        record[exists.key] = 2_147_000_000
        response = target.request(operation.method, operation.path, json=body)
        status = respond.status
        key = exists.key
        expect(response.status_code == status, "reference_exists", f"{status}: {key} names no record", response)
        documented = operation.examples(status)
        if documented:
            example = next(iter(documented.values()))
            expect(_json(response) == example, "reference_exists", f"the documented answer {example}", response)

    return run


def _validation_scenario(operation: Operation, field: str, value: Any) -> Callable[[Target], None]:
    def run(target: Target) -> None:
        body, record = fresh_body(target, operation)
        if value is None:
            record.pop(field, None)
        else:
            record[field] = value
        response = target.request(operation.method, operation.path, json=body)
        status = target.model.validation_status(operation)
        expect(
            response.status_code == status and _names_field(_json(response), field),
            "validation_rule",
            f"{status} naming {field} ({'left out' if value is None else repr(value)})",
            response,
        )

    return run
