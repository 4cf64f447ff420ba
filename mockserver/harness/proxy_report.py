"""What `mockserver proxy` writes when it stops: a report (Markdown, HTML, JUnit XML, JSON) and the recorded HAR.

The report groups the violations per operation and per check, each with the
request that caused it and a curl to reproduce it; the HAR keeps every
exchange, credentials masked, for `mockserver record`.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from mockserver.harness.html_page import page
from mockserver.harness.proxy import Exchange, Traffic


def _grouped(traffic: Traffic) -> dict[str, dict[str, list[tuple[Exchange, str]]]]:
    groups: dict[str, dict[str, list[tuple[Exchange, str]]]] = defaultdict(lambda: defaultdict(list))
    for exchange in traffic.exchanges:
        label = f"{exchange.method} {urlsplit(exchange.url).path}" if not exchange.operation else exchange.operation
        for violation in exchange.violations:
            groups[label][violation.check].append((exchange, violation.detail))
    return groups


def summary(traffic: Traffic) -> str:
    flagged = sum(1 for exchange in traffic.exchanges if exchange.violations)
    return f"{len(traffic.exchanges)} exchange(s) through the proxy, {flagged} with violations"


def markdown(traffic: Traffic, target: str) -> str:
    lines = [f"# Traffic to {target} against the spec", "", summary(traffic) + ".", ""]
    for operation, checks in _grouped(traffic).items():
        lines += [f"## `{operation}`", ""]
        for check, found in checks.items():
            lines += [f"### {check} ({len(found)})", ""]
            for exchange, detail in found:
                lines += [f"- {exchange.method} {exchange.url} answered {exchange.status}: {detail}", "", "  ```sh"]
                lines += [f"  {exchange.curl}", "  ```", ""]
    return "\n".join(lines)


def junit(traffic: Traffic) -> str:
    suite = ElementTree.Element("testsuite", name="proxy", tests=str(len(traffic.exchanges)), failures="0")
    failures = 0
    for index, exchange in enumerate(traffic.exchanges):
        case = ElementTree.SubElement(
            suite,
            "testcase",
            classname=exchange.operation or "undocumented",
            name=f"{index + 1} {exchange.method} {exchange.url}",
        )
        for violation in exchange.violations:
            failures += 1
            failure = ElementTree.SubElement(case, "failure", message=str(violation))
            failure.text = f"Reproduce with:\n{exchange.curl}"
    suite.set("failures", str(failures))
    return ElementTree.tostring(suite, encoding="unicode")


def as_json(traffic: Traffic) -> str:
    return json.dumps({"exchanges": [asdict(exchange) for exchange in traffic.exchanges]}, indent=2, ensure_ascii=False)


def write(traffic: Traffic, target: str, folder: Path) -> list[Path]:
    """proxy.md, proxy.html, proxy.xml (JUnit) and proxy.json in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / name for name in ("proxy.md", "proxy.html", "proxy.xml", "proxy.json")]
    described = markdown(traffic, target)
    texts = (described, page(f"Traffic to {target} against the spec", described), junit(traffic), as_json(traffic))
    for path, text in zip(paths, texts, strict=True):
        path.write_text(text + "\n", encoding="utf-8")
    return paths


def har(traffic: Traffic) -> dict[str, Any]:
    """The exchanges as a HAR 1.2 log (credentials and secret fields already masked)."""
    entries = []
    for exchange in traffic.exchanges:
        request_text = _text(exchange.request_body)
        response_text = _text(exchange.response_body)
        request: dict[str, Any] = {
            "method": exchange.method,
            "url": exchange.url,
            "httpVersion": "HTTP/1.1",
            "headers": [{"name": k, "value": v} for k, v in exchange.request_headers.items()],
            "queryString": [{"name": k, "value": v} for k, v in parse_qsl(urlsplit(exchange.url).query)],
            "cookies": [],
            "headersSize": -1,
            "bodySize": len(request_text.encode()),
        }
        if request_text:
            request["postData"] = {"mimeType": exchange.request_headers.get("content-type", ""), "text": request_text}
        entries.append(
            {
                "startedDateTime": exchange.started,
                "time": exchange.milliseconds,
                "request": request,
                "response": {
                    "status": exchange.status,
                    "statusText": "",
                    "httpVersion": "HTTP/1.1",
                    "headers": [{"name": k, "value": v} for k, v in exchange.response_headers.items()],
                    "cookies": [],
                    "content": {
                        "size": len(response_text.encode()),
                        "mimeType": exchange.response_headers.get("content-type", ""),
                        "text": response_text,
                    },
                    "redirectURL": "",
                    "headersSize": -1,
                    "bodySize": len(response_text.encode()),
                },
                "cache": {},
                "timings": {"send": 0, "wait": exchange.milliseconds, "receive": 0},
                "_violations": [str(v) for v in exchange.violations],
            }
        )
    return {"log": {"version": "1.2", "creator": {"name": "mockserver proxy", "version": "1"}, "entries": entries}}


def _text(body: Any) -> str:
    if body is None:
        return ""
    return body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
