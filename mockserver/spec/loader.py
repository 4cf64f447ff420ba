"""Reading spec and fixture files from disk."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from mockserver.errors import SpecError
from mockserver.spec import cache

#: documents already parsed, by the digest of their text: each app (and each test's mock) loads the
#: same specs, and unpickling a parsed one is some twenty times faster than parsing it again
_PARSED: dict[str, bytes] = {}
_PARSED_KEPT = 32


def load_yaml(path: Path) -> Any:
    """The document at `path`; a fresh copy each call (callers may change it), parsed once per text."""
    return load_yaml_keyed(path)[0]


def load_yaml_keyed(path: Path) -> tuple[Any, str, bytes]:
    """The document at `path`, the cache key of its text (`cache.document_key`) and its pickle."""
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise SpecError(str(exc), file=path) from exc
    key = cache.document_key(text)
    kept = _PARSED.get(key)
    if kept is not None:
        # the bytes are our own pickle of a document we parsed, never input from outside
        return pickle.loads(kept), key, kept  # noqa: S301
    stored = cache.read("documents", key)
    document = cache.loads(stored) if stored is not None else None
    if stored is None or document is None:  # not parsed before (or not by this release): parse, keep if it parsed
        from mockserver.spec.parsing import parse  # PyYAML only when a document is not in the cache

        document = parse(path, text)
        stored = pickle.dumps(document, protocol=pickle.HIGHEST_PROTOCOL)
        cache.write("documents", key, stored)
    if len(_PARSED) >= _PARSED_KEPT:  # a process that reads many documents (the tests' variants) starts over
        _PARSED.clear()
    _PARSED[key] = stored
    return document, key, stored


def discover_specs(directory: Path) -> list[Path]:
    paths = sorted(p for p in directory.iterdir() if p.suffix in {".yaml", ".yml", ".json"})
    if not paths:
        raise SpecError(f"no OpenAPI documents in {directory}")
    return paths
