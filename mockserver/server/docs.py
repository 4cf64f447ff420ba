"""Each API's spec and interactive docs: `/<api>/openapi.json`, `/<api>/openapi.yaml`, `/<api>/docs`.

The served spec names this server first in `servers`, so Swagger UI's
"Try it out" calls the mock that served it. Swagger UI's files come from a
PyPI package and are served by the admin API, so the docs work offline.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from mockserver.pipeline.responses import JSONResponse
from mockserver.pipeline.routing import ALL_METHODS

if TYPE_CHECKING:
    from mockserver.pipeline.api import MockApi
    from mockserver.server.app import MockServer

Endpoint = Callable[[Request, "MockApi"], Awaitable[Response]]

_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title}</title>
  <link rel="stylesheet" href="/__mock/assets/swagger-ui/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/__mock/assets/swagger-ui/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{url: "/{name}/openapi.json", dom_id: "#swagger-ui", deepLinking: true}});
  </script>
</body>
</html>
"""


def routes(server: MockServer) -> list[Route]:
    def served_spec(request: Request, api: MockApi) -> dict[str, Any]:
        here = {"url": str(request.base_url).rstrip("/"), "description": "This mock server"}
        written = api.spec.raw
        return {**written, "servers": [here, *(s for s in written.get("servers", []) if s != here)]}

    async def spec_json(request: Request, api: MockApi) -> Response:
        return JSONResponse(served_spec(request, api))

    async def spec_yaml(request: Request, api: MockApi) -> Response:
        import yaml  # only when asked for: a start that finds every document in its cache needs no PyYAML

        return PlainTextResponse(
            yaml.safe_dump(served_spec(request, api), sort_keys=False, allow_unicode=True),
            media_type="application/yaml",
        )

    async def page(request: Request, api: MockApi) -> Response:
        return HTMLResponse(_PAGE.format(name=api.name, title=api.spec.title))

    def readable(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        """Only reads, and only of an API's name, are docs; everything else is the APIs' to answer."""

        async def read_or_dispatch(request: Request) -> Response:
            api = server.api(request.path_params["api"])
            if api is None or request.method not in ("GET", "HEAD"):
                return await server.endpoint(request)
            return await endpoint(request, api)

        return read_or_dispatch

    return [
        Route(f"/{{api}}/{name}", readable(endpoint), methods=ALL_METHODS)
        for name, endpoint in (("openapi.json", spec_json), ("openapi.yaml", spec_yaml), ("docs", page))
    ]
