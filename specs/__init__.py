"""The bundled OpenAPI documents: this folder is the package `mockserver.bundled.specs` (see setup.py)."""
