"""The shape of `x-mock`: `x-mock.schema.json`, and its refusals in words.

jsonschema's own messages quote Python reprs and say "is not valid under any
of the given schemas"; a spec's author wants the place (a JSON pointer into
their file) and what was expected there, so each error is described here.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from mockserver.spec.pointers import pointer

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

SCHEMA_PATH = Path(__file__).with_name("x-mock.schema.json")


@functools.cache
def schema_text() -> str:
    return SCHEMA_PATH.read_text(encoding="utf-8")


@functools.cache
def _validator(part: str) -> Draft202012Validator:
    # imported here: its errors are wanted only for a declaration jsonschema-rs refused, and a start from
    # the on-disk cache, or of specs that are right, need not import it (~90 ms of CPU)
    from jsonschema import Draft202012Validator

    definitions = json.loads(schema_text())["$defs"]
    return Draft202012Validator({"$defs": definitions, "$ref": f"#/$defs/{part}"})


@functools.cache
def _quick_validator(part: str) -> jsonschema_rs.Validator:
    """The same check as `_validator`, compiled by jsonschema-rs: a yes or no only, some fifty times faster.

    Nearly every declaration of a spec that loads is valid; jsonschema, whose errors the messages are
    written from, walked them all and was a third of the start-up.
    """
    definitions = json.loads(schema_text())["$defs"]
    return jsonschema_rs.Draft202012Validator({"$defs": definitions, "$ref": f"#/$defs/{part}"}, validate_formats=False)


def shape_problems(data: Any, part: str, at: str) -> Iterator[tuple[str, str]]:
    """(JSON pointer, reason) for every way `data`, found at pointer `at`, breaks `$defs/<part>`.

    The parts are `api` (the document's `x-mock`), `operation`, `scheme` and `certification`,
    and for the extensions a schema may carry, `file` and `boolean_forms`.
    """
    try:
        text = json.dumps(data)
    except (TypeError, ValueError):  # not JSON (a YAML date, a key that is not text): checked as it is
        found = _problems(data, part)
    else:
        found = _known_problems(text, part)
    for path, reason in found:
        yield at + pointer(*path), reason


#: the extensions a schema of the document may carry, and the `$defs` each is checked against
SCHEMA_EXTENSIONS = {"x-file": "file", "x-true-values": "boolean_forms", "x-false-values": "boolean_forms"}
#: keys whose value is a map of names (a property may be called `x-file`), not a schema
_NAME_MAPS = frozenset({"properties", "patternProperties", "$defs", "dependentSchemas", "schemas"})
#: keys whose value is data or declared elsewhere, never a schema
_NOT_SCHEMAS = frozenset({"example", "examples", "default", "const", "enum", "x-mock", "x-certification"})


def extension_problems(document: Any) -> Iterator[tuple[str, str]]:
    """(JSON pointer, reason) for every schema extension of the document, where it is written, that
    breaks its `$defs` (the validation reads them only when the app is built, which would not say where)."""
    yield from _extensions(document, [], names=False, seen=set())


def _extensions(node: Any, parts: list[Any], *, names: bool, seen: set[int]) -> Iterator[tuple[str, str]]:
    if id(node) in seen:  # a YAML alias is checked where it is first written
        return
    if isinstance(node, Mapping):
        seen.add(id(node))
        for key, value in node.items():
            if not names and key in SCHEMA_EXTENSIONS:
                yield from shape_problems(value, SCHEMA_EXTENSIONS[key], pointer(*parts, key))
            elif names or key not in _NOT_SCHEMAS:
                yield from _extensions(value, [*parts, key], names=not names and key in _NAME_MAPS, seen=seen)
    elif isinstance(node, list):
        seen.add(id(node))
        for index, item in enumerate(node):
            yield from _extensions(item, [*parts, index], names=False, seen=seen)


@functools.lru_cache(maxsize=4096)
def _known_problems(text: str, part: str) -> tuple[tuple[tuple[Any, ...], str], ...]:
    """The problems of a declaration by its JSON text: every app of a process checks the same specs."""
    data = json.loads(text)
    if _quick_validator(part).is_valid(data):
        return ()
    return _problems(data, part)


def _problems(data: Any, part: str) -> tuple[tuple[tuple[Any, ...], str], ...]:
    errors = sorted(_validator(part).iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    return tuple((tuple(path), reason) for error in errors for path, reason in _describe(error))


def _describe(error: ValidationError) -> Iterator[tuple[list[Any], str]]:
    path = list(error.absolute_path)
    # jsonschema types these as "maybe unset"; an error from iter_errors always has them
    kind: Any = error.validator
    expected: Any = error.validator_value
    instance: Any = error.instance
    schema: Any = error.schema
    if kind == "additionalProperties" and isinstance(instance, Mapping):
        known = sorted(schema.get("properties", {}))
        for key in instance:
            if key not in known:
                yield path + [key], f"unknown key {key!r}; expected one of {', '.join(known)}"
    elif kind == "enum" and "propertyNames" in error.schema_path:
        yield path + [instance], f"unknown key {instance!r}; expected one of {', '.join(map(str, expected))}"
    elif kind == "required" and isinstance(instance, Mapping):
        for name in expected:
            if name not in instance:
                yield path, f"missing required key {name!r}"
    elif kind in ("oneOf", "anyOf") and _alternative_keys(expected):
        names = _alternative_keys(expected)
        present = [name for name in names if isinstance(instance, Mapping) and name in instance]
        if present and kind == "oneOf":
            yield path, f"has {', '.join(present)}, but takes exactly one of {', '.join(names)}"
        else:
            yield path, f"needs {'exactly ' if kind == 'oneOf' else ''}one of {', '.join(names)}"
    elif kind in ("oneOf", "anyOf") and all(sub.validator == "type" for sub in error.context):
        wanted = [t for sub in error.context for t in _types(sub.validator_value)]
        yield path, f"expected {' or '.join(_a(t) for t in wanted)}, got {_json_type(instance)}"
    elif kind in ("oneOf", "anyOf") and error.context:
        from jsonschema.exceptions import best_match  # loaded with the validator that made `error`

        yield from _describe(best_match(error.context))
    else:
        yield path, _reason(kind, expected, instance, schema.get("description"), error.message)


def _reason(kind: str, expected: Any, instance: Any, description: str | None, message: str) -> str:
    got = " ".join(part for part in ("got", _json_type(instance), _show(instance)) if part)
    if kind == "type":
        return f"expected {' or '.join(_a(t) for t in _types(expected))}, {got}"
    if kind == "enum":
        return f"expected one of {', '.join(_show(v) for v in expected)}, {got}"
    if kind == "const":
        return f"expected {_show(expected)}, {got}"
    if kind in ("minItems", "minProperties"):
        return f"expected at least {expected} {'item' if kind == 'minItems' else 'key'}{'s' if expected > 1 else ''}"
    if kind == "minLength":
        return "expected a non-empty string"
    if kind in ("minimum", "maximum"):
        return f"expected a number {'>=' if kind == 'minimum' else '<='} {expected}, {got}"
    if kind == "pattern":
        return f"expected {description or f'text matching {expected}'}, {got}"
    return message


def _alternative_keys(alternatives: Any) -> list[str]:
    """For `oneOf: [{required: [a]}, {required: [b]}]`, the names a and b (else [])."""
    names = []
    for sub in alternatives:
        if not (isinstance(sub, Mapping) and set(sub) == {"required"} and len(sub["required"]) == 1):
            return []
        names.append(sub["required"][0])
    return names


def _types(expected: Any) -> list[str]:
    return list(expected) if isinstance(expected, list) else [expected]


def _a(json_type: str) -> str:
    return f"an {json_type}" if json_type[0] in "aeiou" else f"a {json_type}"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def _show(value: Any) -> str:
    if value is None or isinstance(value, (list, dict)):
        return ""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."
