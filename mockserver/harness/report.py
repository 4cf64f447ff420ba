"""What a broken contract tells its reader.

Every failure, whoever found it (a schemathesis check in pytest, the
schemathesis CLI's stateful run, or a business-rule scenario), becomes a
`Finding`: the operation, the check that names the fault, what was expected
and what came back, and a curl command that reproduces it.
"""

from __future__ import annotations

import functools
import json
import re
import shlex
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from schemathesis.core.failures import Failure
from schemathesis.openapi import checks as _openapi_checks  # noqa: F401  (registers the OpenAPI failure kinds)

from mockserver.pipeline.masking import secret_header
from mockserver.server.journal import mask_body

_CURL = re.compile(r"^\s*(curl .+)$", re.MULTILINE)


@dataclass(frozen=True)
class Finding:
    operation: str
    check: str
    detail: str
    curl: str = ""

    def render(self) -> str:
        lines = [f"{self.operation}  [{self.check}]", *("    " + line for line in self.detail.strip().splitlines())]
        if self.curl:
            lines += ["  Reproduce with:", *("    " + line for line in self.curl.splitlines())]
        return "\n".join(lines)


class ContractFailed(AssertionError):
    """One or more findings, raised where a contract is checked."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("\n\n".join(finding.render() for finding in findings))
        self.findings = findings


_TRANSPORT_HEADERS = {"host", "content-length", "accept-encoding", "connection"}


def curl(request: httpx.Request) -> str:
    """A curl command for the request; credentials are shown as [Filtered], as schemathesis does, to keep them out of CI logs."""
    parts = ["curl", "-X", request.method]
    for name, value in request.headers.items():
        if name.lower() in _TRANSPORT_HEADERS:
            continue
        if secret_header(name):
            scheme, _, secret = value.partition(" ")
            value = f"{scheme} [Filtered]" if secret else "[Filtered]"  # keep "Bearer" as a hint
        parts += ["-H", f"{name}: {value}"]
    if request.content:
        # a JSON body's secret fields (a login's password) are masked as the journal masks them
        masked = mask_body(request.content)
        body = json.dumps(masked, ensure_ascii=False) if masked != _as_json(request.content) else None
        parts += ["-d", body or request.content.decode("utf-8", "replace")]
    parts.append(str(request.url))
    return shlex.join(parts)


def _as_json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return None


def expect(condition: bool, check: str, expected: str, response: httpx.Response) -> None:
    """Raise a finding about `response` unless `condition` holds."""
    if condition:
        return
    request = response.request
    actual = response.text if len(response.text) <= 600 else response.text[:600] + " …"
    raise ContractFailed(
        [
            Finding(
                operation=f"{request.method} {request.url.path}",
                check=check,
                detail=f"Expected: {expected}\nActual:   {response.status_code} {actual}",
                curl=curl(request),
            )
        ]
    )


@functools.cache
def _failure_kinds() -> dict[str, type[Failure]]:
    kinds: dict[str, type[Failure]] = {}
    pending = [Failure]
    while pending:
        kind = pending.pop()
        kinds.setdefault(kind.code, kind)
        pending.extend(kind.__subclasses__())
    return kinds


def check_name(code_or_kind: str | type[Failure]) -> str:
    """The check a schemathesis failure kind (or its stable ST code) comes from."""
    kind = _failure_kinds().get(code_or_kind) if isinstance(code_or_kind, str) else code_or_kind
    if kind is None or not kind.checks:
        return str(code_or_kind)
    return ", ".join(kind.checks)


def findings(exc: BaseException) -> list[Finding]:
    """The findings inside an exception raised by a contract test (empty when it is some other error)."""
    if isinstance(exc, ContractFailed):
        return exc.findings
    if isinstance(exc, Failure):
        return [Finding(exc.operation or "", check_name(type(exc)), f"{exc.title}\n{exc.message}")]
    if isinstance(exc, BaseExceptionGroup):
        # schemathesis puts the reproducing curl into the group's message and notes
        text = "\n".join([str(exc), *getattr(exc, "__notes__", [])])
        reproduce = "\n".join(_CURL.findall(text))
        found = [f for inner in exc.exceptions for f in findings(inner)]
        return [Finding(f.operation, f.check, f.detail, f.curl or reproduce) for f in found]
    return []


def from_cli_junit(path: Path) -> list[Finding]:
    """Findings from a JUnit report written by the schemathesis CLI."""
    found = []
    for case in ElementTree.parse(path).iter("testcase"):
        for failure in case.iter("failure"):
            for block in _test_case_blocks(failure.text or ""):
                detail = block.split("Reproduce with:")[0].strip()
                commands = _CURL.findall(block)
                # a stateful failure happens along a sequence of calls: name it by them
                operation = " -> ".join(_request_line(command) for command in commands) or case.get("name", "")
                for code in re.findall(r"^- (ST\d+) ", block, re.MULTILINE):
                    found.append(Finding(operation, check_name(code), detail, "\n".join(commands)))
    return found


def _request_line(command: str) -> str:
    words = shlex.split(command)
    method = words[words.index("-X") + 1] if "-X" in words else "GET"
    return f"{method} {httpx.URL(words[-1]).path}"


def _test_case_blocks(text: str) -> Iterator[str]:
    parts = re.split(r"^\d+\. Test Case ID: \S+\s*$", text, flags=re.MULTILINE)
    yield from (part for part in parts[1:] if part.strip())
