"""Realism profiles: what an operation does instead under `serve --profile NAME`.

The default behaviour of every operation is its documented contract. A spec
may also declare named profiles (`x-mock.profiles`) and, on an operation, the
quirks each profile applies (`x-mock.quirks`): each with its `source` and a
JSON merge patch (RFC 7386) of the operation — its `x-mock` (a rule added or
switched off, a default not applied, another answer), its `requestBody`
schemas or its `responses`, as written (a patch may name components by
`$ref`). Under the profile the patched operation is
loaded in place of the declared one and checked like any other, so a quirk
is data in the spec and never code in the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, null removes a key, anything else replaces the value."""
    if not isinstance(patch, Mapping):
        return patch
    merged = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def apply_profile(document: dict[str, Any], profile: str | None) -> dict[str, Any]:
    """The document with each operation's quirks of `profile` applied, as new objects (the document is not changed).

    A profile may also patch the document's own `x-mock` (`x-mock.profiles.<name>.patch`): how the whole
    API reads its input, say, rather than what one operation does.
    """
    if profile is None:
        return document
    document = _with_document_patch(document, profile)
    paths = document.get("paths")
    if not isinstance(paths, dict):
        return document
    patched_paths = {}
    for template, item in paths.items():
        if not isinstance(item, dict):
            patched_paths[template] = item
            continue
        patched_item = dict(item)
        for method in _METHODS:
            operation = item.get(method)
            if isinstance(operation, dict):
                patched_item[method] = _patched(operation, profile)
        patched_paths[template] = patched_item
    return {**document, "paths": patched_paths}


def _patched(operation: dict[str, Any], profile: str) -> dict[str, Any]:
    mock = operation.get("x-mock")
    quirks = mock.get("quirks") if isinstance(mock, dict) else None
    if not isinstance(quirks, list):
        return operation
    for quirk in quirks:
        if isinstance(quirk, dict) and quirk.get("profile") == profile and isinstance(quirk.get("patch"), dict):
            operation = merge_patch(operation, quirk["patch"])
    return operation


def _with_document_patch(document: dict[str, Any], profile: str) -> dict[str, Any]:
    mock = document.get("x-mock")
    profiles = mock.get("profiles") if isinstance(mock, dict) else None
    declared = profiles.get(profile) if isinstance(profiles, dict) else None
    patch = declared.get("patch") if isinstance(declared, dict) else None
    if not isinstance(patch, dict):
        return document
    return {**document, "x-mock": merge_patch(mock, patch)}
