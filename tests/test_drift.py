"""`mockserver drift`: a deployment's answers compared with a fresh mock's, request by request.

The comparison is tested in-process on pairs of answers; the drift of the
broken servers (tests/broken_servers.py) is found in-process too, each
broken server an app in this process. The command itself runs as a process
against live servers: the upstream-like Facturación deployment
(tests/upstream_server.py), whose six deviations must each be a finding of
its own, and the mock, which must show none.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from broken_servers import CLIENT_OPERATIONS, FAULTS, Fault, Raw, _operation, changed_in_process
from click.testing import CliRunner

from mockserver.cli import main
from mockserver.harness import drift, drift_report, probes
from mockserver.harness.compare import Seen, compare
from mockserver.harness.target import Target, find_model, seed_credentials
from mockserver.server.process import ServerProcess

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from starlette.testclient import TestClient

HERE = Path(__file__).parent
UPSTREAM_SERVER = (sys.executable, "-m", "uvicorn", "--factory", "upstream_server:app", "--app-dir", str(HERE))
JSON = "application/json"
VOLATILE = frozenset({"id", "created_at"})


def kinds(mock: Seen, deployment: Seen, **options: bool) -> list[tuple[str, str]]:
    return [(d.kind, d.detail) for d in compare(mock, deployment, VOLATILE, **options)]


# -- the comparison ------------------------------------------------------------------------------


def test_a_5xx_where_the_mock_answers_is_named_so_before_any_other_status_difference():
    assert kinds(Seen(201, JSON, {}), Seen(500, JSON, {})) == [("5xx", "mock 201, deployment 500")]
    assert kinds(Seen(422, JSON, {}), Seen(201, JSON, {})) == [("rule not enforced", "mock 422, deployment 201")]
    assert kinds(Seen(404, JSON, {}), Seen(422, JSON, {})) == [("different status", "mock 404, deployment 422")]
    assert kinds(Seen(200, JSON, {}), Seen(404, JSON, {}), side_effect=True) == [
        ("side effect missing", "mock 200, deployment 404")
    ]


def test_fields_are_compared_by_presence_type_and_value_except_the_volatile_values():
    mock = Seen(201, JSON, {"data": {"id": 1, "created_at": "a", "name": "x", "email": None, "n": 1, "tags": [1]}})
    deployment = Seen(201, JSON, {"data": {"id": 9, "created_at": "b", "name": "y", "n": "1", "tags": [1], "extra": 0}})
    assert kinds(mock, deployment) == [
        ("missing field", "/data/email"),
        ("unexpected field", "/data/extra"),
        ("different type", "/data/n (number / string)"),
        ("different value", "/data/name"),
    ]
    # a volatile name is compared for its presence all the same
    assert kinds(Seen(200, JSON, {"id": 1}), Seen(200, JSON, {})) == [("missing field", "/id")]


def test_a_refusal_s_words_are_its_message_and_a_shape_comparison_still_reads_them():
    mock, deployment = (
        Seen(422, JSON, {"message": "The a field is required."}),
        Seen(422, JSON, {"message": "El campo"}),
    )
    assert kinds(mock, deployment, values=False) == [("different message", "/message")]
    # a refusal with other fields is one finding: another error envelope
    assert kinds(Seen(401, JSON, {"code": 401, "message": "No"}), Seen(401, JSON, {"error": "No"})) == [
        ("different envelope", "missing /code, /message; unexpected /error")
    ]
    listed = Seen(200, JSON, {"data": [{"name": "a", "email": None}]})
    other = Seen(200, JSON, {"data": [{"name": "b", "email": "e@x.pe"}, {"name": "c", "email": None}]})
    assert kinds(listed, other, values=False) == []
    assert kinds(listed, Seen(200, JSON, {"data": [{"name": 5}]}), values=False) == [
        ("missing field", "/data/0/email"),
        ("different type", "/data/0/name (string / number)"),
    ]


def test_a_different_content_type_is_named_before_the_body():
    assert kinds(Seen(200, JSON, {}), Seen(200, "text/html; charset=utf-8", "<html>")) == [
        ("different content type", "mock application/json, deployment text/html; charset=utf-8")
    ]


# -- the probes ---------------------------------------------------------------------------------


def test_probes_come_from_the_spec_and_read_only_sends_only_gets():
    spec = find_model("facturacion").spec
    names = {(p.label, p.name) for p in probes.build(spec, ("createClient",))}
    assert ("POST /api/v1/clients", "numero_documento at its maxLength 20") in names
    assert ("POST /api/v1/clients", "company_id left out (the spec defaults it)") in names
    assert ("POST /api/v1/clients", "company_id names no record") in names
    create = next(op for op in spec.operations if op.operation_id == "createClient")
    edges = {(field, kind): value for field, kind, value in probes.boundaries(create)}
    assert len(edges["numero_documento", "at its maxLength 20"]) == 20
    assert edges["ubigeo", "breaks its pattern at the example's length ('xxxxxx')"] == "xxxxxx"
    read_only = probes.build(spec, read_only=True)
    assert read_only and {p.operation.method for p in read_only} == {"GET"} and not any(p.writes for p in read_only)


# -- the broken servers, in-process --------------------------------------------------------------


def _hard_delete(raw: Raw) -> None:
    """The client's DELETE removes the record, where the spec deactivates it (a soft delete)."""
    del _operation(raw, "deactivateClient")["x-mock"]["soft"]


#: each broken server (tests/broken_servers.py, and a hard delete): (fault, operations probed, the probe that
#: meets it, the finding it must give: the operation and its kind)
BROKEN = {
    "wrong status code": (
        FAULTS["wrong status code"],
        (),
        "only the required fields",
        "POST /api/v1/clients",
        "different status",
    ),
    "missing required field": (
        FAULTS["missing required field"],
        ("getClient",),
        "documented example",
        "GET /api2/clients/{id}",
        "missing field",
    ),
    "wrong type": (
        FAULTS["wrong type"],
        ("createClient",),
        "only the required fields",
        "POST /api2/clients",
        "different type",
    ),
    "duplicate accepted": (FAULTS["duplicate accepted"], (), "twice", "POST /api/v1/clients", "rule not enforced"),
    "credentials ignored": (
        FAULTS["credentials ignored"],
        (),
        "credentials",
        "GET /api/v1/clients",
        "rule not enforced",
    ),
    "wrong error envelope": (
        FAULTS["wrong error envelope"],
        ("getClient",),
        "credentials",
        "GET /api2/clients/{id}",
        "different envelope",
    ),
    "500 on bad input": (FAULTS["500 on bad input"], (), "breaks required", "POST /api/v1/clients", "5xx"),
    "deleted record still readable": (
        FAULTS["deleted record still readable"],
        CLIENT_OPERATIONS,
        "read back",
        "POST /api2/clients",
        "side effect missing",
    ),
    "hard delete": (
        Fault("facturacion", "", "", change_spec=_hard_delete),
        (),
        "read back",
        "POST /api/v1/clients",
        "side effect missing",
    ),
}


@pytest.mark.parametrize(("fault", "operations", "probe", "operation", "kind"), BROKEN.values(), ids=BROKEN)
def test_each_broken_server_drifts_where_its_fault_is(fault, operations, probe, operation, kind):
    model = find_model(fault.api)
    app = changed_in_process(fault.api, fault.change_spec)
    served = fault.wrap(app) if fault.wrap is not None else app
    chosen = [p for p in probes.build(model.spec, operations or ("createClient", "listClients")) if probe in p.name]
    with (
        drift.mock_in_process(model) as mock,
        TestClient(served, base_url="http://deployment", raise_server_exceptions=False) as client,
    ):
        deployment = Target(model, "http://deployment", seed_credentials(model)[0], http_client=client)
        run = drift.run(mock, deployment, chosen)
    assert chosen and {(f.operation, f.kind) for f in run.findings} == {(operation, kind)}, run.findings


def test_every_broken_server_is_met():
    assert set(FAULTS) <= set(BROKEN)


def test_the_html_report_shows_an_answer_s_markup_as_text():
    side = drift.Side(500, "<script>alert(1)</script>", "curl -X POST 'http://staging/x'")
    finding = drift.DriftFinding("POST /x", "5xx", "answer", "mock 201, deployment 500", side, side)
    page = drift_report.html(drift.DriftRun("facturacion", "http://staging", 1, 1, [finding], ["POST /x"]))
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<h3>5xx</h3>" in page and "<pre><code" in page


# -- the command, against live servers -------------------------------------------------------------


def run_drift(api: str, url: str, *options: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "mockserver", "drift", api, "--target", url]
    for name, value in seed_credentials(find_model(api))[0].items():
        command += ["--header", f"{name}: {value}"]
    return subprocess.run([*command, *options], capture_output=True, text=True, timeout=120)


#: the upstream deviations of facturacion-api.md §9, each as (kind, step) of its finding on POST /api/v1/clients
UPSTREAM_DEVIATIONS = {
    ("different status", "company_id left out (the spec defaults it)"),
    ("5xx", "the same company_id+tipo_documento+numero_documento in another company_id: under company_id 2"),
    ("5xx", "numero_documento at its maxLength 20"),
    ("rule not enforced", "ubigeo breaks its pattern at the example's length ('xxxxxx')"),
    ("different status", "company_id names no record"),
    ("missing field", "only the required fields"),
}


@pytest.mark.xdist_group("live-qa")
def test_each_upstream_deviation_is_a_finding_of_its_own_in_every_report(tmp_path):
    with ServerProcess(launcher=UPSTREAM_SERVER) as server:
        result = run_drift("facturacion", server.url, "--report", str(tmp_path))
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads((tmp_path / "drift.json").read_text())
    found = {(f["kind"], f["step"]) for f in report["findings"]}
    assert found == UPSTREAM_DEVIATIONS
    assert {f["operation"] for f in report["findings"]} == {"POST /api/v1/clients"}
    cross_company = next(f for f in report["findings"] if f["kind"] == "5xx" and "another" in f["step"])
    assert (cross_company["mock"]["status"], cross_company["deployment"]["status"]) == (201, 500)
    assert "Duplicate entry" in cross_company["deployment"]["body"]["message"]
    assert (
        cross_company["deployment"]["curl"].startswith("curl -X POST")
        and server.url in cross_company["deployment"]["curl"]
    )
    assert "Bearer [Filtered]" in cross_company["deployment"]["curl"]
    markdown = (tmp_path / "drift.md").read_text()
    assert "## `POST /api/v1/clients`" in markdown and "### 5xx" in markdown
    assert "#### numero_documento at its maxLength 20" in markdown and "| status | 201 | 500 |" in markdown
    page = (tmp_path / "drift.html").read_text()
    assert page.startswith("<!doctype html>") and "<h2><code>POST /api/v1/clients</code></h2>" in page
    assert "<td>201</td>\n<td>500</td>" in page and "<table>" in page
    junit = ElementTree.parse(tmp_path / "drift.xml").getroot()
    failed = {case.get("name") for case in junit.iter("testcase") if case.find("failure") is not None}
    assert failed == {"5xx", "rule not enforced", "different status", "missing field"}
    assert "ubigeo breaks its pattern" in result.stdout and "6 finding(s)" in result.stdout
    for credential in seed_credentials(find_model("facturacion"))[0].values():
        secret = credential.split()[-1]
        assert secret not in result.stdout + markdown + (tmp_path / "drift.json").read_text()


@pytest.mark.xdist_group("live-qa")
def test_the_mock_against_itself_shows_no_drift_and_a_refused_credential_is_a_usage_error(facturacion_server):
    url = facturacion_server.url
    result = run_drift("facturacion", url)
    refused = CliRunner().invoke(
        main, ["drift", "facturacion", "--target", url, "--header", "Authorization: Bearer nope"]
    )
    login = json.dumps(seed_credentials(find_model("facturacion"))[1])
    listing = ["drift", "facturacion", "--target", url, "--operation", "listClients"]
    logged_in = CliRunner().invoke(main, [*listing, "--login", login])
    wrong_password = CliRunner().invoke(main, [*listing, "--login", login.replace("secret123", "wrong")])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "no drift" in result.stdout and "not removed" not in result.stdout
    assert refused.exit_code == 2 and "refuses the credentials" in refused.output
    assert logged_in.exit_code == 0 and "no drift" in logged_in.output, logged_in.output
    assert wrong_password.exit_code == 2 and "the login on the deployment issued no credential" in wrong_password.output


def test_an_unreachable_deployment_or_an_unknown_operation_is_a_usage_error():
    unreachable = CliRunner().invoke(main, ["drift", "facturacion", "--target", "http://127.0.0.1:9"])
    assert unreachable.exit_code == 2 and "cannot reach" in unreachable.output
    unknown = CliRunner().invoke(
        main, ["drift", "facturacion", "--target", "http://127.0.0.1:9", "--operation", "nope"]
    )
    assert unknown.exit_code == 2 and "no operation nope" in unknown.output
    not_json = CliRunner().invoke(main, ["drift", "facturacion", "--target", "http://127.0.0.1:9", "--login", "{"])
    assert not_json.exit_code == 2 and "--login is not JSON" in not_json.output


def test_a_login_body_that_is_no_json_object_is_a_usage_error_of_contract_too():
    listed = CliRunner().invoke(main, ["contract", "facturacion", "--base-url", "http://127.0.0.1:9", "--login", "[1]"])
    assert listed.exit_code == 2 and "--login must be a JSON object" in listed.output, listed.output
