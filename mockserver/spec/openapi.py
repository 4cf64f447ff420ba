"""Loading an OpenAPI document and the `x-mock` extensions that drive the mock.

The loader resolves local `$ref`s once, so the rest of the engine works on
plain nested dicts and never has to follow a reference while serving. Each
`x-mock` (and `x-certification`, and a schema's `x-file`, `x-true-values` and
`x-false-values`) is checked against `x-mock.schema.json`,
then for meaning (`checks`), and parsed into the typed values of `model`;
every problem of a spec is reported at once, each with its JSON pointer.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mockserver.errors import SpecError, SpecErrors
from mockserver.spec import cache
from mockserver.spec.checks import file_problems, meaning_problems
from mockserver.spec.loader import load_yaml_keyed
from mockserver.spec.model import (
    ApiMock,
    CertificationCheck,
    OperationMock,
    SchemeMock,
    parse_api,
    parse_certification,
    parse_operation,
    parse_scheme,
)
from mockserver.spec.pointers import parse_pointer, pointer
from mockserver.spec.profiles import apply_profile
from mockserver.spec.schemas import merged_properties
from mockserver.spec.shape import extension_problems, shape_problems

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass
class Operation:
    """One method on one path, with everything the engine needs about it."""

    operation_id: str
    method: str  # upper case
    path: str  # template, e.g. /api/v1/things/{thing}
    parameters: list[dict[str, Any]]
    request_body: dict[str, Any] | None
    responses: dict[str, dict[str, Any]]
    security: list[dict[str, list[str]]]
    mock: OperationMock
    #: where the operation's `x-mock` is in the document (a JSON pointer)
    pointer: str = ""
    certification: dict[str, CertificationCheck] = field(default_factory=dict)

    def body_schema(self) -> dict[str, Any] | None:
        if not self.request_body:
            return None
        content: dict[str, Any] = self.request_body.get("content", {})
        media: dict[str, Any] = content.get("application/json") or next(iter(content.values()), {})
        return media.get("schema")

    def request_media(self) -> dict[str, Any]:
        """The request body's `application/json` media type: its schema and examples ({} when it has none)."""
        content = (self.request_body or {}).get("content") or {}
        media: dict[str, Any] = content.get("application/json") or {}
        return media

    def parameter_names(self, where: str | None = None) -> set[str]:
        """The names of the documented parameters in one location (`path`, `query`, `header`, `cookie`), or all."""
        return {p["name"] for p in self.parameters if where is None or p.get("in") == where}

    @property
    def record_pointer(self) -> list[str]:
        """Where the record sits in the body (`x-mock.body`, e.g. /Model for a wrapped body); [] for the whole body."""
        return parse_pointer(self.mock.body)

    def record_schema(self) -> dict[str, Any]:
        """The schema of the record part of the request body (an element of the list, for a create of `each`)."""
        if self.mock.each is not None:
            items: dict[str, Any] = self.body_schema_at(parse_pointer(self.mock.each.source)).get("items") or {}
            return items
        return self.body_schema_at(self.record_pointer)

    def body_schema_at(self, pointer: list[str]) -> dict[str, Any]:
        """The schema of one part of the request body, by its property names."""
        schema = self.body_schema() or {}
        for part in pointer:
            schema = merged_properties(schema).get(part, {})
        return schema

    def _media(self, status: int | str) -> dict[str, Any]:
        response = self.responses.get(str(status)) or {}
        media: dict[str, Any] = response.get("content", {}).get("application/json", {})
        return media

    def response_schema(self, status: int | str) -> dict[str, Any] | None:
        return self._media(status).get("schema")

    def examples(self, status: int | str) -> dict[str, Any]:
        """Documented examples of one response, by name ("default" when unnamed)."""
        media = self._media(status)
        found = {name: ex["value"] for name, ex in media.get("examples", {}).items() if "value" in ex}
        if "example" in media:
            found = {"default": media["example"], **found}
        return found


@dataclass
class ApiSpec:
    """A loaded OpenAPI document: the document as written for serving, the resolved tree for the engine."""

    name: str
    source: Path
    #: the document as written, pickled (see `raw`)
    written: bytes
    resolved: dict[str, Any]
    mock: ApiMock
    #: `info.title`, which the loader requires
    title: str = ""
    operations: list[Operation] = field(default_factory=list)
    #: each security scheme's `x-mock`, by scheme name
    scheme_mocks: dict[str, SchemeMock] = field(default_factory=dict)
    certification: dict[str, CertificationCheck] = field(default_factory=dict)

    @property
    def raw(self) -> dict[str, Any]:
        """The document as written, a fresh copy at each call (the served docs, `check`'s line numbers).

        Kept pickled: the engine reads only `resolved`, and the written document alive beside it was
        some 3 MB of objects per bundled spec, a tenth of the idle process.
        """
        document: dict[str, Any] = pickle.loads(self.written)  # noqa: S301 - our own pickle of a parsed document
        return document

    @property
    def security_schemes(self) -> dict[str, dict[str, Any]]:
        return _schemes(self.resolved)

    def fixtures_file(self, fixtures_dir: Path) -> Path:
        """The API's fixtures in that folder: `x-mock.fixtures`, else the spec's name, as `.yaml`."""
        return fixtures_dir / f"{self.mock.fixtures or self.name}.yaml"


def resolve_refs(document: dict[str, Any]) -> dict[str, Any]:
    """Replace every local `$ref` with the object it points at.

    Sibling keys next to a `$ref` (allowed in OpenAPI 3.1) override the
    target's. Shared targets are resolved once and shared, which keeps memory
    flat; a reference cycle is reported rather than followed forever.
    """
    cache: dict[str, Any] = {}

    def target(ref: str, trail: tuple[str, ...]) -> Any:
        if not ref.startswith("#/"):
            raise SpecError(f"only local references are supported, got {ref!r}")
        if ref in trail:
            raise SpecError(f"reference cycle: {' -> '.join(trail + (ref,))}")
        if ref not in cache:
            node: Any = document
            for part in parse_pointer(ref[1:]):
                try:
                    node = node[part]
                except (KeyError, TypeError):
                    raise SpecError(f"unresolvable reference {ref!r}") from None
            cache[ref] = walk(node, trail + (ref,))
        return cache[ref]

    def walk(node: Any, trail: tuple[str, ...]) -> Any:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                resolved = target(node["$ref"], trail)
                siblings = {k: walk(v, trail) for k, v in node.items() if k != "$ref"}
                return {**resolved, **siblings} if siblings else resolved
            return {key: walk(value, trail) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(item, trail) for item in node]
        return node

    resolved: dict[str, Any] = walk(document, ())
    return resolved


def load_spec(path: Path, raw: Any = None, profile: str | None = None, *, files: bool = True) -> ApiSpec:
    """The spec at `path`; `raw` is its document when the caller has already read it.

    Under a realism `profile`, each operation's quirks of that profile are
    applied first (`mockserver.spec.profiles`), and the result is checked as a whole.
    `files=False` reads a spec for its contract alone (the harness, which may
    have downloaded it without the file templates beside it): its `x-mock.file`
    declarations are left out, so no template need be at hand.
    """
    key = None
    if raw is None:
        raw, key, written = load_yaml_keyed(path)
    else:
        written = pickle.dumps(raw, protocol=pickle.HIGHEST_PROTOCOL)
    if not isinstance(raw, dict) or not isinstance(raw.get("paths"), dict):
        raise SpecError("not an OpenAPI document (no 'paths')", file=path)
    if not isinstance(raw.get("components", {}), dict):  # before references into it are followed
        raise SpecError(f"expected an object, got {_kind(raw['components'])}", file=path, pointer="/components")
    resolved = _checked_document(path, raw, profile, key)
    mock = parse_api(resolved.get("x-mock") or {}, path.stem)
    spec = ApiSpec(
        name=mock.name,
        source=path,
        written=written,
        resolved=resolved,
        mock=mock,
        title=resolved["info"]["title"],
        scheme_mocks={name: parse_scheme(scheme["x-mock"]) for name, scheme in _schemes(resolved).items()},
        certification=parse_certification(resolved.get("x-certification")),
    )
    default_security = resolved.get("security", [])
    seen: dict[str, str] = {}
    for template, method, item, op in _operations(resolved):
        at = pointer("paths", template, method)
        if "operationId" in op and seen.setdefault(op["operationId"], at) != at:
            raise SpecError(
                f"operationId {op['operationId']!r} is already the id of {seen[op['operationId']]}",
                file=path,
                pointer=f"{at}/operationId",
            )
        params = {(p["in"], p["name"]): p for p in item.get("parameters", [])}  # read by _structure_problems
        params.update({(p["in"], p["name"]): p for p in op.get("parameters", [])})
        parsed = parse_operation(op["x-mock"])
        spec.operations.append(
            Operation(
                operation_id=op.get("operationId") or f"{method} {template}",
                method=method.upper(),
                path=template,
                parameters=list(params.values()),
                request_body=op.get("requestBody"),
                responses=op.get("responses", {}),
                security=op.get("security", default_security),
                mock=parsed if files else replace(parsed, file=None),
                pointer=f"{at}/x-mock",
                certification=parse_certification(op.get("x-certification")),
            )
        )
    _refuse(path, _meaning_problems(spec, raw, key, profile, files))
    _refuse(path, file_problems(spec))
    return spec


def _meaning_problems(
    spec: ApiSpec, raw: dict[str, Any], key: str | None, profile: str | None, files: bool
) -> list[tuple[str, str]]:
    """`meaning_problems`, unless this very text (`key`), under this profile and code, passed them in an
    earlier load (a mark in the on-disk cache): they read the document alone, and were a fifth of a
    start from the cache (~80 ms of CPU for both bundled specs). None are kept for a spec refused."""
    entry = cache.document_key(key.encode(), "meaning", profile or "", str(files)) if key is not None else None
    if entry is not None and cache.read("meaning", entry) is not None:
        return []
    problems = list(meaning_problems(spec, raw))
    if entry is not None and not problems:
        cache.write("meaning", entry, b"")
    return problems


def _checked_document(path: Path, raw: dict[str, Any], profile: str | None, key: str | None) -> dict[str, Any]:
    """The document with its profile applied and its references resolved, refused unless its structure
    and every x-mock shape hold. Kept in the on-disk cache once it passed (`key`: the key of the text
    `raw` was read from; None, as for a document given in memory, neither reads nor writes the cache):
    these are a quarter of a spec's load and depend on its text alone."""
    entry = cache.document_key(key.encode(), "checked", profile or "") if key is not None else None
    stored = cache.read("checked", entry) if entry is not None else None
    kept = cache.loads(stored) if stored is not None else None
    if isinstance(kept, dict):
        return kept
    try:
        # quirks patch the document as written, so a patch may name components by $ref
        resolved = resolve_refs(apply_profile(raw, profile))
    except SpecError as exc:
        raise exc.at(file=path) from None
    _refuse(path, _structure_problems(resolved))
    _refuse(path, [*_shape_problems(resolved), *extension_problems(raw)])
    if entry is not None:
        cache.write("checked", entry, pickle.dumps(resolved, protocol=pickle.HIGHEST_PROTOCOL))
    return resolved


def _schemes(resolved: dict[str, Any]) -> dict[str, dict[str, Any]]:
    components = resolved.get("components")
    schemes = components.get("securitySchemes") if isinstance(components, dict) else None
    return schemes if isinstance(schemes, dict) else {}


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _structure_problems(resolved: dict[str, Any]) -> Iterable[tuple[str, str]]:
    """The OpenAPI structure the engine reads: each place that is not what the engine can read."""
    info = resolved.get("info")
    if not isinstance(info, dict):
        yield "/info", f"expected an object with a title, got {_kind(info)}"
    elif not isinstance(info.get("title"), str):
        yield "/info", "missing required key 'title' (a string)"
    components = resolved.get("components", {})
    reported: list[dict[str, Any]] = []  # a shared (referenced) parameter is reported once, where it is declared
    if not isinstance(components, dict):
        yield "/components", f"expected an object, got {_kind(components)}"
    else:
        for group in ("securitySchemes", "parameters", "responses", "schemas", "requestBodies"):
            if not isinstance(components.get(group, {}), dict):
                yield f"/components/{group}", f"expected an object, got {_kind(components[group])}"
        for name, scheme in _schemes(resolved).items():
            if not isinstance(scheme, dict):
                yield pointer("components", "securitySchemes", name), f"expected an object, got {_kind(scheme)}"
        parameters = components.get("parameters")
        for name, parameter in (parameters if isinstance(parameters, dict) else {}).items():
            yield from _parameter(parameter, pointer("components", "parameters", name), reported)
    yield from _security(resolved.get("security", []), "/security")
    for template, item in resolved["paths"].items():
        at = pointer("paths", template)
        if not isinstance(item, dict):
            yield at, f"expected a path item object, got {_kind(item)}"
            continue
        yield from _parameters(item.get("parameters", []), f"{at}/parameters", reported)
        for method in HTTP_METHODS:
            if method not in item:
                continue
            op, where = item[method], f"{at}/{method}"
            if not isinstance(op, dict):
                yield where, f"expected an operation object, got {_kind(op)}"
                continue
            yield from _parameters(op.get("parameters", []), f"{where}/parameters", reported)
            yield from _security(op.get("security", []), f"{where}/security")
            if not isinstance(op.get("responses", {}), dict):
                yield f"{where}/responses", f"expected an object, got {_kind(op['responses'])}"
            if "operationId" in op and not isinstance(op["operationId"], str):
                yield f"{where}/operationId", f"expected a string, got {_kind(op['operationId'])}"
            if not isinstance(op.get("requestBody", {}), dict):
                yield f"{where}/requestBody", f"expected an object, got {_kind(op['requestBody'])}"


def _parameters(parameters: Any, at: str, reported: list[dict[str, Any]]) -> Iterable[tuple[str, str]]:
    if not isinstance(parameters, list):
        yield at, f"expected an array, got {_kind(parameters)}"
        return
    for index, parameter in enumerate(parameters):
        yield from _parameter(parameter, f"{at}/{index}", reported)


def _parameter(parameter: Any, at: str, reported: list[dict[str, Any]]) -> Iterable[tuple[str, str]]:
    if parameter in reported:
        return
    if not isinstance(parameter, dict):
        yield at, f"expected a parameter object, got {_kind(parameter)}"
        return
    missing = [key for key in ("name", "in") if not isinstance(parameter.get(key), str)]
    if missing:
        reported.append(parameter)
        yield at, f"missing required key {missing[0]!r} (a string)"


def _security(requirements: Any, at: str) -> Iterable[tuple[str, str]]:
    if not isinstance(requirements, list):
        yield at, f"expected an array of security requirements, got {_kind(requirements)}"
        return
    for index, requirement in enumerate(requirements):
        if not isinstance(requirement, dict) or not all(isinstance(s, list) for s in requirement.values()):
            yield f"{at}/{index}", "expected a security requirement: {<scheme name>: [<scope>, ...]}"


def _operations(resolved: dict[str, Any]) -> Iterable[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(path template, method, path item, operation) for every operation of the document."""
    for template, item in resolved["paths"].items():
        for method in HTTP_METHODS:
            if isinstance(item, dict) and method in item:
                yield template, method, item, item[method]


def _shape_problems(resolved: dict[str, Any]) -> Iterable[tuple[str, str]]:
    """Every place an `x-mock` or `x-certification` breaks `x-mock.schema.json`."""
    yield from shape_problems(resolved.get("x-mock") or {}, "api", "/x-mock")
    yield from shape_problems(resolved.get("x-certification") or {}, "certification", "/x-certification")
    for name, scheme in _schemes(resolved).items():
        at = pointer("components", "securitySchemes", name)
        if "x-mock" not in scheme:
            yield at, "needs x-mock: {credentials, key}, where the mock finds its credentials"
        else:
            yield from shape_problems(scheme["x-mock"], "scheme", f"{at}/x-mock")
    for template, method, _, op in _operations(resolved):
        at = pointer("paths", template, method)
        if "x-mock" not in op:
            yield at, "has no x-mock: every operation declares its behaviour (action, resource, response)"
        else:
            yield from shape_problems(op["x-mock"], "operation", f"{at}/x-mock")
        yield from shape_problems(op.get("x-certification") or {}, "certification", f"{at}/x-certification")


def _refuse(path: Path, problems: Iterable[tuple[str, str]]) -> None:
    found = [SpecError(reason, file=path, pointer=where) for where, reason in problems]
    if found:
        raise SpecErrors(found)
