"""Loading an OpenAPI document and the `x-mock` extensions that drive the mock.

The loader resolves local `$ref`s once, so the rest of the engine works on
plain nested dicts and never has to follow a reference while serving.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockserver.errors import SpecError
from mockserver.spec.loader import load_yaml

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def merged_properties(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Properties of a schema including those brought in by `allOf`, in order."""
    properties: dict[str, Any] = {}
    for part in schema.get("allOf", []):
        for name, sub in merged_properties(part).items():
            properties[name] = {**properties.get(name, {}), **sub}
    for name, sub in schema.get("properties", {}).items():
        properties[name] = {**properties.get(name, {}), **sub}
    return properties


def pointer_parts(pointer: str) -> list[str]:
    """`/Model/items` -> ["Model", "items"] (the property names on the way into a body)."""
    return [part for part in pointer.split("/") if part]


def value_at(document: Any, parts: list[str]) -> Any:
    """The value at those property names inside a JSON body (None when the way is missing)."""
    for part in parts:
        document = document.get(part) if isinstance(document, dict) else None
    return document


def required_names(schema: Mapping[str, Any]) -> set[str]:
    """Required properties of a schema including those brought in by `allOf`."""
    required = set(schema.get("required", []))
    for part in schema.get("allOf", []):
        required |= required_names(part)
    return required


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
    mock: dict[str, Any]

    def body_schema(self) -> dict[str, Any] | None:
        if not self.request_body:
            return None
        content = self.request_body.get("content", {})
        media = content.get("application/json") or next(iter(content.values()), {})
        return media.get("schema")

    @property
    def record_pointer(self) -> list[str]:
        """Where the record sits in the body (`x-mock.body`, e.g. /Model for a wrapped body); [] for the whole body."""
        return pointer_parts(self.mock.get("body") or "")

    def record_schema(self) -> dict[str, Any]:
        """The schema of the record part of the request body."""
        return self.body_schema_at(self.record_pointer)

    def body_schema_at(self, pointer: list[str]) -> dict[str, Any]:
        """The schema of one part of the request body, by its property names."""
        schema = self.body_schema() or {}
        for part in pointer:
            schema = merged_properties(schema).get(part, {})
        return schema

    def _media(self, status: int | str) -> dict[str, Any]:
        response = self.responses.get(str(status)) or {}
        return response.get("content", {}).get("application/json", {})

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
    """A loaded OpenAPI document: the raw text for serving, the resolved tree for the engine."""

    name: str
    source: Path
    raw: dict[str, Any]
    resolved: dict[str, Any]
    mock: dict[str, Any]
    operations: list[Operation] = field(default_factory=list)

    @property
    def security_schemes(self) -> dict[str, dict[str, Any]]:
        return self.resolved.get("components", {}).get("securitySchemes", {})


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
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
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

    return walk(document, ())


def load_spec(path: Path) -> ApiSpec:
    raw = load_yaml(path)
    if not isinstance(raw, dict) or "paths" not in raw:
        raise SpecError(f"{path}: not an OpenAPI document (no 'paths')")
    resolved = resolve_refs(raw)
    mock = resolved.get("x-mock") or {}
    name = mock.get("name") or path.stem
    spec = ApiSpec(name=name, source=path, raw=raw, resolved=resolved, mock=mock)
    default_security = resolved.get("security", [])
    for template, item in resolved["paths"].items():
        shared_params = item.get("parameters", [])
        for method in HTTP_METHODS:
            if method not in item:
                continue
            op = item[method]
            params = {(p["in"], p["name"]): p for p in shared_params}
            params.update({(p["in"], p["name"]): p for p in op.get("parameters", [])})
            spec.operations.append(
                Operation(
                    operation_id=op.get("operationId") or f"{method} {template}",
                    method=method.upper(),
                    path=template,
                    parameters=list(params.values()),
                    request_body=op.get("requestBody"),
                    responses=op.get("responses", {}),
                    security=op.get("security", default_security),
                    mock=op.get("x-mock") or {},
                )
            )
    return spec
