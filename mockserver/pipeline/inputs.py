"""A request's input as the real service reads it, from the spec's `x-mock.input`.

The body is decoded by its encoding (JSON, and where declared urlencoded
forms and multipart), bracket keys of a form become nested objects and lists
(`detalles[0][codigo]=X`), strings are normalised (trimmed, "" to null), and
where declared the query string joins the input with the body winning on a
clash. Where declared, a POST naming another method in a field (`_method`)
or a header is routed as that method.

What the values mean (a numeric string where a number is wanted) is not
decided here: that depends on the operation's schema (`validation.py`).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from mockserver.errors import BodyError
from mockserver.pipeline.incoming import Incoming
from mockserver.pipeline.limits import Limits, read_once
from mockserver.spec.model import InputDecl, InputLimitsDecl, MethodOverrideDecl

#: the engine's bounds, where the spec declares none
_ENGINE = InputLimitsDecl()
# orjson errors that name a limit of the reader, not a fault in the JSON text
# (orjson stops at 1024 levels, beyond any declared `limits.json_depth`)
_DEPTH_EXCEEDED = "depth limit exceeded"
_TOO_LARGE = "number is infinity when parsed as double"
# the end of every key of a JSON object: a closing quote, whitespace, a colon
_KEY_END = re.compile(rb'"[ \t\n\r]*:')
# whitespace before a colon: then the keys are counted by `_KEY_END` (one C pass finds whether there is any)
_SPACED_COLON = re.compile(rb"[ \t\n\r]:")
# `name[a][0][]` -> "name", then "a", "0", "" (an empty pair appends)
_BRACKETS = re.compile(r"\[([^\[\]]*)\]")
_MEDIA = {
    "json": "application/json",
    "form": "application/x-www-form-urlencoded",
    "multipart": "multipart/form-data",
}
#: where a request's scope keeps its decoded input once read (or the refusal of it)
_READ = "mockserver.input"


@dataclass(frozen=True)
class Input:
    """A decoded body: its fields, whether the caller sent any body at all, and the method it names."""

    value: Any
    sent: bool
    method: Any = None


class InputReader:
    """The API's way of reading input, built once from its `x-mock.input`."""

    def __init__(self, declared: InputDecl, limits: Limits) -> None:
        self.declared = declared
        self.limits = limits
        self.media = {_MEDIA[kind]: kind for kind in declared.bodies}
        self.accepted = _listed([_MEDIA[kind] for kind in declared.bodies])
        self.override: MethodOverrideDecl | None = declared.method_override

    async def read(self, request: Incoming) -> Input:
        """The body's input, read once per request: the router and the operation share it."""
        return await read_once(request, _READ, lambda: self._read(request), BodyError)

    async def method(self, request: Incoming) -> str | None:
        """The method a POST asks to be routed as, when the API reads an override; else None."""
        override = self.override
        if override is None or request.method != "POST":
            return None
        named: Any = request.headers.get(override.header) if override.header else None
        if not named and override.field:
            try:
                named = (await self.read(request)).method
            except BodyError:  # a body that cannot be read names no method; the operation says why
                named = None
        wanted = named.upper() if isinstance(named, str) else None
        return wanted if wanted in override.methods else None

    async def _read(self, request: Incoming) -> Input:
        raw = await self.limits.read_body(request)
        value: Any = {}
        if raw.strip():
            value = await self._decode(raw, request.headers, request.method)
        if self.declared.merge_query:
            value = self._with_query(value, request.query_params.multi_items())
        method = None
        if self.override is not None and self.override.field and isinstance(value, dict):
            method = value.pop(self.override.field, None)  # routing's business, not a field of the record
        declared = self.declared
        if declared.trim_strings or declared.empty_strings_to_null:
            trim = declared.trim_characters if declared.trim_strings else ""
            value = normalise(value, trim=trim, empty_to_null=declared.empty_strings_to_null)
        # a merged query string is input as much as a body is (`POST ...?enabled=0`)
        sent = bool(raw.strip()) or (self.declared.merge_query and bool(request.query_params))
        return Input(value, sent=sent, method=method)

    async def _decode(self, raw: bytes, headers: Headers, method: str) -> Any:
        content_type = headers.get("content-type")
        media = (content_type or "").split(";", 1)[0].strip().lower()
        kind = "json" if media.endswith("+json") else self.media.get(media)
        if kind == "json" and "json" in self.declared.bodies:
            return parse_json(raw, self.declared.limits.json_depth)
        if kind == "form":
            return nest(_form_pairs(raw, self.declared.limits), self.declared.limits.form_depth)
        if kind == "multipart":
            unread = self.declared.multipart_methods and method not in self.declared.multipart_methods
            if unread:  # PHP fills $_POST and $_FILES on POST alone: a real PUT's multipart fields never arrive
                return {}
            return nest(await _multipart_pairs(raw, headers, self.declared.limits), self.declared.limits.form_depth)
        raise BodyError("body.content_type", self.accepted)

    def _with_query(self, body: Any, query: Iterable[tuple[str, str]]) -> Any:
        if not isinstance(body, dict):  # a JSON array or scalar stays as sent, to be refused as such
            return body
        merged = nest(query, self.declared.limits.form_depth)
        merged.update(body)  # top-level keys: PHP's `$body + $query`
        return merged


def normalise(value: Any, *, trim: str | None, empty_to_null: bool) -> Any:
    """Strings trimmed and "" made null, as the API's middleware does, all the way down.

    `trim` is the characters stripped: None for any whitespace, "" for none.
    """
    if isinstance(value, str):
        if trim != "":
            value = value.strip(trim)
        return None if empty_to_null and value == "" else value
    if isinstance(value, dict):
        return {key: normalise(item, trim=trim, empty_to_null=empty_to_null) for key, item in value.items()}
    if isinstance(value, list):
        return [normalise(item, trim=trim, empty_to_null=empty_to_null) for item in value]
    return value


# -- JSON ------------------------------------------------------------------------


def parse_json(raw: bytes, max_depth: int = _ENGINE.json_depth) -> dict[str, Any] | list[Any]:
    """A JSON body that is an object (or a list, for an operation that takes one), nesting at most
    `max_depth` levels, naming no key twice."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        detail = str(exc).split(":", 1)[0]
        if detail == _DEPTH_EXCEEDED:
            raise BodyError("body.too_deep", limit=max_depth) from None
        if detail == _TOO_LARGE:
            raise BodyError("body.number_too_large", limit=None) from None
        raise BodyError("body.malformed", detail) from None
    if not isinstance(value, (dict, list)):
        raise BodyError("body.not_object")
    depth, keys = _depth_and_keys(value)
    if depth > max_depth:
        raise BodyError("body.too_deep", limit=max_depth)
    if keys < _key_ends(raw):  # fewer keys kept than the text may write: perhaps one sent twice
        _refuse_duplicate_keys(raw)
    return value


def _key_ends(raw: bytes) -> int:
    """At least the number of keys the JSON text writes: every key ends `"`, whitespace, `:`."""
    if _SPACED_COLON.search(raw):
        return len(_KEY_END.findall(raw))
    return raw.count(b'":')  # no whitespace before any colon: a plain count, in C


def _depth_and_keys(value: Any) -> tuple[int, int]:
    """How deeply a parsed body nests, and how many keys its objects hold: a level at a time, without recursion."""
    depth = keys = 0
    level: list[Any] = [value]
    while level:
        depth += 1
        below: list[Any] = []
        for node in level:
            if isinstance(node, dict):
                keys += len(node)
                node = node.values()
            below += [child for child in node if isinstance(child, (dict, list))]
        level = below
    return depth, keys


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:  # named in the answer, so a long key is cut short
            raise BodyError("body.duplicate_key", key if len(key) <= 64 else key[:64] + "…")
        seen[key] = value
    return seen


def _refuse_duplicate_keys(raw: bytes) -> None:
    """A key sent twice in one object is refused: parsers disagree on which value wins.

    orjson keeps the last silently, so when the text may hold one (it writes
    more keys than orjson kept) it is read again by the standard parser, which
    reports every object's pairs; the body is known to be valid JSON within
    its depth limit by now, so this second read cannot fail otherwise.
    """
    json.loads(raw, object_pairs_hook=_unique_pairs)


# -- forms -----------------------------------------------------------------------


def _form_pairs(raw: bytes, limits: InputLimitsDecl) -> list[tuple[str, Any]]:
    fields = limits.form_fields
    try:
        return parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=fields, errors="strict")
    except UnicodeDecodeError:
        raise BodyError("body.malformed_form", "not valid UTF-8") from None
    except ValueError:  # parse_qsl's only other refusal: more fields than allowed
        raise BodyError("body.too_many_fields", limit=fields) from None


async def _multipart_pairs(raw: bytes, headers: Headers, limits: InputLimitsDecl) -> list[tuple[str, Any]]:
    """The parts of a multipart body; a file part is kept as what it is, not its bytes."""

    async def stream() -> AsyncGenerator[bytes, None]:
        yield raw

    parser = MultiPartParser(headers, stream(), max_files=limits.form_fields, max_fields=limits.form_fields)
    try:
        form = await parser.parse()
    except (MultiPartException, ValueError) as exc:
        raise BodyError("body.malformed_form", str(exc).rstrip(".")) from None
    pairs: list[tuple[str, Any]] = []
    try:
        for name, value in form.multi_items():
            pairs.append((name, _file(value) if isinstance(value, UploadFile) else value))
    finally:
        await form.close()
    return pairs


def _file(upload: UploadFile) -> dict[str, Any]:
    """What a file part is: its name and declared type as sent, its size, and the extension its content suggests."""
    upload.file.seek(0)
    head = upload.file.read(_SNIFFED)
    return {
        "filename": upload.filename,
        "content_type": upload.content_type,
        "size": upload.size,
        "extension": guess_extension(head),
    }


#: how much of a file its type is guessed from
_SNIFFED = 4096
#: leading bytes of the binary formats a service tells apart (as libmagic does, for the few that matter here)
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"%PDF-", "pdf"),
    (b"PK\x03\x04", "zip"),
)


def guess_extension(head: bytes) -> str | None:
    """The extension a file's content suggests, as PHP's `guessExtension()` reads it (from the content, not
    the name): a known binary signature, else `txt` for text (a PEM certificate is text), `bin` otherwise;
    None for an empty file."""
    if not head:
        return None
    for signature, extension in _SIGNATURES:
        if head.startswith(signature):
            return extension
    if b"\x00" in head:
        return "bin"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of the sample
            return "bin"
    return "txt"


def nest(pairs: Iterable[tuple[str, Any]], max_depth: int = _ENGINE.form_depth) -> dict[str, Any]:
    """Form fields with bracket keys as nested objects and lists, as PHP reads `$_POST`.

    A later value replaces an earlier one of the same key; `a[]` appends; an
    object whose keys are exactly 0..n-1 is a list (PHP's sequential array).
    """
    root: dict[str, Any] = {}
    for key, value in pairs:
        path = _key_path(key, max_depth)
        if path is None:
            continue  # PHP drops a field whose name is only brackets
        node = root
        for part in path[:-1]:
            child = node.get(part) if part != "" else None
            if not isinstance(child, dict):  # a scalar sent first is replaced, as PHP does
                child = {}
                node[_slot(node, part)] = child
            node = child
        node[_slot(node, path[-1])] = value
    return {key: _as_lists(value) for key, value in root.items()}  # the input itself is always an object


def _key_path(key: str, max_depth: int) -> list[str] | None:
    base, bracket, rest = key.partition("[")
    if not base:
        return None
    if not bracket:
        return [base]
    parts = _BRACKETS.findall("[" + rest)
    if len(parts) >= max_depth:
        raise BodyError("body.too_deep", limit=max_depth)
    return [base, *parts]


def _slot(node: dict[str, Any], part: str) -> str:
    """The key a path part names in its object; "" (from `[]`) is the next free index."""
    if part != "":
        return part
    return str(sum(1 for key in node if key.isdigit()))


def _as_lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _as_lists(value) for key, value in node.items()}
    indexes = [str(i) for i in range(len(converted))]
    if converted and set(converted) == set(indexes):
        return [converted[i] for i in indexes]
    return converted


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
