"""What a spec's `x-mock` declarations mean for the generic checks.

Some schemathesis checks need to know what an operation means, and the spec
says it: a DELETE that only deactivates leaves the record readable, so
`use_after_free` does not apply to that resource's paths; a valid body that
hits a declared unique key or an inactive parent is rightly refused with the
declared status, so `positive_data_acceptance` accepts that status for that
operation; a body over the size limit is refused with the 413 the operation
documents whether it is valid or not, so both data checks accept it there.
Nothing is switched off globally.

What no `x-mock` declaration implies is written under `x-certification`, at
the document's root or on the operation it concerns: the schemathesis
settings of a check, always with the `reason` the API's documentation gives.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import schemathesis
import tomli_w
from schemathesis import Case
from schemathesis.config import SchemathesisConfig
from schemathesis.schemas import BaseSchema

from mockserver.errors import SpecError
from mockserver.harness.settings import Settings
from mockserver.harness.target import Target, find_spec, login_route
from mockserver.spec.openapi import ApiSpec, Operation

# schemathesis' own defaults for positive_data_acceptance and negative_data_rejection
ACCEPTED_BY_DEFAULT = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
REJECTED_BY_DEFAULT = ["400", "401", "403", "404", "405", "406", "409", "415", "422", "428", "429", "5xx"]
#: the engine's answers to a request over a size limit (mockserver/limits.py), whatever it says
SIZE_LIMITS = {"payload_too_large": 413, "uri_too_long": 414, "headers_too_large": 431}


def validation_status(spec: ApiSpec, operation: Operation) -> int:
    declared = (
        (operation.mock.get("errors") or {}).get("validation") or spec.mock.get("errors", {}).get("validation") or {}
    )
    return int(declared.get("status", 422))


def refusals(spec: ApiSpec, operation: Operation) -> set[int]:
    """Statuses with which the operation's declared rules refuse a schema-valid request."""
    statuses = set()
    for rule in operation.mock.get("rules") or []:
        if "respond" in rule:
            statuses.add(int(rule["respond"]["status"]))
        elif "error" in rule:
            statuses.add(validation_status(spec, operation))
    if operation.mock.get("action") == "login":
        statuses.add(int(operation.mock["failure"]["status"]))
    return statuses


def size_refusals(spec: ApiSpec, operation: Operation) -> set[int]:
    """The size-limit statuses the operation documents: a valid or invalid request alike gets one when too large."""
    errors = spec.mock.get("errors") or {}
    statuses = {int((errors.get(name) or {}).get("status", status)) for name, status in SIZE_LIMITS.items()}
    return {status for status in statuses if str(status) in operation.responses}


def with_extra(defaults: list[str], extra: set[int]) -> list[str]:
    return defaults + sorted({str(status) for status in extra} - set(defaults))


def soft_deleted_paths(spec: ApiSpec) -> list[str]:
    return [op.path for op in spec.operations if op.mock.get("action") == "delete" and op.mock.get("soft")]


def revokes_credentials(operation: Operation) -> bool:
    return operation.mock.get("action") == "logout"


def certification_checks(node: dict[str, Any], where: str) -> dict[str, dict[str, Any]]:
    """Check settings declared under a node's `x-certification`; each must say why."""
    checks = {}
    for name, declared in ((node.get("x-certification") or {}).get("checks") or {}).items():
        settings = dict(declared or {})
        if not str(settings.pop("reason", "") or "").strip():
            raise SpecError(f"{where}: x-certification of {name} gives no reason")
        checks[name] = settings
    return checks


def schemathesis_config(spec: ApiSpec, seed: int, max_examples: int) -> dict[str, Any]:
    operations = []
    soft = soft_deleted_paths(spec)
    for op in spec.operations:
        checks: dict[str, Any] = {}
        too_large = size_refusals(spec, op)
        extra = refusals(spec, op) | too_large
        if extra:
            checks["positive_data_acceptance"] = {"expected-statuses": with_extra(ACCEPTED_BY_DEFAULT, extra)}
        if too_large:
            checks["negative_data_rejection"] = {"expected-statuses": with_extra(REJECTED_BY_DEFAULT, too_large)}
        if any(op.path == path or op.path.startswith(path + "/") for path in soft):
            # The record stays readable after its DELETE: a soft delete by declaration.
            checks["use_after_free"] = {"enabled": False}
        node = spec.resolved["paths"][op.path][op.method.lower()]
        for name, settings in certification_checks(node, f"{op.method} {op.path}").items():
            checks.setdefault(name, {}).update(settings)
        if checks:
            operations.append({"include-name": f"{op.method} {op.path}", "checks": checks})
    return {
        "seed": seed,
        "checks": certification_checks(spec.resolved, spec.name),
        "generation": {
            "max-examples": max_examples,
            "mode": "all",
            # An API that ignores unknown query parameters rightly accepts them.
            "allow-extra-parameters": spec.mock.get("unknown_parameters") != "ignored",
        },
        "operations": operations,
    }


def load_schema(name: str, settings: Settings) -> BaseSchema:
    """The schemathesis schema of one API, configured from its spec's declarations."""
    spec = find_spec(name)
    config = SchemathesisConfig.from_dict(schemathesis_config(spec, settings.seed, settings.max_examples))
    schema = schemathesis.openapi.from_path(spec.source, config=config)
    if settings.read_only:
        schema = schema.include(method=["GET", "HEAD"])
    revoking = {(op.method, op.path) for op in spec.operations if revokes_credentials(op)}
    if revoking and settings.base_url is not None and settings.login_body is None:
        # Logging out would revoke the only credential the suite was given.
        schema = schema.exclude(func=lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in revoking)
    return schema


def api_of(case: Case) -> str:
    """The API (spec name) a generated case belongs to."""
    raw = case.operation.schema.raw_schema
    return (raw.get("x-mock") or {}).get("name") or raw["info"]["title"]


def link_count(spec: ApiSpec) -> int:
    return sum(len(r.get("links") or {}) for op in spec.operations for r in op.responses.values())


def cli_config(target: Target, settings: Settings) -> dict[str, Any]:
    """A `schemathesis.toml` for the schemathesis CLI against one target."""
    config = schemathesis_config(target.spec, settings.seed, settings.max_examples)
    if target.login_body is not None:
        # Log in once and again whenever a 401 says the credential was revoked.
        login, token_field = login_route(target.spec)
        scheme_name = next(iter(target.spec.security_schemes))
        config["auth"] = {
            "dynamic": {
                "openapi": {
                    scheme_name: {
                        "path": login.path,
                        "payload": target.login_body,
                        "extract_selector": "/" + token_field,
                    }
                }
            }
        }
    return config


def run_cli(target: Target, settings: Settings, phases: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    """Run the schemathesis CLI (its own engine) against a target.

    The caller reads the exit code, and the failures from `WORKDIR/junit.xml`.
    """
    config = cli_config(target, settings)
    config_path = workdir / "schemathesis.toml"
    config_path.write_text(tomli_w.dumps(config))
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(config_path),
        "run",
        str(target.spec.source),
        "--url",
        target.base_url,
        "--phases",
        phases,
        "--mode",
        "all",
        "--report",
        "junit",
        "--report-junit-path",
        str(workdir / "junit.xml"),
        "--no-color",
    ]
    for name, value in target.headers.items():
        if "auth" not in config or name.lower() != "authorization":  # dynamic auth brings its own
            command += ["-H", f"{name}: {value}"]
    revoking = [op.operation_id for op in target.spec.operations if revokes_credentials(op)]
    if revoking and target.login_body is None:
        for operation_id in revoking:  # logging out would revoke the only credential given
            command += ["--exclude-operation-id", operation_id]
    calls = workdir / "calls.ndjson"
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "mockserver.harness.cli_hooks", "CONTRACT_CALL_LOG": str(calls)}
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=workdir, env=env)
    if calls.exists():
        for line in calls.read_text(encoding="utf-8").splitlines():
            call = json.loads(line)
            target.remember(call["method"], call["path"], call["status"], call["body"].encode())
    return result
