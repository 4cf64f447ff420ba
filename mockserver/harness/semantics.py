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
import pickle
import subprocess
import sys
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import orjson
import schemathesis
import tomli_w
from schemathesis import Case
from schemathesis.config import SchemathesisConfig
from schemathesis.core.deserialization import deserialize_yaml
from schemathesis.schemas import BaseSchema

from mockserver.harness.model import ContractModel
from mockserver.harness.settings import PHASES, Settings, spec_at
from mockserver.harness.target import Target, find_model
from mockserver.spec import cache
from mockserver.spec.model import CertificationCheck
from mockserver.spec.openapi import ApiSpec, Operation

# schemathesis' own defaults for positive_data_acceptance and negative_data_rejection
ACCEPTED_BY_DEFAULT = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
REJECTED_BY_DEFAULT = ["400", "401", "403", "404", "405", "406", "409", "415", "422", "428", "429", "5xx"]


def refusals(model: ContractModel, operation: Operation) -> set[int]:
    """Statuses with which the operation's declared rules refuse a schema-valid request."""
    statuses = set()
    for rule in operation.mock.rules:
        if rule.respond is not None:
            statuses.add(rule.respond.status)
        else:
            statuses.add(model.validation_status(operation))
    if operation.mock.action == "login" and operation.mock.failure is not None:
        statuses.add(operation.mock.failure.status)
    if operation.mock.gather is not None:  # a create with nothing to gather
        statuses.add(operation.mock.gather.none.status)
    if operation.mock.not_found is not None:  # a record the body names may not exist (an `exists` rule's 422)
        statuses.add(operation.mock.not_found.status)
    if operation.mock.not_found_error is not None:  # the same, as the field's validation error
        statuses.add(model.validation_status(operation))
    return statuses


def with_extra(defaults: list[str], extra: set[int]) -> list[str]:
    return defaults + sorted({str(status) for status in extra} - set(defaults))


def soft_deleted_paths(spec: ApiSpec) -> list[str]:
    return [op.path for op in spec.operations if op.mock.action == "delete" and op.mock.soft]


def revokes_credentials(operation: Operation) -> bool:
    return operation.mock.action == "logout"


def certification_checks(declared: Mapping[str, CertificationCheck]) -> dict[str, dict[str, Any]]:
    """Check settings declared under `x-certification` (the loader has checked each gives a reason)."""
    return {name: dict(check.settings) for name, check in declared.items()}


def schemathesis_config(model: ContractModel, seed: int, max_examples: int) -> dict[str, Any]:
    spec = model.spec
    # Operations with the same check settings share one section. schemathesis matches every operation
    # against every section each time it looks up a setting: with a section per operation (some 250 of
    # the 309) collecting the two suites made 433,000 filter matches, 3 of the 10 s it took.
    sections: dict[str, dict[str, Any]] = {}
    soft = soft_deleted_paths(spec)
    for op in spec.operations:
        checks: dict[str, Any] = {}
        too_large = model.size_refusals(op)
        extra = refusals(model, op) | too_large
        if extra:
            checks["positive_data_acceptance"] = {"expected-statuses": with_extra(ACCEPTED_BY_DEFAULT, extra)}
        if too_large:
            checks["negative_data_rejection"] = {"expected-statuses": with_extra(REJECTED_BY_DEFAULT, too_large)}
        if any(op.path == path or op.path.startswith(path + "/") for path in soft):
            # The record stays readable after its DELETE: a soft delete by declaration.
            checks["use_after_free"] = {"enabled": False}
        for name, settings in certification_checks(op.certification).items():
            checks.setdefault(name, {}).update(settings)
        if checks:
            section = sections.setdefault(json.dumps(checks, sort_keys=True), {"include-name": [], "checks": checks})
            section["include-name"].append(f"{op.method} {op.path}")
    return {
        "seed": seed,
        "checks": certification_checks(spec.certification),
        "generation": {
            "max-examples": max_examples,
            "mode": "all",
            # An API that ignores unknown query parameters rightly accepts them.
            "allow-extra-parameters": spec.mock.unknown_parameters != "ignored",
        },
        "operations": list(sections.values()),
    }


def load_schema(name: str, settings: Settings) -> BaseSchema:
    """The schemathesis schema of one API, configured from its spec's declarations."""
    model = find_model(name, settings.spec)
    spec = model.spec
    config = schemathesis_config(model, settings.seed, settings.max_examples)
    config["phases"] = {phase: {"enabled": phase in settings.phases} for phase in PHASES}
    schema: BaseSchema = schemathesis.openapi.from_dict(
        schemathesis_document(spec.source), config=SchemathesisConfig.from_dict(config)
    )
    schema.location = spec.source.absolute().as_uri()  # what `from_path` would say: `api_of` reads it
    # Narrowed with `exclude`: once the config has per-operation sections, schemathesis 4 tests every
    # operation whatever `include` says (measured: include(method=["GET"]) still yielded all 147).
    chosen = {
        (op.method, op.path)
        for op in spec.operations
        if not settings.operations or op.operation_id in settings.operations
    }
    if settings.read_only:
        chosen = {(method, path) for method, path in chosen if method in ("GET", "HEAD")}
    if len(chosen) < len(spec.operations):
        schema = schema.exclude(func=lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) not in chosen)
    revoking = {(op.method, op.path) for op in spec.operations if revokes_credentials(op)}
    if revoking and settings.base_url is not None and settings.login_body is None:
        # Logging out would revoke the only credential the suite was given.
        schema = schema.exclude(func=lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in revoking)
    return schema


def schemathesis_document(path: Path) -> dict[str, Any]:
    """A spec file as schemathesis reads it (its own YAML rules: a date or an `on` stays text), parsed once
    per text and kept in the on-disk cache beside the server's parsed specs.

    Parsing the Daftra spec this way took 1.3 s, the Facturación one 0.5 s: in every process that runs
    the suites (each pytest worker, each `mockserver contract`), before the first case.
    """
    text = path.read_bytes()
    key = cache.document_key(text, "schemathesis", schemathesis.__version__)
    stored = cache.read("schemathesis-documents", key)
    document = cache.loads(stored) if stored is not None else None
    if not isinstance(document, dict):
        document = json.loads(text) if path.suffix == ".json" else deserialize_yaml(text)
        cache.write("schemathesis-documents", key, pickle.dumps(document, protocol=pickle.HIGHEST_PROTOCOL))
    return document


def api_of(case: Case[Any]) -> str:
    """The API (spec name) a generated case belongs to: its schema was loaded from the spec's file."""
    location = case.operation.schema.location or ""
    return spec_at(Path(url2pathname(urlsplit(location).path))).name


def link_count(spec: ApiSpec, among: Collection[str] = ()) -> int:
    """The spec's OpenAPI links; with `among` (operationIds), only those from one of them to one of them."""
    chosen = set(among) or {op.operation_id for op in spec.operations}
    return sum(
        1
        for op in spec.operations
        if op.operation_id in chosen
        for response in op.responses.values()
        for link in (response.get("links") or {}).values()
        # an `operationRef` is not resolved here: counted, so the layer runs and schemathesis judges it
        if not isinstance(link, dict) or link.get("operationId", "") in chosen or "operationRef" in link
    )


def cli_config(target: Target, settings: Settings) -> dict[str, Any]:
    """A `schemathesis.toml` for the schemathesis CLI against one target."""
    config = schemathesis_config(target.model, settings.seed, settings.max_examples)
    login = target.model.login()
    if target.login_body is not None and login is not None:
        # Log in once and again whenever a 401 says the credential was revoked.
        config["auth"] = {
            "dynamic": {
                "openapi": {
                    login.scheme.name: {
                        "path": login.operation.path,
                        "payload": target.login_body,
                        "extract_selector": login.selector,
                    }
                }
            }
        }
    return config


def cli_command(
    target: Target,
    config: dict[str, Any],
    workdir: Path,
    phases: str,
    schema: str | None = None,
    options: Sequence[str] = (),
) -> list[str]:
    """The schemathesis CLI command for a target, its `config` written to `WORKDIR/schemathesis.toml`.

    It tests `schema` (a path or URL; by default the spec's file, sent to the
    target's URL) and reports to `WORKDIR/junit.xml`.
    """
    config_path = workdir / "schemathesis.toml"
    config_path.write_text(tomli_w.dumps(config))
    where = [schema] if schema is not None else [str(target.spec.source), "--url", target.base_url]
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(config_path),
        "run",
        *where,
        "--phases",
        phases,
        "--mode",
        "all",
        *options,
        "--report",
        "junit",
        "--report-junit-path",
        str(workdir / "junit.xml"),
        "--no-color",
    ]
    login = target.model.login() if "auth" in config else None
    # dynamic auth brings its own credential, in the header(s) its login scheme presents it in
    dynamic = {name.lower() for name in login.scheme.present("")} if login is not None else set()
    for name, value in target.headers.items():
        if name.lower() not in dynamic:
            command += ["-H", f"{name}: {value}"]
    revoking = [op.operation_id for op in target.spec.operations if revokes_credentials(op)]
    if revoking and target.login_body is None:
        for operation_id in revoking:  # logging out would revoke the only credential given
            command += ["--exclude-operation-id", operation_id]
    return command


def run_cli(target: Target, settings: Settings, phases: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    """Run the schemathesis CLI (its own engine) against a target.

    The caller reads the exit code, and the failures from `WORKDIR/junit.xml`.
    """
    chosen = [option for operation_id in settings.operations for option in ("--include-operation-id", operation_id)]
    # The spec as JSON, from the parse the suites share: the CLI reads it in milliseconds, the YAML in a second.
    document = workdir / f"{target.spec.name}.json"
    document.write_bytes(orjson.dumps(schemathesis_document(target.spec.source)))
    options = ["--url", target.base_url, *chosen]
    command = cli_command(target, cli_config(target, settings), workdir, phases, schema=str(document), options=options)
    calls = workdir / "calls.ndjson"
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "mockserver.harness.cli_hooks",
        "MOCKSERVER_CONTRACT_CALL_LOG": str(calls),
    }
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=workdir, env=env)
    if calls.exists():
        for line in calls.read_text(encoding="utf-8").splitlines():
            call = json.loads(line)
            target.remember(call["method"], call["path"], call["status"], call["body"].encode())
    return result
