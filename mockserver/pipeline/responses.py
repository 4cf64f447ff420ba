"""What the mock answers: replies, their templates, and JSON rendering."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.responses import Response

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


def to_response(reply: Reply, head_only: bool = False) -> Response:
    if reply.body is None:
        return Response(status_code=reply.status, headers=reply.headers)
    if isinstance(reply.body, bytes):  # a file (x-mock.file): its headers name its type
        response = Response(reply.body, status_code=reply.status, headers=reply.headers)
        if head_only:
            response.body = b""
        return response
    response = JSONResponse(reply.body, status_code=reply.status, headers=reply.headers)
    if head_only:
        response.body = b""
    return response


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
