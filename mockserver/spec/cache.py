"""The on-disk cache of start-up work: parsed documents (specs, fixtures), specs' resolved documents
that passed the document checks, and compiled file templates.

Parsing the two bundled specs with libyaml was about half a second of every start (more on a busy
machine); unpickling the parsed document is some twenty times faster. Only what parsed, or passed, is
written, under a key made of the document's bytes, PyYAML's release and the source of the spec
layer that reads and checks it (`mockserver/spec/`), so an edited file, another release or edited
code is a miss, never a stale hit. A malformed spec is never kept, so it is refused with its file,
pointer and reason whether or not the cache is on; the checks that look beyond the document (the
file templates a spec names) run on every start.

The folder is platformdirs' cache folder for mockserver (~/.cache/mockserver on Linux), or `MOCKSERVER_CACHE_DIR`;
`MOCKSERVER_NO_CACHE=1` turns the cache off. A folder that cannot be written is the same as no cache.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import platformdirs

DIRECTORY_VARIABLE = "MOCKSERVER_CACHE_DIR"
OFF_VARIABLE = "MOCKSERVER_NO_CACHE"
#: documents kept; the oldest go first (each test's variant of a spec is a document of its own)
KEPT = 64


def folder(kind: str) -> Path | None:
    """The cache's folder for one kind of entry, created; None when the cache is off or cannot be written."""
    if os.environ.get(OFF_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on"):
        return None
    root = os.environ.get(DIRECTORY_VARIABLE) or platformdirs.user_cache_dir("mockserver")
    path = Path(root) / kind
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    # Jinja's template cache raises on a folder it cannot write (a read-only image, another account's)
    return path if os.access(path, os.W_OK) else None


@functools.cache
def _release() -> bytes:
    """What makes the same bytes read or check differently: PyYAML's release, and the spec layer's own
    source (which is what reads and checks a document; a checkout's edited code is the same version).

    PyYAML's release is told by its package's `__init__.py` (which names the version), read without
    importing it, like this package's sources: a start that finds every document here imports neither
    PyYAML nor importlib.metadata (some 45 ms of CPU here).
    """
    digest = hashlib.blake2b(package_release("yaml").encode(), digest_size=16)
    for source in sorted(Path(__file__).parent.glob("*.*")):
        if source.suffix in (".py", ".json"):
            digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.digest()


@functools.cache
def package_release(name: str) -> str:
    """A digest that changes with an installed package's release, read without importing the package: its
    `__init__.py`, which names the version (importlib.metadata alone costs some 20 ms to import)."""
    found = importlib.util.find_spec(name)
    try:
        source = Path(found.origin).read_bytes() if found is not None and found.origin is not None else b""
    except OSError:
        source = b""
    return hashlib.blake2b(source, digest_size=16).hexdigest()


def document_key(text: bytes, *variant: str) -> str:
    """The key of a document's entries: its bytes, the release, and what else the entry depends on."""
    return hashlib.blake2b(_release() + "\0".join(variant).encode() + b"\0" + text, digest_size=20).hexdigest()


def read(kind: str, key: str) -> bytes | None:
    """The pickle stored under `key` among `kind`'s entries, or None."""
    where = folder(kind)
    if where is None:
        return None
    try:
        return (where / f"{key}.pickle").read_bytes()
    except OSError:
        return None


def write(kind: str, key: str, pickled: bytes) -> None:
    """Keep an entry; any failure to write only means the next start does the work again."""
    where = folder(kind)
    if where is None:
        return
    with contextlib.suppress(OSError):
        # written whole then renamed: a process starting meanwhile reads the old entry or none, never half
        handle, temporary = tempfile.mkstemp(dir=where, suffix=".part")
        with os.fdopen(handle, "wb") as out:
            out.write(pickled)
        os.replace(temporary, where / f"{key}.pickle")
        _prune(where)


def _prune(where: Path) -> None:
    entries = sorted(where.glob("*.pickle"), key=_age)
    for old in entries[:-KEPT]:
        with contextlib.suppress(OSError):
            old.unlink()


def _age(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def loads(pickled: bytes) -> Any:
    """A document from its pickle, or None when the bytes are not one (a damaged entry is a miss)."""
    try:
        # our own pickle of a document we parsed, in this account's own cache folder
        return pickle.loads(pickled)  # noqa: S301
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError, IndexError):
        return None
