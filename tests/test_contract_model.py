"""The contract harness's model of each API: what it expects is what the mock answers."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from jsonschema import Draft202012Validator

from mockserver.harness import scenarios, semantics
from mockserver.harness.semantics import cli_command, cli_config
from mockserver.harness.settings import Settings
from mockserver.harness.target import Target, find_model, find_spec, seed_credentials
from mockserver.pipeline.validation import scalar_coercer
from mockserver.spec.schemas import merged_properties

APIS = Settings.all_apis()


@pytest.mark.parametrize("api", APIS)
def test_each_scheme_reads_back_the_credential_it_presents(api):
    for scheme in find_model(api).api.auth.schemes.values():
        presented = scheme.present("some-credential")
        headers = presented if scheme.location == "header" else {}
        query = presented if scheme.location == "query" else {}
        assert scheme.presented(httpx.Headers(headers), query, {}) == "some-credential"


@pytest.mark.parametrize("api", APIS)
def test_the_seeded_credential_is_accepted_and_a_bogus_one_refused(http, api):
    model = find_model(api)
    headers, _ = seed_credentials(model)
    lister = next(op for op in model.spec.operations if op.mock.action == "list" and "{" not in op.path)
    assert http.get(lister.path, headers=headers).status_code == 200
    for scheme in model.schemes_of(lister):  # Daftra's list takes the API key or an OAuth bearer
        assert http.get(lister.path, headers=scheme.present("not-a-real-credential")).status_code == 401


@pytest.mark.parametrize("api", APIS)
def test_the_login_answer_carries_a_credential_where_the_model_says(http, api):
    model = find_model(api)
    login = model.login()
    if login is None:
        assert seed_credentials(model)[1] is None  # no login body without a login operation
        return
    body = seed_credentials(model)[1]
    answer = http.post(login.operation.path, json=body)
    assert answer.status_code == login.operation.mock.response.status
    credential = answer.json()
    for part in login.selector.strip("/").split("/"):
        credential = credential[part]
    me = next(op for op in model.spec.operations if op.security and "{" not in op.path and op.method == "GET")
    assert http.get(me.path, headers=login.scheme.present(credential)).status_code == 200


@pytest.mark.parametrize("api", APIS)
def test_list_rows_are_found_where_the_answer_keeps_them(http, api):
    model = find_model(api)
    headers, _ = seed_credentials(model)
    for lister in (op for op in model.spec.operations if op.mock.action == "list" and "{" not in op.path):
        if any(param.get("required") and param["in"] == "query" for param in lister.parameters):
            continue  # a search that lists nothing until asked (the ubigeo search's q)
        probe = model.compiled(lister).behaviour.response({"records": [{"id": 987654}]})
        if "987654" not in json.dumps(probe.body):
            continue  # rows documented without their ids (a catalog such as the document types): nothing to find them by
        shape = model.rows_shape(lister)
        assert shape is not None, lister.path
        seeded = {record["id"] for record in model.seed.get(lister.mock.resource or "", [])}
        listed = {record["id"] for record in shape.records(http.get(lister.path, headers=headers).json())}
        assert listed <= seeded and (listed or not seeded), lister.path


@pytest.mark.parametrize("api", APIS)
def test_an_invalid_body_gets_the_status_the_model_expects(http, api):
    model = find_model(api)
    headers, _ = seed_credentials(model)
    create = next(op for op in model.spec.operations if op.mock.action == "create" and "{" not in op.path)
    response = http.post(create.path, headers=headers, json=[])
    assert response.status_code == model.validation_status(create)


def test_a_spec_without_fixtures_has_no_seeded_credentials(tmp_path: Path):
    model = find_model(APIS[0], fixtures_dir=tmp_path)
    assert model.seed == {}
    assert seed_credentials(model) == ({}, None)


@pytest.mark.parametrize("api", APIS)
def test_a_wrong_type_scenario_sends_what_the_api_does_not_read_as_the_type(api):
    """`x-mock.input.coerce` says what the service reads as the field's type; the scenario sends something else."""
    spec = find_spec(api)
    coercion = spec.mock.input.coerce
    checked = 0
    for operation in (op for op in spec.operations if op.mock.action == "create"):
        properties = merged_properties(operation.record_schema())
        for field, rule, value in scenarios.violations(operation.record_schema(), coercion):
            if rule == "type":
                schema = properties[field]
                coerce = scalar_coercer(schema, coercion)
                read = coerce(value) if coerce is not None else value
                errors = list(Draft202012Validator({"type": schema["type"]}).iter_errors(read))
                assert errors, f"{operation.operation_id}: {field} {value!r} is read as {read!r}"
                checked += 1
    assert checked


def test_the_spec_cache_serves_the_api_names_and_the_specs(monkeypatch):
    names = Settings.all_apis()
    specs = {name: find_spec(name) for name in names}

    def reloaded(path: Path) -> None:
        raise AssertionError(f"{path} loaded again")

    monkeypatch.setattr("mockserver.spec.openapi.load_spec", reloaded)
    for module in ("mockserver.harness.settings", "mockserver.harness.target"):
        monkeypatch.setattr(f"{module}.load_spec", reloaded, raising=False)
    assert Settings.all_apis() == names
    assert all(find_spec(name) is spec for name, spec in specs.items())


def test_dynamic_auth_replaces_only_the_headers_its_login_scheme_presents(tmp_path, monkeypatch):
    model = find_model("facturacion")
    login = model.login()
    api_key = find_model("daftra").scheme()  # an apiKey scheme: the APIKEY header
    assert login is not None and api_key is not None
    monkeypatch.setattr(model, "login", lambda: dataclasses.replace(login, scheme=api_key))
    headers = {"APIKEY": "static", "Authorization": "Bearer static", "X-Other": "1"}
    target = Target(model=model, base_url="http://mock", headers=headers, login_body={"email": "a", "password": "b"})
    try:
        config = cli_config(target, Settings(apis=["facturacion"]))
        assert "auth" in config
        command = cli_command(target, config, tmp_path, "stateful")
    finally:
        target.close()
    sent = [command[index + 1] for index, part in enumerate(command) if part == "-H"]
    assert sent == ["Authorization: Bearer static", "X-Other: 1"]


def test_the_cli_hooks_log_to_the_variable_the_harness_sets(tmp_path, monkeypatch):
    """The schemathesis process the harness starts logs its creations where MOCKSERVER_CONTRACT_CALL_LOG says."""
    from mockserver.harness import cli_hooks

    log = tmp_path / "calls.ndjson"
    monkeypatch.setenv("MOCKSERVER_CONTRACT_CALL_LOG", str(log))
    case = SimpleNamespace(operation=SimpleNamespace(method="POST", path="/api/v1/clients"))
    cli_hooks.after_call(None, case, SimpleNamespace(status_code=201, content=b'{"id": 7}'))
    assert json.loads(log.read_text()) == {
        "method": "POST",
        "path": "/api/v1/clients",
        "status": 201,
        "body": '{"id": 7}',
    }


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"operation": ["createClient"]}, {("POST", "/api2/clients")}),
        ({"operation": ["createClient", "getClient"]}, {("POST", "/api2/clients"), ("GET", "/api2/clients/{id}")}),
        ({"read_only": "true", "operation": ["createClient", "getClient"]}, {("GET", "/api2/clients/{id}")}),
    ],
)
def test_the_conformance_layer_tests_only_the_operations_asked_for(options, expected):
    schema = semantics.load_schema("daftra", Settings.resolve({"api": ["daftra"], **options}))
    tested = {(op.ok().method.upper(), op.ok().path) for op in schema.get_all_operations()}
    assert tested == expected


def test_read_only_conformance_sends_no_writes():
    schema = semantics.load_schema("daftra", Settings.resolve({"api": ["daftra"], "read_only": "true"}))
    methods = {op.ok().method.upper() for op in schema.get_all_operations()}
    assert methods and methods <= {"GET", "HEAD"}


def test_the_conformance_layer_runs_only_the_phases_asked_for():
    every = semantics.load_schema("daftra", Settings.resolve({"api": ["daftra"], "operation": ["createClient"]}))
    chosen = semantics.load_schema(
        "daftra", Settings.resolve({"api": ["daftra"], "operation": ["createClient"], "phase": ["examples", "fuzzing"]})
    )
    operation = next(op.ok() for op in chosen.get_all_operations())

    def enabled(schema):
        phases = schema.config.phases_for(operation=operation)
        return {name for name in ("examples", "coverage", "fuzzing") if getattr(phases, name).enabled}

    assert enabled(every) == {"examples", "coverage", "fuzzing"}
    assert enabled(chosen) == {"examples", "fuzzing"}


def test_an_unknown_phase_is_refused_naming_the_phases():
    with pytest.raises(ValueError, match="unknown phase stateful; the phases are examples, coverage, fuzzing"):
        Settings.resolve({"api": ["daftra"], "phase": ["examples", "stateful"]})


def test_the_stateful_layer_is_left_out_when_no_link_joins_the_operations_chosen():
    spec = find_spec("daftra")
    assert semantics.link_count(spec, ["listClients"]) == 0 < semantics.link_count(spec, ["createClient", "getClient"])
    suite = Path(__file__).parents[1] / "contract_tests" / "test_stateful.py"

    def collect(*operations: str) -> subprocess.CompletedProcess[str]:
        chosen = [f"--contract-operation={operation_id}" for operation_id in operations]
        command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", str(suite)]
        return subprocess.run([*command, "--contract-api=daftra", *chosen], capture_output=True, text=True)

    alone = collect("listClients")
    assert "1 deselected" in alone.stdout, alone.stdout
    assert "daftra: the stateful layer was left out: no OpenAPI link between the operations chosen" in alone.stdout
    linked = collect("createClient", "getClient")
    assert "test_stateful_workflows[daftra]" in linked.stdout and "left out" not in linked.stdout, linked.stdout
