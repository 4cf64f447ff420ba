"""OpenAPI-driven, stateful API mock server."""

from mockserver.server.app import create_app

__all__ = ["create_app"]
