"""The baseline: the least a Starlette app on uvicorn can do for a request.

It reads the body, parses it as JSON when there is one, and answers a fixed
JSON document. Whatever the mock costs beyond this is the mock's own work.
"""

from __future__ import annotations

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

FIXED = orjson.dumps({"success": True, "message": "ok", "data": {"id": 1, "name": "fixed"}})


async def answer(request: Request) -> Response:
    raw = await request.body()
    if raw:
        orjson.loads(raw)
    return Response(FIXED, status_code=201 if request.method == "POST" else 200, media_type="application/json")


app = Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])])
