"""`mockserver drift`: where a deployment answers differently from a fresh mock of the same spec.

Both sides get the same probes (see `probes`); each pair of answers is
compared (see `compare`), leaving out the values `x-mock.drift.volatile`
names. The mock runs in this process, from the spec and its fixtures, with
the seeded credentials; what the run creates on the deployment is removed
at the end, as `mockserver contract` does.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from mockserver.config import DEFAULT_FIXTURES, ServerConfig
from mockserver.harness.compare import Difference, Seen, compare
from mockserver.harness.model import ContractModel
from mockserver.harness.probes import Answer, Probe
from mockserver.harness.report import curl
from mockserver.harness.target import Target, seed_credentials
from mockserver.server.app import create_app
from mockserver.server.journal import mask_body

#: where the report says the mock's answers come from: what `mockserver serve` listens on by default
MOCK_URL = "http://127.0.0.1:8000"
_SHOWN = 1500


@dataclass(frozen=True)
class Side:
    """One side's answer as the report shows it."""

    status: int
    body: Any
    curl: str

    @classmethod
    def of(cls, response: httpx.Response) -> Side:
        body = mask_body(response.content)
        if isinstance(body, str) and len(body) > _SHOWN:
            body = body[:_SHOWN] + " …"
        return cls(response.status_code, body, curl(response.request))


@dataclass(frozen=True)
class DriftFinding:
    operation: str
    kind: str
    #: the probe and its step, e.g. "the same company_id+tipo_documento+numero_documento twice: again"
    step: str
    detail: str
    mock: Side
    deployment: Side


@dataclass
class DriftRun:
    api: str
    target: str
    probes: int = 0
    answers: int = 0
    findings: list[DriftFinding] = field(default_factory=list)
    #: the operations probed ("METHOD /path"), in the spec's order
    operations: list[str] = field(default_factory=list)
    #: what the run created on the deployment and could not remove
    left: list[str] = field(default_factory=list)


Progress = Callable[[Probe, int, int, int], None]


def run(mock: Target, deployment: Target, probes: list[Probe], progress: Progress | None = None) -> DriftRun:
    """Every probe against both sides, each pair of answers compared; `progress(probe, done, total, findings)`."""
    result = DriftRun(mock.model.name, deployment.base_url)
    volatile = frozenset(mock.model.spec.mock.drift.volatile)
    for done, probe in enumerate(probes, 1):
        try:
            runner = probe.prepare(mock)
        except LookupError:  # the spec documents no example to build the probe's bodies from
            continue
        ours = {answer.step: answer for answer in runner(mock)}
        theirs = {answer.step: answer for answer in runner(deployment)}
        result.probes += 1
        if probe.label not in result.operations:
            result.operations.append(probe.label)
        for step, answer in ours.items():
            other = theirs.get(step)
            if other is None:
                continue  # an earlier step already differed, and is reported
            result.answers += 1
            for difference in differences(answer, other, volatile):
                result.findings.append(
                    DriftFinding(
                        operation=probe.label,
                        kind=difference.kind,
                        step=probe.name if step == "answer" else f"{probe.name}: {step}",
                        detail=difference.detail,
                        mock=Side.of(answer.response),
                        deployment=Side.of(other.response),
                    )
                )
        if progress is not None:
            progress(probe, done, len(probes), len(result.findings))
    return result


def differences(mock: Answer, deployment: Answer, volatile: frozenset[str]) -> list[Difference]:
    if mock.observed is not None or deployment.observed is not None:
        if mock.observed == deployment.observed:
            return []
        return [Difference("side effect missing", f"mock {mock.observed!r}, deployment {deployment.observed!r}")]
    return compare(
        seen(mock.response), seen(deployment.response), volatile, values=mock.values, side_effect=mock.side_effect
    )


def seen(response: httpx.Response) -> Seen:
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = response.text
    return Seen(response.status_code, response.headers.get("content-type", ""), body)


def refused_credentials(mock: Target, deployment: Target, probes: list[Probe]) -> str | None:
    """Why the deployment refuses the credentials the run was given, if it does (every answer would then differ).

    The first secured GET with a documented request is sent to both; a 401 from
    the deployment where the mock accepts its seeded credential says so.
    """
    for probe in probes:
        if probe.operation.method == "GET" and probe.operation.security and probe.name == "documented example":
            runner = probe.prepare(mock)
            ours, theirs = runner(mock)[0].response, runner(deployment)[0].response
            if ours.status_code < 400 and theirs.status_code in (401, 403):
                return f"{probe.label} answered {theirs.status_code}: the deployment refuses the credentials given"
            return None
    return None


@contextlib.contextmanager
def mock_in_process(model: ContractModel, fixtures_dir: Path = DEFAULT_FIXTURES) -> Iterator[Target]:
    """A fresh mock of the model's spec in this process, with the seeded credentials."""
    # Starlette's TestClient drives an ASGI app synchronously through httpx: no socket, no server process.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
        from starlette.testclient import TestClient

    app = create_app(ServerConfig(fixtures_dir=fixtures_dir, reload=False), specs=[model.spec])
    headers, login_body = seed_credentials(model)
    with TestClient(app, base_url=MOCK_URL, raise_server_exceptions=False) as http_client:
        target = Target(model, MOCK_URL, headers, login_body, http_client=http_client)
        yield target


class LoginRefused(Exception):
    """The deployment's login did not issue a credential for the body given."""


@contextlib.contextmanager
def deployment(
    model: ContractModel, base_url: str, headers: dict[str, str], login_body: dict[str, Any] | None = None
) -> Iterator[Target]:
    """The deployment, with the caller's headers; the caller removes what the run created (`Target.clean_up`).

    With a `login_body`, the run logs in first through the spec's login
    operation and sends the credential it issues, as `mockserver contract --login` does.
    """
    target = Target(model, base_url.rstrip("/"), headers, login_body)
    try:
        if login_body is not None:
            try:
                target.headers = target.throwaway_headers()
            except (LookupError, httpx.HTTPStatusError) as exc:
                raise LoginRefused(f"the login on the deployment issued no credential: {exc}") from None
        yield target
    finally:
        target.close()
