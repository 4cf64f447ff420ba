"""Extract the facts of Daftra's docs export into tests/facts/daftra_docs.json.

The official docs project of docs.daftara.dev is published as an Apidog export,
`docs/Daftra API.apidog.json` in the GitHub repository AlazabDev/daftra-connect-hub.
This script keeps what a cross-check needs and drops the prose: each operation's
docs page id, method, path, base, parameters, request examples, documented
statuses and the response examples. Operation pages of the v1 API carry no
stored response examples; their pages render one from the schema's property
`examples`, and so does this script (first example of each property, first
branch of a oneOf/anyOf, one element per array).

    python tests/tools/extract_daftra_docs.py EXPORT.json COMMIT > tests/facts/daftra_docs.json
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

REPOSITORY = "AlazabDev/daftra-connect-hub"
PATH = "docs/Daftra API.apidog.json"
#: how deep a rendered example follows nested schemas (the docs' schemas refer to each other in cycles)
MAX_DEPTH = 8


def operations(folder: dict[str, Any], trail: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    for item in folder.get("items", []):
        if "api" in item:
            yield trail, item
        else:
            yield from operations(item, (*trail, item["name"].strip()))


def definitions(export: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}

    def walk(folder: dict[str, Any]) -> None:
        for item in folder.get("items", []):
            if "schema" in item:
                found[item["id"]] = item["schema"]["jsonSchema"]
            else:
                walk(item)

    for collection in export["schemaCollection"]:
        walk(collection)
    return found


class Renderer:
    """The example a docs page shows for a schema, from its properties' `examples`."""

    def __init__(self, schemas: dict[str, Any]) -> None:
        self.schemas = schemas

    def render(self, schema: dict[str, Any], depth: int = 0) -> Any:
        if depth > MAX_DEPTH or not isinstance(schema, dict):
            return None
        if "$ref" in schema:
            return self.render(self.schemas.get(schema["$ref"], {}), depth + 1)
        if "examples" in schema and schema["examples"]:
            return schema["examples"][0]
        if "example" in schema:
            return schema["example"]
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                value = self.render(part, depth + 1)
                if isinstance(value, dict):
                    merged.update(value)
            return merged or None
        for key in ("oneOf", "anyOf"):
            if schema.get(key):
                return self.render(schema[key][0], depth + 1)
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            rendered = {}
            for name, sub in (schema.get("properties") or {}).items():
                value = self.render(sub, depth + 1)
                if value is not None:
                    rendered[name] = value
            return rendered
        if kind == "array" and isinstance(schema.get("items"), dict):
            element = self.render(schema["items"], depth + 1)
            return [] if element is None else [element]
        return None


def parameter(raw: dict[str, Any]) -> dict[str, Any]:
    kept = {"name": raw["name"], "required": bool(raw.get("required")), "type": raw.get("type")}
    if raw.get("example") not in (None, ""):
        kept["example"] = raw["example"]
    if raw.get("enum"):
        kept["enum"] = raw["enum"]
    return kept


def base_url(export: dict[str, Any], server_id: str) -> str:
    production = next(env for env in export["environments"] if env["name"] == "Production")
    url: str = production["baseUrls"].get(server_id, "")
    return url.replace("https://{{subdomain}}.daftra.com", "")


def extract(export: dict[str, Any], commit: str) -> dict[str, Any]:
    render = Renderer(definitions(export)).render
    responses_by_id = {item["id"]: item for item in export["responseCollection"]}
    rows = []
    for root in export["apiCollection"]:
        inherited = {(): root.get("serverId") or ""}
        for trail, item in operations(root):
            api = item["api"]
            server = api.get("serverId") or _folder_server(root, trail) or "553070"
            documented = []
            for response in api["responses"]:
                schema = response.get("jsonSchema") or {}
                if "$ref" in schema and schema["$ref"] in responses_by_id:
                    schema = responses_by_id[schema["$ref"]]["jsonSchema"]
                documented.append(
                    {"status": int(response["code"]), "example": render(schema)} if "code" in response else None
                )
            stored = []
            codes = {r["id"]: r.get("code") for r in api["responses"]}
            for example in api.get("responseExamples") or []:
                stored.append(
                    {
                        "status": _status(codes.get(str(example.get("responseId")))),
                        "example": _json(example.get("data")),
                    }
                )
            body = api.get("requestBody") or {}
            rows.append(
                {
                    "id": api["id"],
                    "folder": list(trail),
                    "title": item["name"].strip(),
                    "method": api["method"].upper(),
                    "base": base_url(export, server),
                    "path": api["path"].strip(),
                    "parameters": {
                        place: [parameter(p) for p in api["parameters"].get(place, []) if p.get("name") != "format"]
                        for place in ("path", "query", "header")
                        if any(p.get("name") != "format" for p in api["parameters"].get(place, []))
                    },
                    "request_media_type": body.get("type") if body.get("type") not in (None, "none") else None,
                    "request_examples": [
                        _json(e["value"]) for e in body.get("examples") or [] if str(e.get("value") or "").strip()
                    ],
                    "responses": [r for r in documented if r is not None],
                    "response_examples": stored,
                }
            )
        del inherited
    return {"source": {"repository": REPOSITORY, "path": PATH, "commit": commit}, "operations": rows}


def _folder_server(root: dict[str, Any], trail: tuple[str, ...]) -> str:
    """The server a folder sets for the operations in it (the nearest folder that names one)."""
    found = root.get("serverId") or ""
    folder = root
    for name in trail:
        folder = next(f for f in folder["items"] if "api" not in f and f["name"].strip() == name)
        found = folder.get("serverId") or found
    return found


def _status(code: Any) -> int | None:
    return int(code) if str(code).isdigit() else None


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return {"unparsed": text}


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as handle:
        export = json.load(handle)
    json.dump(extract(export, sys.argv[2]), sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
