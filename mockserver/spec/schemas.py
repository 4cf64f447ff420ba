"""Reading the JSON Schemas of an OpenAPI document: properties, required names, pointers into bodies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


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
