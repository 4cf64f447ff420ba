"""`mockserver proxy` and `mockserver record`: traffic to a deployment checked against the spec, and turned into fixtures.

The proxy's checks are tested in-process: the proxy app forwards to an app
in this process (the upstream-like Facturación deployment, or the mock).
The commands run as processes once: a proxy in front of a live mock records
a HAR, `mockserver record` turns it into fixtures, and the mock serves them.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import warnings

import httpx
import pytest
import yaml
from broken_servers import changed_in_process
from upstream_server import app as upstream_app

from mockserver.config import DEFAULT_FIXTURES, ServerConfig
from mockserver.harness import record
from mockserver.harness.proxy import HEADER_LIMIT, proxy_app
from mockserver.harness.target import find_model, seed_credentials
from mockserver.server.app import create_app
from mockserver.server.process import free_port

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from starlette.testclient import TestClient

MODEL = find_model("facturacion")
HEADERS = seed_credentials(MODEL)[0]
CLIENTS = "/api/v1/clients"
NEW = {"company_id": 1, "tipo_documento": "6", "numero_documento": "20999000111", "razon_social": "PROXY S.A.C."}


@pytest.fixture(scope="module")
def upstream():
    """The upstream-like deployment, built once for the module (each test sends documents of its own)."""
    return upstream_app()


def through_proxy(deployment, **options):
    app = proxy_app(MODEL, "http://deployment", transport=httpx.ASGITransport(app=deployment), **options)
    return TestClient(app, base_url="http://proxy")


def violations(response: httpx.Response) -> str:
    return response.headers.get("x-mock-violations", "")


def test_the_upstream_deviations_seen_in_traffic_are_flagged_and_the_answer_passes_unchanged(upstream):
    with through_proxy(upstream) as proxy:
        accepted = proxy.post(CLIENTS, json={**NEW, "ubigeo": "abcdef"}, headers=HEADERS)
        server_error = proxy.post(CLIENTS, json={**NEW, "company_id": 2}, headers=HEADERS)
        fine = proxy.get(f"{CLIENTS}/1", headers=HEADERS)
        journal = proxy.get("/__proxy/journal").json()["entries"]
        flagged = proxy.get("/__proxy/journal", params={"violations": "true", "status": "5xx"}).json()
    assert accepted.status_code == 201 and "ubigeo" in accepted.json()["data"]
    assert "request_refused_by_spec_accepted" in violations(accepted) and "body ubigeo (pattern)" in violations(
        accepted
    )
    # a 201 body with only the sent fields breaks the documented schema
    assert "response_schema_conformance" in violations(accepted) and "'direccion' is a required property" in violations(
        accepted
    )
    assert server_error.status_code == 500 and "Duplicate entry" in server_error.json()["message"]
    assert "not_a_server_error: 500" in violations(server_error)
    assert violations(fine) == "" and fine.json()["data"]["id"] == 1
    assert [entry["status"] for entry in journal] == [200, 500, 201], "newest first"
    assert [entry["status"] for entry in flagged["entries"]] == [500] and flagged["count"] == 1
    assert journal[2]["request_headers"]["authorization"] == "[masked]"
    assert "Bearer [Filtered]" in journal[2]["curl"] and "sunat_demo" not in json.dumps(journal)


def test_rules_seen_from_traffic_a_duplicate_or_a_missing_reference_accepted():
    broken = changed_in_process("facturacion", _without_rules)
    with through_proxy(broken) as proxy:
        first = proxy.post(CLIENTS, json=NEW, headers=HEADERS)
        again = proxy.post(CLIENTS, json=NEW, headers=HEADERS)
        assert proxy.get("/api/v1/companies/77", headers=HEADERS).status_code == 404
        dangling = proxy.post(
            CLIENTS, json={**NEW, "numero_documento": "20999000112", "company_id": 77}, headers=HEADERS
        )
        undocumented = proxy.get("/api/v1/nowhere", headers=HEADERS)
    assert first.status_code == again.status_code == 201 and "unique_key" not in violations(first)
    assert "unique_key: a second record with the same company_id+tipo_documento+numero_documento" in violations(again)
    assert "reference_exists: company_id 77 names a record the deployment answered 404 for" in violations(dangling)
    assert "undocumented_route" in violations(undocumented)


def _without_rules(raw):
    raw["paths"][CLIENTS]["post"]["x-mock"]["rules"] = []


def test_errors_turns_a_violating_answer_into_the_api_envelope_and_keeps_the_header_short(upstream):
    with through_proxy(upstream, errors=True) as proxy:
        refused = proxy.post(
            CLIENTS, json={**NEW, "numero_documento": "20999000113", "ubigeo": "abcdef"}, headers=HEADERS
        )
    assert refused.status_code == 502
    body = refused.json()
    assert body["success"] is False and body["message"] == "Errores de validación"
    assert any("request_refused_by_spec_accepted" in message for message in body["errors"]["response"])
    assert len(violations(refused)) <= HEADER_LIMIT


@pytest.mark.xdist_group("live-qa")
def test_a_proxy_records_a_har_that_record_turns_into_fixtures_the_mock_serves(tmp_path, facturacion_server):
    har, report, fixtures = tmp_path / "traffic.har", tmp_path / "report", tmp_path / "fixtures"
    port = free_port()
    command = [sys.executable, "-m", "mockserver", "proxy", "facturacion", "--target", facturacion_server.url]
    command += ["--port", str(port), "--har", str(har), "--report", str(report)]
    proxy = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url, proxy)
        created = httpx.post(url + CLIENTS, json=NEW, headers=HEADERS)
        listed = httpx.get(url + CLIENTS, headers=HEADERS)
    finally:
        proxy.send_signal(signal.SIGINT)
        out, err = proxy.communicate(timeout=30)
    assert created.status_code == 201 and listed.status_code == 200 and violations(created) == ""
    assert "2 exchange(s) through the proxy, 0 with violations" in out, out + err
    assert json.loads((report / "proxy.json").read_text())["exchanges"][0]["status"] == 201
    assert "sunat_demo" not in har.read_text() + (report / "proxy.md").read_text()
    assert "<h1>Traffic to" in (report / "proxy.html").read_text()
    recorded = subprocess.run(
        [
            sys.executable,
            "-m",
            "mockserver",
            "record",
            str(har),
            "--api",
            "facturacion",
            "--to",
            str(fixtures / "facturacion.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert recorded.returncode == 0, recorded.stderr
    served = create_app(ServerConfig(fixtures_dir=fixtures, reload=False), specs=[MODEL.spec])
    with TestClient(served, base_url="http://mock") as mock:
        again = mock.get(f"{CLIENTS}/{created.json()['data']['id']}", headers=HEADERS)
        listed_again = mock.get(CLIENTS, headers=HEADERS).json()
    assert again.status_code == 200 and again.json()["data"]["numero_documento"] == NEW["numero_documento"]
    assert listed_again["meta"]["total"] == listed.json()["meta"]["total"]


def _wait(url: str, proxy: subprocess.Popen[str]) -> None:
    # a loaded two-core machine has taken 22 s to start it
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proxy.poll() is None:
        try:
            httpx.get(url + "/__proxy/journal", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("the proxy did not start")


def test_record_keeps_records_that_fit_their_schema_without_relations_or_secrets(tmp_path):
    client = {
        **MODEL.seed["clients"][0],
        "id": 41,
        "api_token": "s3cret",
        "company": {"id": 1, "ruc": "1", "razon_social": "X"},
    }
    partial = {"id": 42, "company_id": 1, "tipo_documento": "6", "numero_documento": "1", "razon_social": "Y"}
    har = tmp_path / "traffic.har"
    har.write_text(
        json.dumps(
            {
                "log": {
                    "entries": [
                        _entry(f"{CLIENTS}/41", {"success": True, "data": client}),
                        _entry(f"{CLIENTS}/42", {"success": True, "data": partial}),
                    ]
                }
            }
        )
    )
    out = tmp_path / "fixtures" / "facturacion.yaml"
    left_out = record.write(
        MODEL, recording := record.record(MODEL, har), out, MODEL.spec.fixtures_file(DEFAULT_FIXTURES)
    )
    written = yaml.safe_load(out.read_text())
    assert [c["id"] for c in written["clients"]] == [41] and list(recording.records["clients"]) == [41]
    assert "api_token" not in written["clients"][0] and "company" not in written["clients"][0]
    assert len(left_out) == 1 and left_out[0].startswith("left out: clients record id 42 does not fit its schema")
    assert written["tokens"] == yaml.safe_load((DEFAULT_FIXTURES / "facturacion.yaml").read_text())["tokens"]


def _entry(path, body):
    return {
        "request": {"method": "GET", "url": "http://staging" + path},
        "response": {"status": 200, "content": {"text": json.dumps(body)}},
    }


def test_record_splits_child_lines_into_their_own_records_pointing_at_their_parent(tmp_path, make_mock):
    daftra = find_model("daftra")
    headers = seed_credentials(daftra)[0]
    answer = make_mock().get("/api2/invoices/1", headers=headers).json()
    items = answer["data"]["Invoice"]["InvoiceItem"]
    unnumbered = {**items[0], "item": "Desk", "unit_price": 250, "quantity": 2}
    del unnumbered["id"], unnumbered["invoice_id"]
    items.append(unnumbered)
    har = tmp_path / "traffic.har"
    har.write_text(json.dumps({"log": {"entries": [_entry("/api2/invoices/1", answer)]}}))
    out = tmp_path / "fixtures" / "daftra.yaml"
    recording = record.record(daftra, har)
    assert record.write(daftra, recording, out, daftra.spec.fixtures_file(DEFAULT_FIXTURES)) == []
    written = yaml.safe_load(out.read_text())
    invoice = next(i for i in written["invoices"] if i["id"] == 1)
    assert "InvoiceItem" not in invoice and "summary_total" not in invoice, "child lists and figures are derived"
    lines = [line for line in written["invoice_items"] if line["invoice_id"] == 1]
    assert [line["item"] for line in lines] == [items[0]["item"], "Desk"]
    assert lines[1]["id"] == max(line["id"] for line in written["invoice_items"]), "numbered after the recorded ones"
    served = make_mock(fixtures_dir=out.parent).get("/api2/invoices/1", headers=headers).json()["data"]["Invoice"]
    assert [line["item"] for line in served["InvoiceItem"]] == [items[0]["item"], "Desk"]
    assert served["summary_subtotal"] == items[0]["subtotal"] + 500
