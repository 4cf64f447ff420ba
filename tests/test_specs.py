"""The specs themselves: valid OpenAPI 3.1, self-consistent examples, generic engine."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from mockserver.errors import SpecError
from mockserver.pipeline.validation import format_checker
from mockserver.server.app import create_app
from mockserver.spec.loader import load_yaml
from mockserver.spec.openapi import load_spec, resolve_refs

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_spec_is_valid_openapi_31(path):
    document = load_yaml(path)
    assert document["openapi"].startswith("3.1")
    validate(document)


def _examples(spec):
    for op in spec.operations:
        schema = op.body_schema()
        if schema is not None:
            content = op.request_body["content"]
            media = content.get("application/json") or next(iter(content.values()))  # a form, for the OAuth token
            for value in [media.get("example"), *(e["value"] for e in media.get("examples", {}).values())]:
                if value is not None:
                    yield f"{op.operation_id} request", schema, value
        for status in op.responses:
            for name, value in op.examples(status).items():
                yield f"{op.operation_id} {status} {name}", op.response_schema(status), value


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_every_example_matches_its_schema(path):
    spec = load_spec(path)
    checked = 0
    for where, schema, value in _examples(spec):
        errors = [e.message for e in Draft202012Validator(schema, format_checker=format_checker()).iter_errors(value)]
        assert not errors, f"{where}: {errors}"
        checked += 1
    assert checked > 5


def test_both_specs_load_into_one_app():
    app = create_app()
    assert sorted(api.name for api in app.state.server.apis) == ["daftra", "facturacion"]


def _without(line: str, library_name: str, pattern: str) -> bool:
    """Whether the line still names a resource once a library's own identifier is taken out."""
    return re.search(rf"\b({pattern})\b", line.split(":", 2)[-1].replace(library_name, ""), re.I) is not None


def test_engine_code_names_no_resource_of_either_api():
    resources = set()
    for path in SPECS:
        resources |= set(load_yaml(path)["x-mock"]["resources"])
    # the engine's own nouns, which an API may also use for a resource (Daftra has stock stores and
    # notes; Facturación keeps its bearer tokens as records, and the journal masks any token it sees;
    # Daftra has accounting journals, the mock a request journal)
    engine_words = {"store", "stores", "note", "notes", "token", "tokens", "journal", "journals"}
    words = sorted((resources | {r.rstrip("s") for r in resources}) - engine_words)
    pattern = "|".join(re.escape(w) for w in words)
    found = subprocess.run(["grep", "-rniwE", pattern, str(ROOT / "mockserver")], capture_output=True, text=True)
    # httpx's HTTP client class is the library's word, not an API's
    lines = [line for line in found.stdout.splitlines() if _without(line, "httpx.Client", pattern)]
    assert lines == [], "resource names in engine code:\n" + "\n".join(lines)


def test_reference_cycles_are_reported():
    document = {
        "components": {"schemas": {"A": {"$ref": "#/components/schemas/B"}, "B": {"$ref": "#/components/schemas/A"}}}
    }
    with pytest.raises(SpecError, match="cycle"):
        resolve_refs(document)


def test_sibling_keys_override_the_referenced_schema():
    document = {"x": {"$ref": "#/y", "description": "mine"}, "y": {"type": "string", "description": "theirs"}}
    assert resolve_refs(document)["x"] == {"type": "string", "description": "mine"}
