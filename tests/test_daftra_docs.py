"""The Daftra spec and mock checked against the facts of the official docs export.

`tests/facts/daftra_docs.json` holds what `tests/tools/extract_daftra_docs.py`
extracts from the docs project of docs.daftara.dev (its source is named in the
file): every operation, its parameters, its request examples and the response
examples its pages show. The spec describes the `/api2` API and the OAuth token
call its bearer scheme uses; the v2 "entity" API (`/v2/api/entity`) is another
API and is not served.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from seed import DAFTRA

from mockserver.config import DEFAULT_SPECS
from mockserver.pipeline.validation import format_checker
from mockserver.spec.loader import load_yaml
from mockserver.spec.openapi import Operation, load_spec

FACTS = json.loads((Path(__file__).parent / "facts" / "daftra_docs.json").read_text(encoding="utf-8"))
SERVED_BASES = {"/api2", ""}
SERVED = [op for op in FACTS["operations"] if op["base"] in SERVED_BASES and not op["path"].startswith("/v2/api/")]
#: where the spec declares, with its reason, that it departs from a docs example
CONFLICTS = load_yaml(DEFAULT_SPECS / "daftra.yaml")["x-docs-conflicts"]


def template(path: str) -> str:
    """A path with its parameters unnamed and the docs' `{format}` dropped, for matching."""
    path = path.replace("{format}", "").replace("{{", "{").replace("}}", "}").removesuffix(".json")
    return re.sub(r"\{[^}]*\}", "{}", path)


def full_path(doc: dict[str, Any]) -> str:
    path = doc["path"] if doc["path"].startswith("/") else "/" + doc["path"]
    return path if path.startswith(doc["base"] + "/") else doc["base"] + path


@cache
def spec_operations() -> dict[tuple[str, str], Operation]:
    spec = load_spec(DEFAULT_SPECS / "daftra.yaml")
    return {(op.method, template(op.path)): op for op in spec.operations}


def spec_operation(doc: dict[str, Any]) -> Operation | None:
    return spec_operations().get((doc["method"], template(full_path(doc))))


def test_the_facts_name_their_source():
    assert FACTS["source"]["repository"] == "AlazabDev/daftra-connect-hub"
    assert re.fullmatch(r"[0-9a-f]{40}", FACTS["source"]["commit"])
    assert len(SERVED) > 100


def test_every_documented_operation_is_in_the_spec():
    missing = [f"{doc['id']} {doc['method']} {full_path(doc)}" for doc in SERVED if spec_operation(doc) is None]
    assert not missing, missing


def test_every_documented_query_parameter_is_in_the_spec():
    missing = []
    for doc in SERVED:
        op = spec_operation(doc)
        if op is None:
            continue
        names = op.parameter_names("query")
        missing += [
            f"{doc['id']} {op.operation_id} {p['name']}"
            for p in doc["parameters"].get("query", [])
            if p["name"] not in names
        ]
    assert not missing, missing


def _successes(op: Operation) -> set[int]:
    """The success statuses the docs give an operation, over every page that documents it.

    Two pages can document one call: Add Advance Payment is `POST /invoices` too, and says 200.
    """
    return {r["status"] for doc in SERVED if spec_operation(doc) is op for r in doc["responses"] if r["status"] < 300}


def _as_sent(doc: dict[str, Any], index: int) -> Any:
    """The example with the spec's declared placeholder replacements applied."""
    body = copy.deepcopy(doc["request_examples"][index])
    for entry in CONFLICTS["requests"]:
        if entry["page"] == doc["id"]:
            *parents, last = entry["pointer"].strip("/").split("/")
            node = body
            for part in parents:
                node = node[int(part)] if isinstance(node, list) else node[part]
            key = int(last) if isinstance(node, list) else last
            assert node[key] != entry["send"], f"stale x-docs-conflicts entry {entry}"
            node[key] = entry["send"]
    return body


def _request_cases() -> list[Any]:
    return [
        pytest.param(doc, index, id=f"{doc['id']}-{doc['method']}-{template(full_path(doc))}-{index}")
        for doc in SERVED
        for index, _ in enumerate(doc["request_examples"])
        if doc["request_media_type"] == "application/json"
    ]


def _concrete(doc: dict[str, Any], op: Operation) -> str:
    """The spec's path with each parameter the docs example gives (else the seeded record 1)."""
    examples = {p["name"]: p.get("example") for p in doc["parameters"].get("path", [])}
    values = {**{name: "1" for name in re.findall(r"\{([^}]*)\}", op.path)}}
    for name in values:
        if examples.get(name) not in (None, ""):
            values[name] = str(examples[name])
    return re.sub(r"\{([^}]*)\}", lambda m: values[m.group(1)], op.path)


@pytest.mark.parametrize(("doc", "index"), _request_cases())
def test_every_request_example_gets_its_documented_status(mock, doc, index):
    op = spec_operation(doc)
    assert op is not None, "operation missing from the spec"
    session = {**DAFTRA, "X-Mock-Session": f"docs-{doc['id']}-{index}"}
    try:
        response = mock.request(op.method, _concrete(doc, op), headers=session, json=_as_sent(doc, index))
        assert response.status_code in _successes(op), response.text
    finally:
        mock.delete(f"/__mock/sessions/docs-{doc['id']}-{index}")


def _response_cases() -> list[Any]:
    cases = []
    for doc in SERVED:
        for source in ("responses", "response_examples"):
            for index, shown in enumerate(doc[source]):
                if shown["example"] not in (None, {}, []):
                    cases.append(pytest.param(doc, source, shown, id=f"{doc['id']}-{shown['status']}-{source}-{index}"))
    return cases


def _without_required(schema: Any) -> Any:
    """The schema with no property required: a page's example shows only the properties the docs give values for."""
    if isinstance(schema, dict):
        return {key: _without_required(value) for key, value in schema.items() if key != "required"}
    if isinstance(schema, list):
        return [_without_required(value) for value in schema]
    return schema


def _schema_errors(doc: dict[str, Any], source: str, shown: dict[str, Any]) -> list[str]:
    op = spec_operation(doc)
    assert op is not None, "operation missing from the spec"
    assert str(shown["status"]) in op.responses, f"{op.operation_id} does not document {shown['status']}"
    schema = op.response_schema(shown["status"])
    if source == "responses":
        schema = _without_required(schema)
    validator = Draft202012Validator(schema, format_checker=format_checker())
    return ["/".join(map(str, e.absolute_path)) + f": {e.message}" for e in validator.iter_errors(shown["example"])]


def _declared(error: str) -> bool:
    where = error.split(": ", 1)[0]
    return any(fnmatch.fnmatchcase(where, entry["at"]) for entry in CONFLICTS["responses"])


@pytest.mark.parametrize(("doc", "source", "shown"), _response_cases())
def test_every_response_example_matches_the_spec(doc, source, shown):
    errors = [error for error in _schema_errors(doc, source, shown) if not _declared(error)]
    assert not errors, errors


def test_every_declared_conflict_is_still_one():
    served = [case.values for case in _response_cases() if spec_operation(case.values[0]) is not None]
    found = [error for values in served for error in _schema_errors(*values) if _declared(error)]
    for entry in CONFLICTS["responses"]:
        assert any(fnmatch.fnmatchcase(error.split(": ", 1)[0], entry["at"]) for error in found), entry
