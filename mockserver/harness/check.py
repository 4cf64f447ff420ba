"""`mockserver check`: everything a spec promises, checked before anyone relies on it.

The static checks live in `spec.check`; this module adds the one that needs
a server: each documented request example, sent to a mock serving the spec
with its fixtures, must get the answer the spec documents for it.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx

from mockserver.config import ServerConfig
from mockserver.errors import SpecError
from mockserver.harness.model import ContractModel
from mockserver.harness.target import seed_credentials
from mockserver.server.app import MockApp, create_app
from mockserver.spec.check import (
    Lines,
    example_problems,
    fixture_problems,
    link_problems,
    locate,
    openapi_problems,
)
from mockserver.spec.loader import discover_specs, load_yaml
from mockserver.spec.openapi import ApiSpec, Operation, load_spec


def spec_files(paths: Iterable[Path]) -> list[Path]:
    """The spec files named, the folders among them replaced by the specs they hold."""
    return [spec for path in paths for spec in (discover_specs(path) if path.is_dir() else [path])]


def parameter_example(parameter: dict[str, Any]) -> Any:
    schema = parameter.get("schema") or {}
    for value in (parameter.get("example"), *(e.get("value") for e in (parameter.get("examples") or {}).values())):
        if value is not None:
            return value
    return schema.get("example", (schema.get("examples") or [None])[0])


def expected_status(operation: Operation, name: str) -> int:
    """The status a request example is documented to get.

    A named request example answers with the response that has an example of
    the same name; any other example gets the operation's success (the
    status its `x-mock.response` declares).
    """
    for status, response in operation.responses.items():
        named = (response.get("content") or {}).get("application/json", {}).get("examples") or {}
        if name in named and status.isdigit():
            return int(status)
    return operation.mock.response.status


def request_examples(operation: Operation) -> Iterator[tuple[str, Any, list[str | int]]]:
    """Each documented request body example: its name, its value and where it sits."""
    media = operation.request_media()
    where: list[str | int] = ["paths", operation.path, operation.method.lower(), "requestBody"]
    where += ["content", "application/json"]
    if "example" in media:
        yield "example", media["example"], [*where, "example"]
    for name, example in (media.get("examples") or {}).items():
        if "value" in example:
            yield name, example["value"], [*where, "examples", name, "value"]


def _credentials(app: MockApp, spec: ApiSpec) -> dict[str, str]:
    """The seeded credential the contract harness would use; none when the fixtures offer none.

    Without one, the examples of protected operations are refused, and that is reported.
    """
    api = app.state.server.api(spec.name)
    return seed_credentials(ContractModel(api))[0] if api is not None else {}


async def _send_examples(spec: ApiSpec, app: MockApp) -> list[SpecError]:
    problems: list[SpecError] = []
    try:
        headers = _credentials(app, spec)
    except SpecError as exc:  # a seeded credential that cannot be used: the examples go without one
        problems += exc.problems
        headers = {}
    session_header = app.state.server.config.session_header
    sessions = itertools.count()
    transport = httpx.ASGITransport(app=app)
    written = spec.raw  # a fresh copy each time it is read: one for every example
    async with httpx.AsyncClient(transport=transport, base_url="http://mockserver.check") as mock:
        for operation in spec.operations:
            for name, body, parts in request_examples(operation):
                _, where = locate(written, parts)
                params = {p["name"]: parameter_example(p) for p in operation.parameters}
                missing = sorted(param for param in operation.parameter_names("path") if params[param] is None)
                if missing:
                    reason = f"path parameter {', '.join(missing)} has no example to send this request example with"
                    problems.append(SpecError(reason, file=spec.source, pointer=where))
                    continue
                query = {
                    p["name"]: params[p["name"]]
                    for p in operation.parameters
                    if p.get("in") == "query" and p.get("required")
                }
                # A session of its own: each example meets the fixtures as seeded, not what earlier ones changed.
                own = {**headers, session_header: f"check-{next(sessions)}"}
                response = await mock.request(
                    operation.method,
                    operation.path.format(**params),
                    json=body,
                    params=query,
                    headers=own,
                )
                expected = expected_status(operation, name)
                if response.status_code != expected:
                    reason = (
                        f"request example answered {response.status_code}, documented {expected}: {response.text[:300]}"
                    )
                    problems.append(SpecError(reason, file=spec.source, pointer=where))
    return problems


def check(paths: Iterable[Path], fixtures_dir: Path) -> list[SpecError]:
    """Every problem found in those specs (and their fixtures), each placed at its file, line and pointer.

    Each file is read once; its request examples go to an in-process mock serving that spec alone.
    """
    problems: list[SpecError] = []
    for path in spec_files(paths):
        try:
            raw = load_yaml(path)
        except SpecError as exc:  # not YAML, or a repeated key: nothing further can be read
            problems.append(exc)
            continue
        if not isinstance(raw, dict):
            problems.append(SpecError("not an OpenAPI document (not a mapping)", file=path))
            continue
        problems += openapi_problems(raw, path)
        problems += example_problems(raw, path)
        try:
            spec = load_spec(path, raw)
        except SpecError as exc:  # x-mock: whatever the loader refuses, each problem on its own
            problems += exc.at(file=path).problems
            continue
        problems += link_problems(spec)
        problems += fixture_problems(spec, fixtures_dir)
        try:
            app = create_app(ServerConfig(fixtures_dir=fixtures_dir, reload=False), specs=[spec])
        except SpecError as exc:  # x-mock the server refuses while it builds the behaviours, or its fixtures
            problems += exc.at(file=path).problems
            continue
        problems += asyncio.run(_send_examples(spec, app))
        for profile in spec.mock.profiles:  # each realism profile's patched operations must load and build too
            try:
                patched = load_spec(path, raw, profile=profile)
                create_app(ServerConfig(fixtures_dir=fixtures_dir, reload=False, profile=profile), specs=[patched])
            except SpecError as exc:
                problems += [problem.at(file=path) for problem in exc.problems]
    return _placed(problems)


def _placed(problems: list[SpecError]) -> list[SpecError]:
    """The problems with their lines, each once (an aliased node is met at every place it is used)."""
    lines: dict[str, Lines] = {}
    placed: dict[str, SpecError] = {}
    for problem in problems:
        file = problem.file or ""
        if file not in lines:
            lines[file] = Lines.of(Path(file))
        located = lines[file].place(problem)
        placed.setdefault(located.located(), located)
    return list(placed.values())
