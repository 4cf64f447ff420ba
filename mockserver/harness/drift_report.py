"""A drift run written for people (Markdown, HTML, and plain text on the console) and for CI (JUnit XML, JSON).

Findings are grouped per operation, then per kind, each with both answers
side by side and a curl that reproduces it on the deployment.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from dataclasses import asdict
from itertools import groupby
from pathlib import Path
from typing import Any

from mockserver.harness.compare import KINDS
from mockserver.harness.drift import MOCK_URL, DriftFinding, DriftRun
from mockserver.harness.html_page import page

_CELL = 400


def grouped(findings: list[DriftFinding]) -> Iterator[tuple[str, Iterator[tuple[str, list[DriftFinding]]]]]:
    """(operation, [(kind, findings)]) in the order of the spec's operations as probed, kinds as `KINDS` lists them."""
    order = list(dict.fromkeys(finding.operation for finding in findings))
    by_operation = sorted(findings, key=lambda f: (order.index(f.operation), KINDS.index(f.kind)))
    for operation, found in groupby(by_operation, key=lambda f: f.operation):
        yield operation, ((kind, list(items)) for kind, items in groupby(found, key=lambda f: f.kind))


def summary(run: DriftRun) -> str:
    verdict = f"{len(run.findings)} finding(s)" if run.findings else "no drift"
    return f"{run.api} against {run.target}: {verdict} in {run.probes} probes ({run.answers} answers compared)"


def text(run: DriftRun) -> str:
    """The console's report: each finding with the deployment's curl."""
    lines = []
    for operation, kinds in grouped(run.findings):
        lines.append(operation)
        for kind, findings in kinds:
            lines.append(f"  {kind} ({len(findings)})")
            for finding in findings:
                lines += [f"    {finding.step}: {finding.detail}", f"      {finding.deployment.curl}"]
    for left in run.left:
        lines.append(f"not removed from the deployment: {left}")
    return "\n".join([*lines, summary(run)])


def markdown(run: DriftRun) -> str:
    lines = [f"# Drift of {run.target} from the {run.api} mock", "", summary(run) + ".", ""]
    if run.findings:
        lines += ["| Operation | Kind | Findings |", "|---|---|---|"]
        for operation, kinds in grouped(run.findings):
            lines += [f"| `{operation}` | {kind} | {len(found)} |" for kind, found in kinds]
        lines.append("")
    for operation, kinds in grouped(run.findings):
        lines += [f"## `{operation}`", ""]
        for kind, findings in kinds:
            lines += [f"### {kind}", ""]
            for finding in findings:
                lines += _finding(finding)
    if run.left:
        lines += ["## Left on the deployment", "", *(f"- {left}" for left in run.left), ""]
    return "\n".join(lines)


def _finding(finding: DriftFinding) -> list[str]:
    return [
        f"#### {finding.step}",
        "",
        finding.detail,
        "",
        "| | mock | deployment |",
        "|---|---|---|",
        f"| status | {finding.mock.status} | {finding.deployment.status} |",
        f"| body | {_cell(finding.mock.body)} | {_cell(finding.deployment.body)} |",
        "",
        "Reproduce on the deployment:",
        "",
        "```sh",
        finding.deployment.curl,
        "```",
        "",
        f"The mock's answer (`mockserver serve`, at {MOCK_URL}):",
        "",
        "```sh",
        finding.mock.curl,
        "```",
        "",
    ]


def _cell(body: Any) -> str:
    shown = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    if len(shown) > _CELL:
        shown = shown[:_CELL] + " …"
    return "`" + shown.replace("|", "\\|").replace("`", "'").replace("\n", " ") + "`" if shown else "(empty)"


def junit(run: DriftRun) -> str:
    """One test case per operation and kind of drift found, and one passing case per operation without drift."""
    suite = ElementTree.Element("testsuite", name=f"drift {run.api}", tests="0", failures="0")
    cases = 0
    for operation, kinds in grouped(run.findings):
        for kind, findings in kinds:
            case = ElementTree.SubElement(suite, "testcase", classname=operation, name=kind)
            for finding in findings:
                failure = ElementTree.SubElement(case, "failure", message=f"{finding.step}: {finding.detail}")
                failure.text = (
                    f"mock: {finding.mock.status} {_cell(finding.mock.body)}\n"
                    f"deployment: {finding.deployment.status} {_cell(finding.deployment.body)}\n"
                    f"Reproduce with:\n{finding.deployment.curl}"
                )
            cases += 1
    drifting = {finding.operation for finding in run.findings}
    for operation in run.operations:
        if operation not in drifting:
            ElementTree.SubElement(suite, "testcase", classname=operation, name="no drift")
            cases += 1
    suite.set("tests", str(cases))
    suite.set("failures", str(len({(f.operation, f.kind) for f in run.findings})))
    return ElementTree.tostring(suite, encoding="unicode")


def as_json(run: DriftRun) -> str:
    return json.dumps(asdict(run), indent=2, ensure_ascii=False)


def html(run: DriftRun) -> str:
    """The Markdown report as a page of its own."""
    return page(f"Drift of {run.target} from the {run.api} mock", markdown(run))


def write(run: DriftRun, folder: Path) -> list[Path]:
    """drift.md, drift.html, drift.xml (JUnit) and drift.json in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    renders = (("drift.md", markdown), ("drift.html", html), ("drift.xml", junit), ("drift.json", as_json))
    for name, render in renders:
        path = folder / name
        path.write_text(render(run) + "\n", encoding="utf-8")
        written.append(path)
    return written
