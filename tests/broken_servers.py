"""Deliberately broken servers that the contract harness must catch.

Each fault is the real mock with one deviation switched on: a change to the
spec it serves (the harness still checks against the true spec), or a thin
ASGI layer in front of it. `uvicorn --factory broken_servers:app` serves the
fault named by the `BROKEN_FAULT` environment variable.
"""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.config import ServerConfig
from mockserver.harness.target import find_model, find_spec, seed_credentials
from mockserver.server.app import DEFAULT_SPECS, create_app
from mockserver.spec.openapi import load_spec

Raw = dict[str, Any]


@dataclass(frozen=True)
class Fault:
    api: str
    #: the check whose name the harness's report must show
    check: str
    #: the contract layer that catches it
    layer: str
    change_spec: Callable[[Raw], None] | None = None
    wrap: Callable[[ASGIApp], ASGIApp] | None = None
    #: the operations the run is narrowed to (`mockserver contract --operation`); all when empty
    operations: tuple[str, ...] = ()
    #: cases per operation (`--max-examples`), where the suite's default is too few to meet the fault: the
    #: stateful search is seeded, and at 25 its walk over Daftra's client operations never reads a deleted client
    max_examples: int | None = None


def _operation(raw: Raw, operation_id: str) -> Raw:
    return next(
        op
        for item in raw["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and op.get("operationId") == operation_id
    )


def _walk(node: Any, visit: Callable[[Raw], None]) -> None:
    if isinstance(node, dict):
        visit(node)
        for value in node.values():
            _walk(value, visit)
    elif isinstance(node, list):
        for value in node:
            _walk(value, visit)


def _wrong_status(raw: Raw) -> None:
    operation = _operation(raw, "createClient")
    operation["x-mock"]["response"]["status"] = 200
    # the served copy documents 200 so it loads; the suite checks against the bundled spec, which does not
    operation["responses"]["200"] = operation["responses"]["201"]


def _missing_field(raw: Raw) -> None:
    del _operation(raw, "getClient")["x-mock"]["response"]["body"]["result"]


def _wrong_type(raw: Raw) -> None:
    _operation(raw, "createClient")["x-mock"]["response"]["body"]["id"] = "${record.id}"


def _duplicates_accepted(raw: Raw) -> None:
    mock = _operation(raw, "createClient")["x-mock"]
    mock["rules"] = [rule for rule in mock.get("rules") or [] if "unique" not in rule]


def _wrong_envelope(raw: Raw) -> None:
    for error in raw["x-mock"]["errors"].values():
        error["body"] = {"error": "request refused"}


def _server_error_on_bad_input(raw: Raw) -> None:
    def visit(node: Raw) -> None:
        if isinstance(node.get("errors"), dict) and isinstance(node["errors"].get("validation"), dict):
            node["errors"]["validation"]["status"] = 500

    _walk(raw, visit)


def _deleted_still_readable(raw: Raw) -> None:
    """Every delete answers success but keeps the record (it only touches a field).

    All of them, so the stateful run meets one whatever path it takes through a large spec.
    """
    for item in raw["paths"].values():
        for operation in item.values():
            mock = operation.get("x-mock") if isinstance(operation, dict) else None
            if mock and mock.get("action") == "delete" and not mock.get("soft"):
                mock["soft"] = {"modified": "${now}"}


def _any_credential_accepted(app: ASGIApp) -> ASGIApp:
    """Checks that a credential is present, not that it is valid: every presented one becomes the seeded one."""
    valid = {
        name.lower().encode(): value.encode() for name, value in seed_credentials(find_model("facturacion"))[0].items()
    }

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = dict(scope, headers=[(k, valid.get(k, v)) for k, v in scope["headers"]])
        await app(scope, receive, send)

    return wrapped


#: Each API's client operations: a run over them alone meets each fault in seconds, not minutes
CLIENT_OPERATIONS = ("listClients", "createClient", "getClient", "editClient", "deleteClient")
FACTURACION_CLIENTS = ("listClients", "createClient", "getClient", "updateClient", "deactivateClient")

FAULTS = {
    "wrong status code": Fault(
        "facturacion", "status_code_conformance", "conformance", change_spec=_wrong_status, operations=("createClient",)
    ),
    "missing required field": Fault(
        "daftra", "response_schema_conformance", "conformance", change_spec=_missing_field, operations=("getClient",)
    ),
    "wrong type": Fault(
        "daftra", "response_schema_conformance", "conformance", change_spec=_wrong_type, operations=("createClient",)
    ),
    "duplicate accepted": Fault(
        "facturacion", "unique_key", "rules", change_spec=_duplicates_accepted, operations=FACTURACION_CLIENTS
    ),
    "credentials ignored": Fault(
        "facturacion", "ignored_auth", "conformance", wrap=_any_credential_accepted, operations=FACTURACION_CLIENTS
    ),
    "wrong error envelope": Fault(
        "daftra", "response_schema_conformance", "rules", change_spec=_wrong_envelope, operations=CLIENT_OPERATIONS
    ),
    "500 on bad input": Fault(
        "facturacion",
        "not_a_server_error",
        "conformance",
        change_spec=_server_error_on_bad_input,
        operations=FACTURACION_CLIENTS,
    ),
    "deleted record still readable": Fault(
        "daftra",
        "use_after_free",
        "stateful",
        change_spec=_deleted_still_readable,
        # the three a use-after-free takes: among all five client operations, 40 cases found the
        # create -> delete -> read under some seeds and not others (2 of 3 tried; 6 of 6 with these three)
        operations=("createClient", "deleteClient", "getClient"),
        max_examples=40,
    ),
}


def changed_in_process(api: str, change_spec: Callable[[Raw], None] | None) -> ASGIApp:
    """The mock serving `api` alone, its spec changed in memory (no files to write and read back)."""
    spec = find_spec(api)
    raw = copy.deepcopy(spec.raw)
    if change_spec is not None:
        change_spec(raw)
    return create_app(ServerConfig(reload=False), specs=[load_spec(spec.source, raw)])


def facturacion_alone(folder: Path) -> Path:
    """A specs folder with Facturación's spec alone: a server that need not build Daftra's starts in a fraction of the time."""
    specs = folder / "specs"
    specs.mkdir()
    shutil.copy(DEFAULT_SPECS / "facturacion.yaml", specs)
    shutil.copytree(DEFAULT_SPECS / "templates", specs / "templates")
    return specs


def app() -> ASGIApp:
    fault = FAULTS[os.environ["BROKEN_FAULT"]]
    served = changed_in_process(fault.api, fault.change_spec)
    return fault.wrap(served) if fault.wrap is not None else served
