"""What the mock answers: replies, their templates, and JSON rendering."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import Send

from mockserver.expressions.templates import Context, Render, compile_template
from mockserver.spec.model import ReplyDecl
from mockserver.spec.openapi import Operation


class Reply(Exception):
    """A finished answer. Raised from anywhere in the pipeline to stop it there."""

    def __init__(self, status: int, body: Any = None, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})

    def caught(self) -> Reply:
        """This reply, caught to be sent, without the traceback and context its raising attached.

        The pipeline keeps a caught reply (answered, journaled): its traceback holds the frames it passed
        through, and the frame that caught it holds the reply, a cycle only the cyclic collector frees. A
        duplicate create (a rule's 400, raised) left 42 such objects a request, whose collections gave that
        workload's p99 7.8 times its p50 (bench/results.md, issue 17).
        """
        self.__traceback__ = self.__context__ = self.__cause__ = None
        return self


def dumps(content: Any, *, indent: bool = False) -> bytes:
    """JSON bytes by orjson, or by the standard library for what orjson refuses (integers beyond 64 bits)."""
    try:
        return orjson.dumps(content, option=orjson.OPT_INDENT_2 if indent else None)
    except TypeError:  # integers beyond 64 bits, echoed from a request or coerced from a numeric string
        if indent:
            return json.dumps(content, ensure_ascii=False, indent=2).encode()
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


@dataclass(slots=True)
class Encoded:
    """A reply as it goes out: status, header list and body bytes, as Starlette's `Response` would send it."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    async def send(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})

    def as_response(self) -> Response:
        """The same answer as a Starlette `Response`, for a request that came through Starlette's router."""
        response = Response(status_code=self.status)
        response.body, response.raw_headers = self.body, self.headers
        return response


_JSON_TYPE = (b"content-type", b"application/json")


def encode(reply: Reply, head_only: bool = False) -> Encoded:
    """The reply's bytes and headers, as `Response`/`JSONResponse` wrote them, without building one.

    What `Response.init_headers` adds, added the same way: a content-length (none for 1xx, 204 and 304)
    and, for JSON, a content-type, each unless the reply's own headers name it. A HEAD answer keeps the
    length of the body it leaves out.
    """
    status = reply.status
    body = reply.body
    is_json = body is not None and not isinstance(body, bytes)
    content = b"" if body is None else body if isinstance(body, bytes) else dumps(body)
    headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in reply.headers.items()]
    names = {name for name, _ in headers} if headers else ()
    if b"content-length" not in names and not (status < 200 or status in (204, 304)):
        headers.append((b"content-length", str(len(content)).encode("latin-1")))
    if is_json and b"content-type" not in names:
        headers.append(_JSON_TYPE)
    return Encoded(status, headers, b"" if head_only and body is not None else content)


@dataclass
class ReplyTemplate:
    """A status, headers and a compiled body template."""

    status: int
    body: Render
    headers: dict[str, str] = field(default_factory=dict)

    def __call__(self, context: Context) -> Reply:
        return Reply(self.status, self.body(context), self.headers)


def reply_template(declared: ReplyDecl, operation: Operation | None = None) -> ReplyTemplate:
    """Build a reply from `{status, body?, example?, headers?}`.

    Without a `body`, the reply is the operation's documented example for that
    status (the named one, or the first), so documented messages are written
    once, in the spec's examples. The loader has checked that the example
    exists (`mockserver.spec.checks`), and that a reply outside any operation
    has a body (the schema's `reply_with_body`).
    """
    status = declared.status
    headers = dict(declared.headers)
    if declared.has_body or operation is None:
        schema = operation.response_schema(status) if operation else None
        return ReplyTemplate(status, compile_template(declared.body, schema), headers)
    examples = operation.examples(status)
    value = examples[declared.example] if declared.example is not None else next(iter(examples.values()))
    return ReplyTemplate(status, lambda context: value, headers)
