"""Prism-compatible response selection: `Prefer: code=500, example=name`.

The query forms `__code` and `__example` do the same; when a `Prefer`
header is present the query forms are ignored, as in Prism.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_CODE = re.compile(r"^[1-5][0-9][0-9]$")


class PreferenceError(Exception):
    """A preference that cannot be honoured; the message says what exists instead."""


@dataclass(frozen=True)
class Preference:
    code: str | None = None
    example: str | None = None


def _parse_header(header: str) -> dict[str, str]:
    values = {}
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key:
            values[key.strip().lower()] = value.strip().strip('"')
    return values


def read_preference(header: str | None, query: Mapping[str, str]) -> Preference | None:
    if header is not None:
        values = _parse_header(header)
    else:
        values = {key[2:]: value for key, value in query.items() if key in ("__code", "__example")}
    code, example = values.get("code"), values.get("example")
    if code is None and example is None:
        return None
    if code is not None and not _CODE.match(code):
        raise PreferenceError(f"code must be a three-digit HTTP status, got {code!r}")
    return Preference(code=code, example=example)
