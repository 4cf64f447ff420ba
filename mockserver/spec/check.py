"""What `mockserver check` finds in a spec without serving it.

Each check yields `SpecError`s placed by a JSON pointer into the file;
`Lines` turns a pointer into the line of the YAML that holds it, so every
problem reads `FILE:LINE: #POINTER: reason`.
"""

from __future__ import annotations

import functools
import pickle
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from yaml.nodes import MappingNode, Node, SequenceNode

from mockserver.errors import SpecError
from mockserver.spec import cache
from mockserver.spec.fixtures import load_seed
from mockserver.spec.openapi import HTTP_METHODS, ApiSpec, Operation
from mockserver.spec.parsing import UniqueKeyLoader
from mockserver.spec.pointers import parse_pointer, pointer, value_at
from mockserver.spec.schemas import merged_properties

Parts = list[str | int]

#: keywords whose value is one subschema, a list of them, or a map of them
_SUBSCHEMA = ("items", "not", "additionalProperties", "contains", "if", "then", "else", "propertyNames")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")
#: where the document itself sits in the schema registry of the example checks
_BASE = "urn:mockserver:spec"


@dataclass
class Lines:
    """Where each JSON pointer of a YAML file starts, and the way back from a line."""

    by_pointer: dict[str, int]
    by_line: dict[int, str]

    @classmethod
    def of(cls, path: Path) -> Lines:
        lines = cls({}, {})
        try:
            root = yaml.compose(path.read_text(encoding="utf-8"), Loader=UniqueKeyLoader)
        except (OSError, yaml.YAMLError):  # the loader reports it; nothing to place
            return lines
        if root is not None:
            lines._walk(root, [], set())
        return lines

    def _mark(self, parts: Parts, node: Node) -> None:
        line = node.start_mark.line + 1
        self.by_pointer.setdefault(pointer(*parts), line)
        self.by_line.setdefault(line, pointer(*parts))

    def _walk(self, node: Node, parts: Parts, trail: set[int]) -> None:
        if id(node) in trail:  # a recursive alias
            return
        trail = trail | {id(node)}
        if isinstance(node, MappingNode):
            merged: list[Node] = []
            for key, value in node.value:
                if key.tag == "tag:yaml.org,2002:merge":  # its keys come after the explicit ones, which win
                    merged.extend(value.value if isinstance(value, SequenceNode) else [value])
                    continue
                self._mark([*parts, key.value], key)
                self._walk(value, [*parts, key.value], trail)
            for source in merged:
                self._walk(source, parts, trail)
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                self._mark([*parts, index], item)
                self._walk(item, [*parts, index], trail)

    def place(self, problem: SpecError) -> SpecError:
        """The problem with its line (from its pointer, or the nearest enclosing one) or its pointer (from its line)."""
        if problem.line is not None:
            found = self.by_line.get(problem.line)
            return problem if problem.pointer is not None or found is None else problem.at(pointer=found)
        parts = parse_pointer(problem.pointer or "")
        while parts and pointer(*parts) not in self.by_pointer:
            parts.pop()
        line = self.by_pointer.get(pointer(*parts), 1)
        return SpecError(problem.reason, file=problem.file, pointer=problem.pointer, line=line)


def _follow(document: Any, node: Any, parts: Parts) -> tuple[Any, Parts]:
    """A node and its own place, after any local `$ref` it is (a cycle of them stays where it is)."""
    followed = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#"):
        if node["$ref"] in followed:
            break
        followed.add(node["$ref"])
        parts = list(parse_pointer(node["$ref"][1:]))
        node = value_at(document, parts)
    return node, parts


def locate(document: Any, parts: Parts) -> tuple[Any, str]:
    """The node at those parts, and the pointer to where it is written (following `$ref`s on the way)."""
    node, real = document, list[str | int]()
    for part in parts:
        if isinstance(node, dict) and part not in node:
            node, real = _follow(document, node, real)
        node, real = value_at(node, [part]), [*real, part]
    node, real = _follow(document, node, real)
    return node, pointer(*real)


def openapi_problems(raw: Any, path: Path) -> Iterator[SpecError]:
    """What openapi-spec-validator finds, remembered in the on-disk cache for the document without its
    `x-mock` and `x-certification` declarations.

    The validator walks every schema in pure Python: 1.4 s for the Facturación spec, 1.8 s for Daftra's,
    most of a `check`. Specification extensions are any value to it, so a spec whose declarations or
    fixtures are all that changed since (the usual edit) has the same answer.
    """
    key = cache.document_key(pickle.dumps(_without_declarations(raw)), "openapi", *_validator_releases())
    stored = cache.read("openapi-problems", key)
    found = cache.loads(stored) if stored is not None else None
    if not isinstance(found, list):
        # the validator's message goes on to quote its schema: the first line says what is wrong
        found = [
            (error.message.splitlines()[0], pointer(*error.absolute_path))
            for error in OpenAPIV31SpecValidator(raw).iter_errors()
        ]
        cache.write("openapi-problems", key, pickle.dumps(found))
    for message, where in found:
        yield SpecError(f"OpenAPI 3.1: {message}", file=path, pointer=where)


def _without_declarations(raw: Any) -> Any:
    """The document without the extensions the mock reads (at the top, on operations and security schemes)."""
    document = _without(raw)
    if not isinstance(document, dict):
        return document
    paths = document.get("paths")
    if isinstance(paths, dict):
        document["paths"] = {route: _operations_without(item) for route, item in paths.items()}
    components = document.get("components")
    schemes = components.get("securitySchemes") if isinstance(components, dict) else None
    if isinstance(components, dict) and isinstance(schemes, dict):
        document["components"] = {**components, "securitySchemes": {n: _without(s) for n, s in schemes.items()}}
    return document


_DECLARATIONS = ("x-mock", "x-certification")


def _without(node: Any) -> Any:
    return {key: value for key, value in node.items() if key not in _DECLARATIONS} if isinstance(node, dict) else node


def _operations_without(item: Any) -> Any:
    if not isinstance(item, dict):
        return item
    return {method: _without(op) if method in HTTP_METHODS else op for method, op in item.items()}


@functools.cache
def _validator_releases() -> tuple[str, ...]:
    """The releases of what judges the document: another one may find other problems."""
    return tuple(
        metadata.version(name) for name in ("openapi-spec-validator", "openapi-schema-validator", "jsonschema")
    )


class _Examples:
    """Every example in the document (parameters, headers, media types, schemas) against its schema."""

    def __init__(self, raw: Any, path: Path) -> None:
        self.raw = raw
        self.path = path
        self.registry: Registry[Any] = Registry().with_resource(_BASE, DRAFT202012.create_resource(raw))
        self.seen: set[int] = set()

    def problems(self) -> Iterator[SpecError]:
        yield from self._walk(self.raw, [])

    def _check(self, value: Any, schema_parts: Parts, value_parts: Parts) -> Iterator[SpecError]:
        # The schema by its place in the document, so its own `$ref`s resolve as written.
        ref = _BASE + "#" + quote(pointer(*schema_parts), safe="/~")
        validator = Draft202012Validator(
            {"$ref": ref}, registry=self.registry, format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        for error in validator.iter_errors(value):
            inside = pointer(*value_parts, *error.absolute_path)
            yield SpecError(f"example does not match its schema: {error.message}", file=self.path, pointer=inside)

    def _walk(self, node: Any, parts: Parts) -> Iterator[SpecError]:
        if not isinstance(node, dict) or id(node) in self.seen:  # an alias is checked where it is first met
            return
        self.seen.add(id(node))
        if isinstance(node.get("schema"), dict):  # a parameter, header or media type
            schema = [*parts, "schema"]
            if "example" in node:
                yield from self._check(node["example"], schema, [*parts, "example"])
            for name, example in (node.get("examples") or {}).items():
                example, where = _follow(self.raw, example, [*parts, "examples", name])
                if isinstance(example, dict) and "value" in example:
                    yield from self._check(example["value"], schema, [*where, "value"])
            yield from self._schema(node["schema"], schema)
        for key, value in node.items():
            if key in ("schema", "example", "examples") or str(key).startswith("x-"):
                continue
            if parts == ["components"] and key == "schemas":
                for name, schema in (value or {}).items():
                    yield from self._schema(schema, [*parts, key, name])
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    yield from self._walk(item, [*parts, key, index])
            else:
                yield from self._walk(value, [*parts, key])

    def _schema(self, schema: Any, parts: Parts) -> Iterator[SpecError]:
        if not isinstance(schema, dict) or id(schema) in self.seen:
            return
        self.seen.add(id(schema))
        if "example" in schema:
            yield from self._check(schema["example"], parts, [*parts, "example"])
        if isinstance(schema.get("examples"), list):  # JSON Schema's own: a list of values
            for index, value in enumerate(schema["examples"]):
                yield from self._check(value, parts, [*parts, "examples", index])
        for key in _SUBSCHEMA:
            yield from self._schema(schema.get(key), [*parts, key])
        for key in _SUBSCHEMA_LISTS:
            for index, sub in enumerate(schema.get(key) or []):
                yield from self._schema(sub, [*parts, key, index])
        for key in _SUBSCHEMA_MAPS:
            for name, sub in (schema.get(key) or {}).items():
                yield from self._schema(sub, [*parts, key, name])


def example_problems(raw: Any, path: Path) -> Iterator[SpecError]:
    return _Examples(raw, path).problems()


def _schema_has(schema: Mapping[str, Any], parts: list[str]) -> bool:
    """Whether a body of that schema can hold something at those property names (or array indexes)."""
    for part in parts:
        options = [schema, *schema.get("anyOf", []), *schema.get("oneOf", [])]
        if part.isdigit() and any("items" in option for option in options):
            schema = next(option["items"] for option in options if "items" in option)
            continue
        found = [merged_properties(option)[part] for option in options if part in merged_properties(option)]
        if not found:
            return False
        schema = found[0]
    return True


def _expression_problem(expression: str, source: Operation, status: str) -> str | None:
    """Why a runtime expression names nothing, or None when it names something that exists."""
    if expression in ("$url", "$method", "$statusCode") or not expression.startswith("$"):
        return None
    head, _, body_pointer = expression.partition("#")
    origin, _, rest = head.removeprefix("$").partition(".")
    place, _, name = rest.partition(".")
    if origin == "request" and place in ("path", "query", "header"):
        names, wanted = source.parameter_names(place), name
        if place == "header":  # header names are case-insensitive
            names, wanted = {documented.lower() for documented in names}, name.lower()
        return None if wanted in names else f"{source.operation_id} has no {place} parameter {name!r}"
    if origin == "request" and place == "body":
        schema = source.body_schema()
        if schema is not None and _schema_has(schema, parse_pointer(body_pointer)):
            return None
        return f"{source.operation_id}'s request body has nothing at {body_pointer or '/'}"
    if origin == "response" and place == "body":
        schema = source.response_schema(status)
        if schema is not None and _schema_has(schema, parse_pointer(body_pointer)):
            return None
        return f"{source.operation_id}'s {status} response body has nothing at {body_pointer or '/'}"
    if origin == "response" and place == "header":
        headers = {h.lower() for h in (source.responses.get(status) or {}).get("headers", {})}
        return None if name.lower() in headers else f"{source.operation_id}'s {status} response has no header {name!r}"
    return f"{expression!r} is not a runtime expression"


def _expressions(value: Any) -> list[str]:
    """The runtime expressions in a link value: the whole string, or each `{$...}` embedded in it."""
    if not isinstance(value, str):
        return []
    if value.startswith("$"):
        return [value]
    return [part.split("}", 1)[0] for part in value.split("{")[1:] if part.startswith("$")]


def link_problems(spec: ApiSpec) -> Iterator[SpecError]:
    """Every `links` entry names an operation, that operation's parameters, and expressions that resolve."""
    by_id = {op.operation_id: op for op in spec.operations}
    written = spec.raw  # a fresh copy each time it is read: one for every link
    for source in spec.operations:
        for status, response in source.responses.items():
            for name, link in (response.get("links") or {}).items():
                parts: Parts = ["paths", source.path, source.method.lower(), "responses", status, "links", name]
                _, where = locate(written, parts)
                target = by_id.get(link.get("operationId", ""))
                if target is None:
                    reason = f"link to unknown operationId {link.get('operationId')!r}"
                    yield SpecError(reason, file=spec.source, pointer=where)
                    continue
                for parameter, value in (link.get("parameters") or {}).items():
                    place, _, bare = parameter.rpartition(".")
                    if bare not in target.parameter_names(place or None):
                        reason = f"{target.operation_id} has no parameter {parameter!r}"
                        yield SpecError(reason, file=spec.source, pointer=where + pointer("parameters", parameter))
                    for expression in _expressions(value):
                        reason_or_none = _expression_problem(expression, source, status)
                        if reason_or_none is not None:
                            yield SpecError(
                                reason_or_none, file=spec.source, pointer=where + pointer("parameters", parameter)
                            )
                for expression in _expressions(link.get("requestBody")):
                    reason_or_none = _expression_problem(expression, source, status)
                    if reason_or_none is not None:
                        yield SpecError(reason_or_none, file=spec.source, pointer=f"{where}/requestBody")


def _template_path(template: Any, marker: str, parts: list[str]) -> list[str] | None:
    """Where a response template puts `marker` (e.g. `${record}`), as property names."""
    if template == marker:
        return parts
    if isinstance(template, dict):
        for key, value in template.items():
            found = _template_path(value, marker, [*parts, key])
            if found is not None:
                return found
    return None


def record_schemas(spec: ApiSpec) -> dict[str, dict[str, Any]]:
    """Each resource's record schema: where a read of it answers `${record}` in its documented response,
    or for a child resource, the items of its list in the parent's record."""
    found: dict[str, dict[str, Any]] = {}
    for op in sorted(spec.operations, key=lambda op: op.mock.action != "read"):  # reads first
        resource, response = op.mock.resource, op.mock.response
        place = _template_path(response.body, "${record}", [])
        schema = op.response_schema(response.status) if place is not None else None
        if resource is None or resource in found or schema is None or place is None:
            continue
        for part in place:
            schema = merged_properties(schema).get(part)
            if schema is None:
                break
        if schema is not None:
            found[resource] = schema
    # A child resource (e.g. line items) has no reads of its own: its records are the items of the list
    # its parent's record holds under the child's name. A table several parents share (lines of two kinds
    # of document) holds each record to the schema of the parent it names.
    lines: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for parent, config in spec.mock.resources.items():
        for name, child in config.children.items():
            items = (merged_properties(found.get(parent) or {}).get(name) or {}).get("items")
            if isinstance(items, dict):
                lines.setdefault(child.resource, []).append((child.key, items))
    for resource, kinds in lines.items():
        if resource not in found:
            found[resource] = kinds[0][1] if len(kinds) == 1 else {"allOf": [_when_naming(*kind) for kind in kinds]}
    return found


def _when_naming(key: str, schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` for the records whose `key` names something (is set and not null)."""
    return {"if": {"required": [key], "properties": {key: {"not": {"type": "null"}}}}, "then": schema}


def _not_requiring(schema: dict[str, Any], names: set[str]) -> dict[str, Any]:
    """The schema with those names dropped from its `required` lists (its own, its `allOf` parts', its `then`'s)."""
    relaxed = {**schema, "required": [name for name in schema.get("required", []) if name not in names]}
    if "allOf" in schema:
        relaxed["allOf"] = [_not_requiring(part, names) for part in schema["allOf"]]
    if "then" in schema:
        relaxed["then"] = _not_requiring(schema["then"], names)
    return relaxed


def fixture_problems(spec: ApiSpec, fixtures_dir: Path) -> Iterator[SpecError]:
    """Each seeded record against its resource's record schema.

    Fields the resource declares as computed, relations or children are the
    engine's to fill in an answer, so a seeded record need not hold them.
    """
    path = spec.fixtures_file(fixtures_dir)
    try:
        seed = load_seed(path)
    except SpecError as exc:  # not records by resource, or one id seeded twice: nothing further can be read
        yield exc
        return
    for resource, schema in record_schemas(spec).items():
        config = spec.mock.resources.get(resource)
        derived = {*config.computed, *config.relations, *config.children} if config is not None else set()
        validator = Draft202012Validator(
            _not_requiring(schema, derived), format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        for index, record in enumerate(seed.get(resource) or []):
            for error in validator.iter_errors(record):
                yield SpecError(
                    f"{resource} record does not match its schema: {error.message}",
                    file=path,
                    pointer=pointer(resource, index, *error.absolute_path),
                )
