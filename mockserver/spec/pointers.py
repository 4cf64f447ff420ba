"""RFC 6901 JSON pointers: the one way they are built, parsed and followed.

Spec errors are placed by a pointer into the file, `$ref`s and runtime
expressions (`$response.body#/id`) carry one, and `x-mock` names the parts of
a body by one (`body: /Record`). A token escapes `~` as `~0` and `/` as `~1`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def _escape(part: object) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def pointer(*parts: object) -> str:
    """A pointer from its tokens: pointer("paths", "/a/b", "get") == "/paths/~1a~1b/get"; pointer() == ""."""
    return "".join(f"/{_escape(part)}" for part in parts)


def parse_pointer(text: str) -> list[str]:
    """The tokens of a pointer: parse_pointer("/paths/~1a~1b/get") == ["paths", "/a/b", "get"]; "" -> []."""
    return [part.replace("~1", "/").replace("~0", "~") for part in text.split("/")[1:]]


def value_at(document: Any, parts: Iterable[str | int]) -> Any:
    """The value those tokens lead to inside a JSON document (None when the way is missing).

    A token steps into an object by key and into an array by index.
    """
    for part in parts:
        if isinstance(document, list):
            text = str(part)
            index = int(text) if text.isascii() and text.isdigit() else len(document)
            document = document[index] if index < len(document) else None
        elif isinstance(document, Mapping):
            document = document.get(str(part))
        else:
            return None
    return document
