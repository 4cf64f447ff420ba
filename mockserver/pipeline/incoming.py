"""A request as the pipeline reads it, taken straight from the ASGI scope.

Starlette's `Request` built its `URL` (a string put together and split
again by `urllib`), its `Headers` (a list walked on every look-up) and its
query and cookies anew for each reader; this reads each of them once, and
the path and query as cheaply as the scope allows. What every reader gets
is exactly what Starlette's objects gave, quirks included (see `_plain`).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import URL, Headers, QueryParams
from starlette.requests import ClientDisconnect, cookie_parser
from starlette.types import Receive, Scope

__all__ = ["ClientDisconnect", "Incoming", "RequestHeaders"]

#: a path Starlette's `URL` gives back unchanged: it escapes `?`, `#` and `\`, and urllib drops or strips
#: control characters and spaces, so a path holding any of those is read through `URL` itself
_PLAIN_PATH = re.compile(r"[^\x00-\x20?#\\]*")
#: a query string `URL` gives back unchanged (printable ASCII: nothing to strip, nothing to decode)
_PLAIN_QUERY = re.compile(rb"[\x21-\x7e]*")
#: a host header `URL` takes as it is (a narrower form than Starlette's: ports of at most four digits are
#: valid ones, and no IPv6 literal to check); any other is read through `URL`
_HOST = re.compile(r"[A-Za-z0-9.-]+(?::[0-9]{1,4})?")
_NO_QUERY = QueryParams(b"")


class RequestHeaders(Headers):
    """Starlette's `Headers`, with a name's first value found in a dict built once rather than by a walk of
    the list on every look-up (7-10 look-ups a request; the walk was ~3% of a create's CPU)."""

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        super().__init__(raw=raw)
        # reversed, so the first of a repeated header is the one kept, as Starlette's look-up finds it
        self._first = {name.decode("latin-1"): value.decode("latin-1") for name, value in reversed(raw)}

    def __getitem__(self, key: str) -> str:
        return self._first[key.lower()]

    def __contains__(self, key: Any) -> bool:
        return isinstance(key, str) and key.lower() in self._first

    def get(self, key: str, default: Any = None) -> Any:
        return self._first.get(key.lower(), default)


class Incoming:
    """One request: method, path, query, headers and cookies read from the scope once; the body streamed."""

    __slots__ = ("_cookies", "_query", "_receive", "_consumed", "headers", "method", "path", "query", "scope")

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.scope = scope
        self._receive = receive
        self._consumed = False
        self._query: QueryParams | None = None
        self._cookies: dict[str, str] | None = None
        self.method: str = scope["method"]
        self.headers = RequestHeaders(scope["headers"])
        path: str = scope["path"]
        query_string: bytes = scope.get("query_string", b"")
        if _plain(scope, self.headers.get("host")):
            #: the path and the (undecoded) query as Starlette's `request.url` gave them
            self.path, self.query = path, query_string.decode()
        else:
            url = URL(scope=scope)
            self.path, self.query = url.path, url.query

    @property
    def origin(self) -> str:
        """The scheme and host the caller addressed, for links back to this server."""
        scope = self.scope
        host = self.headers.get("host")
        if host is not None and _HOST.fullmatch(host):
            return f"{scope.get('scheme', 'http')}://{host}"
        url = URL(scope=scope)
        return f"{url.scheme}://{url.netloc}"

    @property
    def query_params(self) -> QueryParams:
        if self._query is None:
            query_string = self.scope.get("query_string", b"")
            # most requests have none: one empty (and immutable) QueryParams serves them all (~5 µs each)
            self._query = QueryParams(query_string) if query_string else _NO_QUERY
        return self._query

    @property
    def cookies(self) -> dict[str, str]:
        if self._cookies is None:
            cookies: dict[str, str] = {}
            for header in self.headers.getlist("cookie"):
                cookies.update(cookie_parser(header))
            self._cookies = cookies
        return self._cookies

    async def chunk(self) -> bytes | None:
        """The body's next chunk as it arrives, None once all of it has; a hang-up is ClientDisconnect.

        A coroutine called per chunk rather than Starlette's async generator, whose machinery was ~2% of a
        create's CPU; as there, empty chunks are skipped.
        """
        while not self._consumed:
            message = await self._receive()
            if message["type"] == "http.request":
                if not message.get("more_body", False):
                    self._consumed = True
                body: bytes = message.get("body", b"")
                if body:
                    return body
            elif message["type"] == "http.disconnect":
                raise ClientDisconnect()
        return None


def _plain(scope: Scope, host: str | None) -> bool:
    """Whether Starlette's `URL` would give the path and query back as the scope holds them.

    `URL` puts the host (else the server's address) before the path and splits the whole again; a host it
    takes cannot hold `/`, `?` or `#`, so it changes nothing of the path. With neither a host it takes nor
    a server address it writes the path alone, and a path starting `//` is changed.
    """
    path: str = scope["path"]
    if _PLAIN_PATH.fullmatch(path) is None or _PLAIN_QUERY.fullmatch(scope.get("query_string", b"")) is None:
        return False
    return scope.get("server") is not None or (host is not None and _HOST.fullmatch(host) is not None)
