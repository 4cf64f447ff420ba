"""The Starlette application: every spec in a folder, each under its own prefix."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.convertors import Convertor, register_url_convertor
from starlette.routing import Route

from .engine import MockApi
from .responses import JSONResponse
from .spec import discover_specs, load_spec

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPECS = PROJECT_ROOT / "specs"
DEFAULT_FIXTURES = PROJECT_ROOT / "fixtures"
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]


class AnyPath(Convertor[str]):
    """Every path, control characters included: unknown paths are the APIs' to answer."""

    regex = r"[\s\S]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("anypath", AnyPath())


def load_apis(specs_dir: Path, fixtures_dir: Path, locale: str | None = None) -> list[MockApi]:
    apis = [MockApi(load_spec(path), fixtures_dir, locale) for path in discover_specs(specs_dir)]
    # Longest prefix first, so /api2 is not taken for /api.
    return sorted(apis, key=lambda api: len(api.prefix), reverse=True)


class Dispatcher:
    """Hands each request to the API whose prefix owns its path."""

    def __init__(self, apis: list[MockApi]) -> None:
        self.apis = apis

    async def dispatch(self, request: Request) -> Response:
        path = request.url.path
        for api in self.apis:
            if api.owns(path):
                return await api.handle(request)
        if path.startswith("/__mock/health"):
            return JSONResponse({"status": "ok", "apis": [api.name for api in self.apis]})
        return JSONResponse(
            {
                "message": f"No API is served at {path}",
                "apis": [{"name": api.name, "prefix": api.prefix, "title": api.spec.raw["info"]["title"]} for api in self.apis],
            },
            status_code=404 if path != "/" else 200,
        )


def create_app(
    specs_dir: Path = DEFAULT_SPECS,
    fixtures_dir: Path = DEFAULT_FIXTURES,
    locale: str | None = None,
) -> Starlette:
    dispatcher = Dispatcher(load_apis(Path(specs_dir), Path(fixtures_dir), locale))
    app = Starlette(routes=[Route("/{path:anypath}", dispatcher.dispatch, methods=ALL_METHODS)])
    app.state.apis = dispatcher.apis
    return app
