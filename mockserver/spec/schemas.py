"""Reading the JSON Schemas of an OpenAPI document: properties and required names."""

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


def required_names(schema: Mapping[str, Any]) -> set[str]:
    """Required properties of a schema including those brought in by `allOf`."""
    required = set(schema.get("required", []))
    for part in schema.get("allOf", []):
        required |= required_names(part)
    return required
