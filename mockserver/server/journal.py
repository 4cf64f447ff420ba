"""The request journal: what callers sent and what they got, newest first.

Bounded (the oldest entries fall off), and credentials never leave it:
secret headers, and JSON fields and query parameters whose names say
password, token, secret or key, are masked; a body that is not JSON but names
such a field is not kept at all. The same query masking applies to the
server's access log.

In memory, a request's entry is kept as it came (`RawEntry`: the bytes and
the header list the request already holds) and masked the first time it is
read: masking every entry cost 5-12% of each request, and most entries are
never read. What could be large is bounded at once all the same (`kept_query`,
`kept_headers`, `kept_size`): an entry holds some tens of KiB at most, whatever was sent. Nothing outside this module sees an unmasked entry; the shared
journal masks before an entry leaves the process for Redis.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import KW_ONLY, asdict, dataclass, field, fields
from typing import Any, Protocol, TypeVar
from urllib.parse import unquote_plus

import orjson

from mockserver.errors import AdminError, StoreUnavailable
from mockserver.pipeline.limits import Limits
from mockserver.pipeline.masking import secret_field
from mockserver.state.shared import SharedList, dumps, loads

log = logging.getLogger("mockserver")

MASK = "[masked]"
T = TypeVar("T")
#: bodies are kept up to this size, so a huge request cannot fill the memory
BODY_LIMIT = 16 * 1024
#: query strings are kept up to this many characters
QUERY_LIMIT = 4096
#: a request's header list (names and values, in bytes) is kept as it came up to this size
RAW_HEADERS_LIMIT = 8 * 1024
#: of a larger list, the first this many headers are kept (the most a request may send unrefused), then a note
HEADERS_KEPT = Limits.max_headers
HEADERS_NOT_KEPT = "(not kept)"
#: what a filter compares: text (equal), a status (`status_matches`) or a flag (`true`/`false`)
Facet = str | int | bool | None


@dataclass
class Facts:
    """What every journal entry says of its request, masked or not yet."""

    method: str
    path: str
    query: str
    status: int
    api: str | None
    operation: str | None
    session: str | None
    duration_ms: float
    _: KW_ONLY
    #: for a request no operation answered: why, and the operation it came closest to
    miss: dict[str, Any] | None = None
    #: the method a POST named to be routed as (`_method`), the real one being `method`
    routed_as: str | None = None
    id: int = 0
    time: float = field(default_factory=time.time)

    def facets(self) -> dict[str, Facet]:
        """What the journal's filters choose by (see `chosen`)."""
        return {
            "api": self.api,
            "operation": self.operation,
            "status": self.status,
            "matched": self.miss is None,
        }


@dataclass
class Entry(Facts):
    request_headers: dict[str, str]
    request_body: Any
    response_body: Any

    def to_data(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(eq=False)
class RawEntry(Facts):
    """A request as the server saw it, masked into its `Entry` when first read (then kept masked).

    Only what is small is kept as it came: a query is cut to `QUERY_LIMIT` when
    recorded, a header list larger than `RAW_HEADERS_LIMIT` is masked and cut
    at once (`kept_headers`), and a body over `BODY_LIMIT` is a note of its size.
    """

    #: the request's header list as the ASGI scope holds it, or, when that is large, already masked and cut
    headers: list[tuple[bytes, bytes]] | dict[str, str]
    #: lower-case names of the headers masked for this API
    secret_headers: frozenset[str]
    #: the bytes read, or a note of why none were (too large); None when the caller hung up
    request_body: bytes | str | None
    #: the answer's bytes, or a note of their size when over the limit
    response_raw: bytes | str
    #: the data the response was rendered from when it is not a container (a container is parsed back from
    #: `response_raw`, since the bytes cannot change after the answer and the data might)
    response_data: Any
    _masked: Entry | None = field(default=None, repr=False)

    def masked(self) -> Entry:
        if self._masked is None:
            body, headers = self.request_body, self.headers
            facts = {name.name: getattr(self, name.name) for name in fields(Facts)}
            self._masked = Entry(
                **{**facts, "query": mask_query(self.query)},
                request_headers=headers
                if isinstance(headers, dict)
                else mask_raw_headers(headers, self.secret_headers),
                request_body=mask_body(body) if isinstance(body, bytes) else body,
                response_body=mask_body(self.response_raw, self.response_data),
            )
            # the raw parts are not needed again: only the masked entry stays
            self.headers, self.request_body, self.response_raw = [], None, b""
        return self._masked


def kept_size(raw: T) -> T | str:
    """Bytes over the journal's limit are not kept, not even until the entry is read: a note says how many."""
    return f"<{len(raw)} bytes, not kept>" if isinstance(raw, bytes) and len(raw) > BODY_LIMIT else raw


def kept_query(query: str) -> str:
    """The query as recorded: cut to its bound at once (masked when read, see `mask_query`).

    Cutting before masking shows no secret: a name cut short has no value left,
    and a secret-named value cut short is masked whole.
    """
    return shorten(query, QUERY_LIMIT)


def kept_headers(raw: list[tuple[bytes, bytes]], secret: frozenset[str]) -> list[tuple[bytes, bytes]] | dict[str, str]:
    """A header list as recorded: the scope's own list when small, else masked and cut now.

    A request refused with 431 is journaled too; keeping its list until read would hold up to a
    whole request head (1 MiB) per entry.
    """
    if sum(len(name) + len(value) for name, value in raw) <= RAW_HEADERS_LIMIT:
        return raw
    kept = mask_raw_headers(raw[:HEADERS_KEPT], secret)
    if len(raw) > HEADERS_KEPT:  # thousands of short headers would be as large as one long one
        kept[HEADERS_NOT_KEPT] = f"{len(raw) - HEADERS_KEPT} more headers"
    return kept


def mask_raw_headers(raw: Iterable[tuple[bytes, bytes]], secret: frozenset[str]) -> dict[str, str]:
    return mask_headers(((name.decode("latin-1"), value.decode("latin-1")) for name, value in raw), secret)


def mask_body(raw: bytes | str, parsed: Any = None) -> Any:
    """A body as the journal keeps it: JSON with secrets masked, or text cut to size.

    `parsed` is the data the bytes were rendered from, when the caller has it: no need to parse them back.
    """
    kept = kept_size(raw)
    if isinstance(kept, str):  # a note that stands for bytes not kept
        return kept
    if not kept:
        return None
    if parsed is not None:
        return _mask(parsed)
    try:
        return _mask(orjson.loads(kept))
    except orjson.JSONDecodeError:
        text = kept.decode("utf-8", errors="replace")
        # Unparsed text cannot be masked field by field (a broken login body, a form).
        return f"<{len(kept)} bytes naming a secret field, not kept>" if secret_field(text) else text


def mask_query(query: str) -> str:
    """A query string with the values of secret-named parameters masked, the rest as sent."""
    if not secret_field(unquote_plus(query)):
        return query
    pairs = (pair.split("=", 1) for pair in query.split("&"))
    return "&".join(
        f"{parts[0]}={MASK}" if secret_field(unquote_plus(parts[0])) else "=".join(parts) for parts in pairs
    )


class MaskedAccessLog(logging.Filter):
    """Masks secret query parameters in uvicorn's access log (its third argument is the path and query)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > 2 and isinstance(args[2], str) and "?" in args[2]:
            path, _, query = args[2].partition("?")
            record.args = (*args[:2], f"{path}?{mask_query(query)}", *args[3:])
        return True


#: field name -> whether it names a secret. The case-insensitive search cost
#: more than the rest of the walk together (a list page of 20 records took
#: ~40 µs to mask, bench/results.md), and bodies repeat the same few names.
_SECRET_NAMES: dict[str, bool] = {}
#: names remembered at most; past that, names are searched every time
_SECRET_NAMES_LIMIT = 4096


def _is_secret(name: str) -> bool:
    known = _SECRET_NAMES.get(name)
    if known is None:
        known = secret_field(name)
        if len(_SECRET_NAMES) < _SECRET_NAMES_LIMIT:
            _SECRET_NAMES[name] = known
    return known


def _mask(value: Any) -> Any:
    # keys become text, as they were on the wire, so entries always render as JSON
    if isinstance(value, dict):
        return {str(key): MASK if _is_secret(str(key)) else _mask(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask(item) for item in value]
    return value


def mask_headers(headers: Iterable[tuple[str, str]], secret: frozenset[str]) -> dict[str, str]:
    return {name: MASK if name.lower() in secret else shorten(value) for name, value in headers}


def shorten(text: str, limit: int = 1024) -> str:
    """Long header values are cut, so an entry stays small whatever a caller sends."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


class Filterable(Protocol):
    def facets(self) -> Mapping[str, Facet]: ...


F = TypeVar("F", bound=Filterable)


def chosen(items: Iterable[F], filters: Mapping[str, str]) -> list[F]:
    """The items every given filter lets through, in their order.

    A filter names one of an item's facets: text must be equal, a status
    matches `status_matches` (`404`, `4xx`), a flag `true` or `false`
    (anything else leaves it out). Filters naming no facet are ignored.
    """
    wanted = [(name, value) for name, value in filters.items() if value]
    return [item for item in items if all(_passes(item.facets(), name, value) for name, value in wanted)]


def _passes(facets: Mapping[str, Facet], name: str, wanted: str) -> bool:
    if name not in facets:
        return True
    value = facets[name]
    if isinstance(value, bool):  # before int: a bool is one
        return wanted not in ("true", "false") or value == (wanted == "true")
    if isinstance(value, int):
        return status_matches(value, wanted)
    return value == wanted


def read_limit(query: Mapping[str, str], name: str = "limit", default: int = 100) -> int:
    """A count a caller gives in the query (`limit`, `offset`): a whole number, below zero read as zero."""
    try:
        return max(int(query.get(name, default)), 0)
    except ValueError:
        raise AdminError(400, f"{name} is a whole number") from None


class Journal:
    def __init__(self, limit: int = 1000) -> None:
        self.entries: deque[Entry | RawEntry] = deque(maxlen=max(limit, 0))
        self._ids = itertools.count(1)

    def record(self, entry: Entry | RawEntry) -> None:
        entry.id = next(self._ids)
        if isinstance(entry, RawEntry):
            entry.response_raw = self._own_bytes(entry.response_raw)
        self.entries.append(entry)

    def _own_bytes(self, raw: bytes | str) -> bytes | str:
        """An answer's bytes as the journal keeps them: the newest entry's when equal, else a copy of their size.

        orjson hands out its whole write buffer (a 6 KB list page held 32 KB), so 1,000 entries held some
        25 MB more than their bytes; and an answer given again (a caller polling a page) is kept once.
        """
        if not isinstance(raw, bytes) or not raw:
            return raw
        newest = self.entries[-1] if self.entries else None
        if isinstance(newest, RawEntry) and newest.response_raw == raw:
            return newest.response_raw
        return bytes(memoryview(raw))

    def newest_first(self) -> Iterable[Entry | RawEntry]:
        return reversed(self.entries)

    def count(self, filters: Mapping[str, str]) -> int:
        """How many entries match `filters` (see `read`); none is masked to count it."""
        return len(chosen(self.newest_first(), filters))

    def read(self, filters: Mapping[str, str], limit: int) -> tuple[int, list[Entry]]:
        """How many entries match, and the newest `limit` of them, masked.

        Filters: `api`, `operation`, `status` (or `4xx`), `matched` (true/false).
        Only the entries returned are masked (each once: the masked entry is kept).
        """
        matching = chosen(self.newest_first(), filters)
        return len(matching), [entry.masked() if isinstance(entry, RawEntry) else entry for entry in matching[:limit]]

    def clear(self) -> None:
        self.entries.clear()


class SharedJournal(Journal):
    """The journal of every replica, in Redis: one list, newest first, bounded the same way."""

    def __init__(self, shared: SharedList) -> None:
        super().__init__(0)
        self.shared = shared

    def record(self, entry: Entry | RawEntry) -> None:
        if self.shared.limit <= 0:
            return
        # masked here: credentials do not leave the process, not even for the shared store; written
        # straight from the dataclass (its `to_data` copies every nested value, a tenth of a request)
        try:
            entry.id = self.shared.push(dumps(entry.masked() if isinstance(entry, RawEntry) else entry))
        except StoreUnavailable as exc:  # the request was answered; only its journal entry is lost
            log.warning("journal entry not kept: %s", exc)

    def newest_first(self) -> Iterable[Entry]:
        return [Entry(**{**loads(text), "id": number}) for number, text in self.shared.newest()]

    def clear(self) -> None:
        self.shared.clear()


def status_matches(status: int, wanted: str) -> bool:
    wanted = wanted.lower()
    if len(wanted) == 3 and wanted.endswith("xx"):
        return str(status)[0] == wanted[0]
    return str(status) == wanted
