"""`x-mock` is checked when a spec loads: its shape against the JSON Schema, then its meaning.

Each malformed spec is a bundled spec with one mutation, written to a
temporary folder; the refusal must name the file, the exact JSON pointer of
the mistake and what was expected, never a traceback.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from mockserver.cli import main
from mockserver.config import DEFAULT_FIXTURES, DEFAULT_SPECS
from mockserver.errors import SpecError
from mockserver.server.app import create_app
from mockserver.spec.loader import load_yaml
from mockserver.spec.shape import SCHEMA_EXTENSIONS, SCHEMA_PATH

REPOSITORY = Path(__file__).resolve().parent.parent
DELETE = object()
CLIENTS = "/paths/~1api~1v1~1clients/post/x-mock"  # Facturación's createClient
CLIENT = "/paths/~1api~1v1~1clients~1{client}/get/x-mock"
LOGIN = "/paths/~1api~1auth~1login/post/x-mock"
D_CLIENTS = "/paths/~1api2~1clients/get/x-mock"  # Daftra's listClients
D_INVOICES = "/paths/~1api2~1invoices/post/x-mock"


@functools.cache
def _bundled(name: str) -> str:
    # JSON text: a fresh copy per test shares no YAML anchors, and JSON is YAML the loader reads
    return json.dumps(load_yaml(DEFAULT_SPECS / f"{name}.yaml"), ensure_ascii=False)


def _tokens(pointer: str) -> list[str]:
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]]


def mutate(document: Any, pointer: str, value: Any) -> None:
    """Set (or with DELETE remove) the value at a JSON pointer of the document."""
    *parents, last = _tokens(pointer)
    node = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key: Any = int(last) if isinstance(node, list) else last
    if value is DELETE:
        del node[key]
    else:
        node[key] = value


def write_spec(folder: Path, name: str, *changes: tuple[str, Any]) -> Path:
    document = json.loads(_bundled(name))
    for pointer, value in changes:
        mutate(document, pointer, value)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    # the file templates a spec names live beside it
    shutil.copytree(DEFAULT_SPECS / "templates", folder / "templates", dirs_exist_ok=True)
    return path


def get(app: Any, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """One request to the app, in process."""

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.get(path, headers=headers)

    return asyncio.run(send())


def refusal(path: Path) -> list[SpecError]:
    """The problems found building the app of the one spec in path's folder (load and compile)."""
    with pytest.raises(SpecError) as raised:
        create_app(specs_dir=path.parent, fixtures_dir=DEFAULT_FIXTURES)
    return raised.value.problems


# (spec, mutated pointer, new value, pointer the refusal names, words the reason contains)
MALFORMED = [
    ("facturacion", f"{CLIENTS}/response", [201], f"{CLIENTS}/response", "expected an object, got an array"),
    ("facturacion", f"{CLIENTS}/defaults", ["company_id"], f"{CLIENTS}/defaults", "expected an object, got an array"),
    (
        "facturacion",
        f"{CLIENTS}/rules/0/unique",
        "numero_documento",
        f"{CLIENTS}/rules/0/unique",
        'expected an array, got a string "numero_documento"',
    ),
    ("facturacion", f"{CLIENTS}/rule", [], f"{CLIENTS}/rule", "unknown key 'rule'; expected one of action,"),
    ("facturacion", f"{CLIENTS}/action", "insert", f"{CLIENTS}/action", 'expected one of "create", "list"'),
    ("facturacion", f"{CLIENTS}/response", DELETE, CLIENTS, "missing required key 'response'"),
    (
        "facturacion",
        f"{CLIENTS}/rules/0/respond/status",
        409,
        f"{CLIENTS}/rules/0/respond/status",
        "409 is not a documented response of the operation (201, 400,",
    ),
    ("facturacion", f"{CLIENT}/response/status", 203, f"{CLIENT}/response/status", "203 is not a documented response"),
    (
        "facturacion",
        f"{CLIENT}/response/body/data",
        "${recrod}",
        f"{CLIENT}/response/body/data",
        "${recrod} names 'recrod', which is not in the context here (batch, body, counts, credential,",
    ),
    (
        "facturacion",
        f"{CLIENT}/response/body/data",
        "${record.id|upper}",
        f"{CLIENT}/response/body/data",
        "uses the filter 'upper'; the filters are string and pad:N (N from 1 to 32)",
    ),
    (
        "facturacion",
        f"{CLIENTS}/rules/1/exists/resource",
        "empresas",
        f"{CLIENTS}/rules/1/exists/resource",
        "unknown resource 'empresas'; x-mock.resources declares companies, clients, users, tokens",
    ),
    (
        "daftra",
        "/paths/~1api2~1clients~1{id}/delete/x-mock/rules/0/not_referenced_by/1/resource",
        "quotes",
        "/paths/~1api2~1clients~1{id}/delete/x-mock/rules/0/not_referenced_by/1/resource",
        "unknown resource 'quotes'",
    ),
    (
        "facturacion",
        "/paths/~1api~1v1~1companies~1{company}~1clients/get/x-mock/parent/resource",
        "firms",
        "/paths/~1api~1v1~1companies~1{company}~1clients/get/x-mock/parent/resource",
        "unknown resource 'firms'",
    ),
    (
        "facturacion",
        f"{LOGIN}/credential",
        "oauth",
        f"{LOGIN}/credential",
        "names no security scheme of components.securitySchemes (bearerAuth)",
    ),
    (
        "daftra",
        "/x-mock/resources/invoices/computed/summary_paid",
        "round(sum(InvoicePayment, 'amount'), 2",
        "/x-mock/resources/invoices/computed/summary_paid",
        "does not parse",
    ),
    (
        "daftra",
        "/x-mock/resources/invoices/computed/summary_paid",
        "__import__('os')",
        "/x-mock/resources/invoices/computed/summary_paid",
        "which formulas do not allow",
    ),
    ("daftra", f"{D_CLIENTS}/paging/size", "20", f"{D_CLIENTS}/paging/size", 'expected an integer, got a string "20"'),
    ("daftra", f"{D_CLIENTS}/paging/size", 0, f"{D_CLIENTS}/paging/size", "expected a number >= 1, got a number 0"),
    (
        "daftra",
        f"{D_CLIENTS}/paging/size_param",
        "per_page",
        f"{D_CLIENTS}/paging/size_param",
        "query parameter 'per_page' is not a parameter of the operation",
    ),
    ("daftra", f"{D_CLIENTS}/paging/pages", 3, f"{D_CLIENTS}/paging/pages", "unknown key 'pages'"),
    (
        "daftra",
        f"{D_INVOICES}/children/InvoiceLine",
        "/InvoiceItem",
        f"{D_INVOICES}/children/InvoiceLine",
        "is not a child list of invoices (its x-mock.resources children: InvoiceItem, InvoicePayment)",
    ),
    (
        "daftra",
        f"{D_INVOICES}/children/InvoiceItem/from",
        "/Invoice",
        f"{D_INVOICES}/children/InvoiceItem",
        "/Invoice is not a list in the request body's schema",
    ),
    (
        "daftra",
        "/x-mock/resources/invoices/relations/Client/resource",
        "customers",
        "/x-mock/resources/invoices/relations/Client/resource",
        "unknown resource 'customers'",
    ),
    (
        "facturacion",
        "/components/securitySchemes/bearerAuth/x-mock/credentials",
        "sessions",
        "/components/securitySchemes/bearerAuth/x-mock/credentials",
        "unknown resource 'sessions'",
    ),
    (
        "facturacion",
        "/components/securitySchemes/bearerAuth/x-mock/key",
        DELETE,
        "/components/securitySchemes/bearerAuth/x-mock",
        "missing required key 'key'",
    ),
    ("facturacion", "/x-mock/timestamp_fmt", "%Y", "/x-mock/timestamp_fmt", "unknown key 'timestamp_fmt'"),
    (
        "facturacion",
        "/x-mock/errors/not_found",
        {"status": 404, "body": {}},
        "/x-mock/errors/not_found",
        "unknown key 'not_found'; expected one of validation, unauthenticated,",
    ),
    (
        "facturacion",
        "/x-mock/errors/forbidden/body",
        DELETE,
        "/x-mock/errors/forbidden",
        "missing required key 'body'",
    ),
    (
        "facturacion",
        "/x-mock/validation_errors",
        "dict",
        "/x-mock/validation_errors",
        'expected one of "list", "string"',
    ),
    (
        "facturacion",
        "/x-certification/checks/object_level_authorization/reason",
        DELETE,
        "/x-certification/checks/object_level_authorization",
        "missing required key 'reason'",
    ),
    (
        "facturacion",
        f"{CLIENTS}/rules/0/deny_if",
        {"activo": False},
        f"{CLIENTS}/rules/0",
        "has unique, deny_if, but takes exactly one of unique, exists, deny_if, deny_when, not_referenced_by, empty",
    ),
    ("facturacion", f"{CLIENTS}/rules/0/respond", DELETE, f"{CLIENTS}/rules/0", "needs exactly one of respond, error"),
    (
        "facturacion",
        f"{CLIENTS}/rules/0/unique/2",
        "numero_doc",
        f"{CLIENTS}/rules/0/unique/2",
        "'numero_doc' is not a field of the record",
    ),
    (
        "facturacion",
        f"{LOGIN}/rules/0/respond/example",
        "expired",
        f"{LOGIN}/rules/0/respond/example",
        "response 401 has no example named 'expired' (invalid_credentials, inactive)",
    ),
    ("facturacion", f"{CLIENT}/id", DELETE, CLIENT, "needs one of id, match"),
    ("facturacion", "/x-mock/locale", "fr", "/x-mock/locale", "names no locale of x-mock.locales (en, es)"),
    (
        "daftra",
        "/x-mock/resources/clients/sequences/client_number",
        "${count|string}",
        "/x-mock/resources/clients/sequences/client_number",
        "${count|string} names 'count', which is not in the context here (n)",
    ),
    (
        "daftra",
        "/paths/~1api2~1clients/post/x-mock/body",
        "Client",
        "/paths/~1api2~1clients/post/x-mock/body",
        'expected a JSON pointer into the request body, e.g. /Record, got a string "Client"',
    ),
    (
        "facturacion",
        "/paths/~1api~1v1~1clients/get/x-mock/filters/ruc",
        {"equals": "ruc"},
        "/paths/~1api~1v1~1clients/get/x-mock/filters/ruc",
        "query parameter 'ruc' is not a parameter of the operation",
    ),
    (
        "facturacion",
        "/paths/~1api~1v1~1boletas~1create-daily-summary/post/x-mock/gather/resource",
        "bolletas",
        "/paths/~1api~1v1~1boletas~1create-daily-summary/post/x-mock/gather/resource",
        "unknown resource 'bolletas'",
    ),
    (
        "facturacion",
        "/paths/~1api~1v1~1daily-summaries~1{id}~1check-status/post/x-mock/set_children",
        {"lines": {"estado_sunat": "ACEPTADO"}},
        "/paths/~1api~1v1~1daily-summaries~1{id}~1check-status/post/x-mock/set_children/lines",
        "is not a child list of daily_summaries (its children: boletas)",
    ),
    ("facturacion", CLIENTS, DELETE, "/paths/~1api~1v1~1clients/post", "has no x-mock"),
    # the OpenAPI structure the engine reads
    ("facturacion", "/paths/~1api~1v1~1clients/get", None, "/paths/~1api~1v1~1clients/get", "got null"),
    ("facturacion", "/info/title", DELETE, "/info", "missing required key 'title'"),
    (
        "facturacion",
        "/paths/~1api~1v1~1clients/get/security",
        [{"bearerAuth": []}, {"apiKey": []}],
        "/paths/~1api~1v1~1clients/get/security/1",
        "names 'apiKey', which is not a scheme of components.securitySchemes (bearerAuth)",
    ),
    ("facturacion", "/security", [{"oauth": []}], "/security/0", "names 'oauth', which is not a scheme"),
    (
        "facturacion",
        "/x-mock/drift/volatile",
        ["id", "no_such_field"],
        "/x-mock/drift/volatile/1",
        "'no_such_field' is no field any schema of the spec documents",
    ),
    (
        "facturacion",
        "/paths/~1api~1v1~1clients/get/operationId",
        "createClient",
        "/paths/~1api~1v1~1clients/post/operationId",
        "operationId 'createClient' is already the id of /paths/~1api~1v1~1clients/get",
    ),
]
CERTIFICATE = "/components/schemas/CompanyFields/properties/certificado_pem/x-file"
PRODUCTION = "/components/schemas/CompanyFields/properties/modo_produccion"
SYSTEM_INFO = "/paths/~1api~1system~1info/get/x-mock/values/initialized"
SETUP_BRANCH = "/paths/~1api~1v1~1setup~1complete/post/x-mock/also/branch"
SECTION_PARENT = "/paths/~1api~1v1~1companies~1{company_id}~1config~1{section}/get/x-mock/parent"
# A schema's extensions and an operation's `values` formulas, which the app reads only when it is
# built, are refused on load too. They reach serve, reload and check through the same refusal as the
# cases above, so they are not repeated in the (dearer) test of those three.
CHECKED_ON_LOAD = [
    (
        "facturacion",
        CERTIFICATE,
        {"mime": ["pem"]},
        f"{CERTIFICATE}/mime",
        "unknown key 'mime'; expected one of max_kb",
    ),
    ("facturacion", f"{CERTIFICATE}/max_kb", "2MB", f"{CERTIFICATE}/max_kb", 'expected an integer, got a string "2MB"'),
    ("facturacion", CERTIFICATE, ["pem"], CERTIFICATE, "expected an object, got an array"),
    ("facturacion", f"{PRODUCTION}/x-true-values", "true", f"{PRODUCTION}/x-true-values", "expected an array"),
    (
        "facturacion",
        f"{PRODUCTION}/x-false-values",
        [False],
        f"{PRODUCTION}/x-false-values/0",
        "expected a string or an integer, got a boolean",
    ),
    ("facturacion", SYSTEM_INFO, "users >", SYSTEM_INFO, "formula 'users >' does not parse"),
    (
        "facturacion",
        SYSTEM_INFO,
        "usres > 0",
        SYSTEM_INFO,
        "formula 'usres > 0' names 'usres', which is not in the context here (body, parent, path,",
    ),
    # a further write's (`also`) `when` names only what it is given
    (
        "facturacion",
        f"{SETUP_BRANCH}/when",
        "principal.company_id == None and compnay",
        f"{SETUP_BRANCH}/when",
        "names 'compnay', which is not in the context here (also, body, parent, path,",
    ),
    # an operation's own answer for a missing parent is a documented response
    (
        "facturacion",
        f"{SECTION_PARENT}/missing",
        {"status": 503, "body": {"message": "${id}"}},
        f"{SECTION_PARENT}/missing/status",
        "503 is not a documented response of the operation",
    ),
]


@pytest.mark.parametrize(
    ("api", "where", "value", "pointer", "reason"), MALFORMED + CHECKED_ON_LOAD, ids=lambda v: None
)
def test_a_malformed_declaration_is_refused_with_file_pointer_and_reason(tmp_path, api, where, value, pointer, reason):
    path = write_spec(tmp_path / "specs", api, (where, value))
    problems = refusal(path)
    assert [(p.file, p.pointer) for p in problems] == [(str(path), pointer)], [p.located() for p in problems]
    assert reason in problems[0].reason
    assert problems[0].located() == f"{path}: #{pointer}: {problems[0].reason}"


# serve, reload and check reach a refusal through the same code whatever the case: each loads the spec
# four times (some ten seconds a case now that both specs are large), so this runs one Facturación case
# per part of the document (info, security, components, paths, x-mock, x-certification), each met by a
# different check; every case, Daftra's included, is refused on load above.
FACTURACION_MALFORMED = list(
    {case[1].split("/")[1]: case for case in reversed(MALFORMED) if case[0] == "facturacion"}.values()
)


@pytest.mark.parametrize(("api", "where", "value", "pointer", "reason"), FACTURACION_MALFORMED, ids=lambda v: None)
def test_serve_reload_and_check_all_refuse_it(tmp_path, monkeypatch, caplog, api, where, value, pointer, reason):
    good = write_spec(tmp_path / "specs", api)
    app = create_app(specs_dir=good.parent, fixtures_dir=DEFAULT_FIXTURES)
    served = app.state.server.apis
    path = write_spec(tmp_path / "specs", api, (where, value))
    # hot reload: the old API keeps serving, and the log names the place
    with caplog.at_level(logging.ERROR, logger="mockserver"):
        app.state.server.reload({path})
    assert app.state.server.apis == served
    assert f"{path}: #{pointer}: " in caplog.text
    # serve: exit 2 before anything listens (a server that started would be a failure, not a hang)
    monkeypatch.setattr("mockserver.cli.uvicorn.run", lambda *a, **k: pytest.fail("serve started on a bad spec"))
    options = ["--specs", str(path.parent), "--fixtures", str(DEFAULT_FIXTURES), "--no-reload"]
    result = CliRunner().invoke(main, ["serve", *options])
    assert result.exit_code == 2, result.output
    assert f"error: {path}: #{pointer}: " in result.stderr
    assert "Traceback" not in result.output
    # check: exit 1, one line naming the file and the pointer
    result = CliRunner().invoke(main, ["check", str(path), "--fixtures", str(DEFAULT_FIXTURES)])
    assert result.exit_code == 1, result.output
    assert re.search(rf"^{re.escape(str(path))}:\d+: #{re.escape(pointer)}: ", result.output, re.M), result.output


def test_every_problem_of_a_spec_is_reported_at_once(tmp_path):
    path = write_spec(
        tmp_path / "specs",
        "facturacion",
        (f"{CLIENTS}/rules/0/unique", "numero_documento"),
        (f"{CLIENT}/action", "fetch"),
        ("/x-mock/prefixes", ["/api"]),
    )
    pointers = [problem.pointer for problem in refusal(path)]
    assert sorted(pointers) == sorted([f"{CLIENTS}/rules/0/unique", f"{CLIENT}/action", "/x-mock/prefixes"])


def test_meaning_problems_are_reported_together_too(tmp_path):
    path = write_spec(
        tmp_path / "specs",
        "facturacion",
        (f"{CLIENTS}/rules/1/exists/resource", "empresas"),
        (f"{CLIENTS}/response/status", 200),
    )
    assert [p.pointer for p in refusal(path)] == [f"{CLIENTS}/response/status", f"{CLIENTS}/rules/1/exists/resource"]


@pytest.mark.parametrize(
    ("api", "where", "value", "pointer"),
    [
        ("facturacion", f"{CLIENTS}/rules/0/unique", "numero_documento", f"{CLIENTS}/rules/0/unique"),
        ("facturacion", f"{LOGIN}/credential", "oauth", f"{LOGIN}/credential"),
        (
            "daftra",
            "/x-mock/resources/invoices/computed/summary_paid",
            "sum(",
            "/x-mock/resources/invoices/computed/summary_paid",
        ),
    ],
)
def test_serve_refuses_a_bad_spec_with_exit_status_2_and_no_traceback(tmp_path, api, where, value, pointer):
    path = write_spec(tmp_path / "specs", api, (where, value))
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--specs", str(path.parent)]
        + ["--fixtures", str(DEFAULT_FIXTURES), "--port", "0", "--no-reload"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPOSITORY,
    )
    assert result.returncode == 2, result.stderr
    assert re.search(rf"^error: {re.escape(str(path))}: #{re.escape(pointer)}: \S", result.stderr, re.M), result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_hot_reload_keeps_the_old_api_serving_and_logs_the_pointer(tmp_path, caplog):
    path = write_spec(tmp_path / "specs", "facturacion")
    app = create_app(specs_dir=path.parent, fixtures_dir=DEFAULT_FIXTURES)
    headers = {"Authorization": "Bearer 1|sunat_demo_admin_token", "Accept": "application/json"}
    assert get(app, "/api/v1/clients/1", headers).status_code == 200
    write_spec(tmp_path / "specs", "facturacion", (f"{CLIENT}/response", [200]))
    with caplog.at_level(logging.ERROR, logger="mockserver"):
        app.state.server.reload({path})
    assert get(app, "/api/v1/clients/1", headers).json()["data"]["id"] == 1
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"{path}: #{CLIENT}/response: expected an object, got an array" in logged
    assert "previous version keeps serving" in logged


def test_the_schema_is_served_by_the_admin_api():
    response = get(create_app(), "/__mock/x-mock.schema.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/schema+json")
    assert response.json() == json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert response.json()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


# -- the README's x-mock reference and the schema say the same -------------------
README = (REPOSITORY / "README.md").read_text(encoding="utf-8")
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))["$defs"]
SECTION = README.split("## Declaring behaviour in a spec (`x-mock`)", 1)[1].split("\n## ", 1)[0]


def _table(title: str) -> dict[str, str]:
    """A reference table of the section: each key of the first column -> its row's meaning."""
    text = SECTION.split(f"**{title}**", 1)[1]
    rows = re.findall(r"^\| (`.+?) \| (.+) \|$", text.split("\n\n", 2)[1], re.M)
    return {key.split(".")[0]: meaning for keys, meaning in rows for key in re.findall(r"`([^`]+)`", keys)}


@pytest.mark.parametrize(("title", "part"), [("Document level", "api"), ("Operation level", "operation")])
def test_the_readme_tables_name_exactly_the_schema_keys(title, part):
    assert set(_table(title)) == set(SCHEMA[part]["properties"])


def test_the_readme_names_every_resource_and_security_scheme_key():
    resource_row = _table("Document level")["resources"]
    assert [k for k in SCHEMA["resource"]["properties"] if f"`{k}`" not in resource_row] == []
    schemes = SECTION.split("Security schemes carry", 1)[1].split("\n\n", 1)[0]
    assert [k for k in SCHEMA["scheme"]["properties"] if not re.search(rf"\b{k}\b", schemes)] == []
    assert "/__mock/x-mock.schema.json" in SECTION and "`x-certification`" in SECTION


def test_the_readme_documents_the_schema_extensions_the_loader_checks():
    assert [name for name in SCHEMA_EXTENSIONS if f"`{name}`" not in SECTION] == []
    assert [key for key in SCHEMA["file"]["properties"] if f"`{key}`" not in README] == []
