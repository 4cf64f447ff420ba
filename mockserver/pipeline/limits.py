"""Bounds on what one request may make the mock hold in memory.

A request over a bound is refused in its API's envelope (the spec's
`x-mock.errors`: `uri_too_long` 414, `headers_too_large` 431,
`payload_too_large` 413), with `${limit}` in the template context, before
any of it is parsed. Only a request head larger than `HEAD_BYTES`, or a
request target of 64 KiB or more (httptools' own limit), never reaches an
API: the HTTP layer refuses it with its own plain 400, so a caller cannot
make the server buffer an unbounded head.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar, cast

from mockserver.errors import TooLarge
from mockserver.pipeline.incoming import Incoming

#: the envelopes (`x-mock.errors` names) a request over a bound is refused with
PAYLOAD_TOO_LARGE, URI_TOO_LONG, HEADERS_TOO_LARGE = "payload_too_large", "uri_too_long", "headers_too_large"
SIZE_REFUSALS = (PAYLOAD_TOO_LARGE, URI_TOO_LONG, HEADERS_TOO_LARGE)
#: the HTTP layer's cap on a request head (request line and headers together)
HEAD_BYTES = 1024 * 1024
#: where a request's scope keeps its body once read (or the refusal of it)
_READ = "mockserver.body"

T = TypeVar("T")


async def read_once(request: Incoming, key: str, read: Callable[[], Awaitable[T]], refusal: type[Exception]) -> T:
    """What `read()` gives, or the `refusal` it raises, kept in the request's scope under `key`.

    A second reader gets the same result, or the same refusal, without reading again. The refusal is
    kept, and raised again, as a copy (`_bare`): a raised exception's traceback holds the frames that hold this
    scope, so the one in the scope would make a cycle that only the cyclic collector frees (48 objects
    a request with a body nested too deep, tests/test_garbage.py).
    """
    scope = request.scope
    if key in scope:
        kept = scope[key]
        if isinstance(kept, refusal):
            raise _bare(kept)
        return cast(T, kept)
    try:
        found = await read()
    except refusal as exc:
        scope[key] = _bare(exc)
        raise
    scope[key] = found
    return found


E = TypeVar("E", bound=BaseException)


def _bare(exc: E) -> E:
    """The same exception as a new one, without a traceback or a context (nor a call of its `__init__`)."""
    bare = type(exc).__new__(type(exc))
    bare.args = exc.args
    bare.__dict__.update(vars(exc))
    return bare


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int
    # nginx answers 414 past its 8 KiB header buffers; the mock allows more,
    # as some callers put long filters in query strings.
    max_target_bytes: int = 16 * 1024
    # Apache's LimitRequestFields default; browsers send about twenty.
    max_headers: int = 100
    max_header_bytes: int = 64 * 1024

    def check_head(self, request: Incoming) -> None:
        scope = request.scope
        target = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
        if target > self.max_target_bytes:
            raise TooLarge(URI_TOO_LONG, self.max_target_bytes)
        headers = scope.get("headers") or []
        if len(headers) > self.max_headers:
            raise TooLarge(HEADERS_TOO_LARGE, self.max_headers)
        if sum(len(name) + len(value) for name, value in headers) > self.max_header_bytes:
            raise TooLarge(HEADERS_TOO_LARGE, self.max_header_bytes)

    async def read_body(self, request: Incoming) -> bytes:
        """The body, read no further than the limit: a declared or streamed excess is refused unread.

        The outcome is kept in the request's scope, so a second reader (the
        journal) gets the same body, or the same refusal, without reading again.
        """
        return await read_once(request, _READ, lambda: self._read(request), TooLarge)

    async def _read(self, request: Incoming) -> bytes:
        limit = self.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise TooLarge(PAYLOAD_TOO_LARGE, limit)
        chunks: list[bytes] = []
        size = 0
        while (chunk := await request.chunk()) is not None:
            size += len(chunk)
            if size > limit:  # chunked bodies declare no length
                raise TooLarge(PAYLOAD_TOO_LARGE, limit)
            chunks.append(chunk)
        return b"".join(chunks)
