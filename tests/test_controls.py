"""What a caller can steer, in-process: forced answers, latency and faults, the admin API, the journal,
sessions, CORS and the served docs; transport faults and the printed admin token against a live server."""

from __future__ import annotations

import asyncio
import gc
import time
import weakref
from collections.abc import Iterator

import httpx
import pytest
from inprocess import MOCK_URL
from jsonschema import Draft202012Validator
from seed import ADMIN, DAFTRA, FACTURACION_SEED

from mockserver.config import DEFAULT_SPECS
from mockserver.server.app import FREEZE_AFTER, create_app
from mockserver.server.process import ServerProcess
from mockserver.spec.openapi import load_spec

pytestmark = pytest.mark.both_backends  # tests/conftest.py: on memory and on Redis

LOGIN = "/api/auth/login"


def daftra_response_schema(operation_id: str, status: int) -> dict:
    spec = load_spec(DEFAULT_SPECS / "daftra.yaml")
    operation = next(op for op in spec.operations if op.operation_id == operation_id)
    return operation.response_schema(status)


def new_client(number: str) -> dict:
    return {
        "company_id": 1,
        "tipo_documento": "1",
        "numero_documento": number,
        "razon_social": "Cliente Controles",
        "email": "controles@example.pe",
    }


# -- forced answers ---------------------------------------------------------


def test_prefer_picks_a_documented_status_and_named_example(mock):
    response = mock.post(LOGIN, json={}, headers={"Prefer": "code=401, example=inactive"})
    assert response.status_code == 401 and response.json() == {"message": "Usuario inactivo", "status": "error"}
    by_query = mock.post(LOGIN, json={}, params={"__code": "401", "__example": "invalid_credentials"})
    assert by_query.json()["message"] == "Credenciales incorrectas"


def test_an_unknown_example_is_refused_naming_those_that_exist(mock):
    response = mock.post(LOGIN, json={}, headers={"Prefer": "code=401, example=expired"})
    assert response.status_code == 422
    assert response.json()["message"] == (
        "No example named 'expired' for response 401; available: invalid_credentials, inactive"
    )


def test_dynamic_answers_fit_the_schema_and_repeat_with_the_seed(make_mock):
    schema = daftra_response_schema("getClient", 200)
    answers = []
    for _ in range(2):
        client = make_mock(seed=7)
        bodies = [client.get("/api2/clients/1", headers={**DAFTRA, "Prefer": "dynamic=true"}).json() for _ in range(3)]
        for body in bodies:
            assert not list(Draft202012Validator(schema).iter_errors(body))
        answers.append(bodies)
    assert answers[0] == answers[1], "the same seed gives the same answers"
    assert answers[0][0] != answers[0][1], "each answer is made up anew"


# -- latency and faults -----------------------------------------------------


def test_a_delay_slows_only_its_own_request():
    async def scenario() -> tuple[float, float]:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url=MOCK_URL, headers=DAFTRA) as client:
            started = time.monotonic()
            slow = asyncio.create_task(client.get("/api2/clients/1", headers={"Prefer": "delay=1500"}))
            await asyncio.sleep(0.1)
            fast = await client.get("/api2/clients/2")
            fast_done = time.monotonic() - started
            assert (await slow).status_code == 200 and fast.status_code == 200
            return fast_done, time.monotonic() - started

    fast_done, slow_done = asyncio.run(scenario())
    assert slow_done >= 1.5
    assert fast_done < 1.0, "a delayed request must not hold up the others"


@pytest.mark.parametrize(
    "fault,error",
    [
        ("reset", (httpx.ReadError, httpx.RemoteProtocolError)),
        ("empty", httpx.RemoteProtocolError),
        ("malformed", httpx.RemoteProtocolError),
    ],
)
# live: a reset, an empty answer and a malformed chunked body need uvicorn's own socket
def test_transport_faults_break_the_connection(http, fault, error):
    with pytest.raises(error):
        http.get("/api2/clients/1", headers={**DAFTRA, "Prefer": f"fault={fault}"})
    assert http.get("/api2/clients/1", headers=DAFTRA).status_code == 200, "the next request is served"


def test_a_status_fault_answers_the_documented_example(mock):
    response = mock.post("/api/v1/clients", headers={**ADMIN, "Prefer": "fault=500"}, json=new_client("40000001"))
    assert response.status_code == 500
    assert response.json() == {"success": False, "message": "Error al crear cliente: Database connection failed"}
    undocumented = mock.get("/api2/clients/1", headers={**DAFTRA, "Prefer": "fault=503"})
    assert undocumented.status_code == 503
    assert undocumented.json() == {"result": "failed", "code": 503, "message": "fault 503 injected"}


def test_a_bad_delay_is_refused_in_the_envelope(mock):
    response = mock.get("/api2/clients/1", headers={**DAFTRA, "Prefer": "delay=soon"})
    assert response.status_code == 400 and "delay 'soon' not understood" in response.json()["message"]


def test_per_operation_faults_through_the_admin_api(mock):
    rule = mock.put("/__mock/controls/daftra/getClient", json={"fault": "503"})
    assert rule.status_code == 200
    assert {"api": "daftra", "operation": "getClient", "delay": None, "fault": "503", "rate": 1.0} in rule.json()[
        "operations"
    ]
    try:
        assert mock.get("/api2/clients/1", headers=DAFTRA).status_code == 503
        assert mock.get("/api2/clients", headers=DAFTRA).status_code == 200, "other operations are untouched"
        assert mock.get("/api2/clients/1", headers={**DAFTRA, "Prefer": "fault=404"}).status_code == 404, (
            "a request's own preference wins"
        )
    finally:
        mock.delete("/__mock/controls/daftra/getClient")
    assert mock.get("/api2/clients/1", headers=DAFTRA).status_code == 200
    assert mock.put("/__mock/controls/daftra/nothing", json={}).status_code == 404
    assert mock.put("/__mock/controls", json={"delay": "fast"}).status_code == 400


def test_global_latency_and_fault_rate_from_the_command_line(make_mock):
    client = make_mock(delay="200", fault="503", fault_rate=0.5, seed=3)
    started = time.monotonic()
    statuses = [client.get("/api2/clients/1", headers=DAFTRA).status_code for _ in range(20)]
    elapsed = time.monotonic() - started
    assert elapsed >= 20 * 0.2
    assert set(statuses) == {200, 503} and 3 <= statuses.count(503) <= 17


# -- admin API: state -------------------------------------------------------


def test_reset_snapshot_and_restore(mock):
    created = mock.post("/api/v1/clients", headers=ADMIN, json=new_client("40000002"))
    assert created.status_code == 201
    snapshot = mock.get("/__mock/snapshot").json()
    stored = snapshot["apis"]["facturacion"]["clients"]
    assert any(c["numero_documento"] == "40000002" for c in stored)

    assert mock.post("/__mock/reset", params={"api": "facturacion"}).status_code == 200
    listed = mock.get("/__mock/apis/facturacion/resources/clients").json()
    assert listed["count"] == len(FACTURACION_SEED["clients"])

    assert mock.put("/__mock/snapshot", json=snapshot).status_code == 200
    again = mock.get("/api/v1/clients/" + str(stored[-1]["id"]), headers=ADMIN)
    assert again.status_code == 200 and again.json()["data"]["numero_documento"] == "40000002"
    duplicate = mock.post("/api/v1/clients", headers=ADMIN, json=new_client("40000002"))
    assert duplicate.status_code == 400, "restored records are indexed like any other"

    broken = mock.put("/__mock/snapshot", json={"apis": {"nowhere": {}}})
    assert broken.status_code == 400 and "nowhere" in broken.json()["error"]
    assert mock.get("/__mock/apis/facturacion/resources/clients").json()["count"] == len(stored), (
        "a refused restore changes nothing"
    )


@pytest.fixture
def unfrozen_after() -> Iterator[None]:
    """A large restore freezes the whole process's heap (the mock's way); the tests' process thaws it after."""
    yield
    gc.unfreeze()


def test_a_large_restore_replaced_later_frees_its_records(make_mock, unfrozen_after):
    mock = make_mock()
    daftra = mock.app.state.server.api("daftra")
    client = {"business_name": "Bulk", "client_number": "1", "type": 2}
    large = {"apis": {"daftra": {"clients": [{**client, "id": n} for n in range(1, FREEZE_AFTER + 1)]}}}
    assert mock.put("/__mock/snapshot", json=large).status_code == 200
    loaded = weakref.ref(daftra.sessions.default)
    assert len(loaded().table("clients")) == FREEZE_AFTER  # kept out of the collector's sight
    assert mock.post("/__mock/reset").status_code == 200
    assert loaded() is None, "the dropped load is freed, not kept frozen"
    assert mock.put("/__mock/snapshot", json=large).status_code == 200
    again = weakref.ref(daftra.sessions.default)
    assert (
        mock.put("/__mock/snapshot", json={"apis": {"daftra": {"clients": [{**client, "id": 1}]}}}).status_code == 200
    )
    assert again() is None


def test_load_fixtures_replaces_one_api(mock):
    records = {"clients": [{"id": 1, "business_name": "Only One", "client_number": "1", "type": 2}]}
    assert mock.put("/__mock/apis/daftra/fixtures", json=records).status_code == 200
    listed = mock.get("/api2/clients", headers=DAFTRA).json()
    assert [row["Client"]["business_name"] for row in listed["data"]] == ["Only One"]
    mock.post("/__mock/reset")
    assert len(mock.get("/api2/clients", headers=DAFTRA).json()["data"]) > 1


def test_records_can_be_read_per_resource(mock):
    apis = {api["name"]: api for api in mock.get("/__mock/apis").json()["apis"]}
    assert apis["daftra"]["resources"]["clients"] >= 1
    assert any(op["id"] == "createClient" for op in apis["daftra"]["operations"])
    record = mock.get("/__mock/apis/daftra/resources/invoices/1").json()
    assert record["id"] == 1 and "summary_total" in record, "computed fields are shown"
    assert mock.get("/__mock/apis/daftra/resources/invoices/999999").status_code == 404
    assert mock.get("/__mock/apis/nope/resources/x").status_code == 404


# -- journal ----------------------------------------------------------------


def test_journal_newest_first_filtered_and_masked(mock):
    mock.delete("/__mock/journal")
    mock.get("/api2/clients/1", headers=DAFTRA)
    mock.post(LOGIN, json={"email": "admin@demo.pe", "password": "secret123"})
    mock.get("/api/v1/clients", headers={"Authorization": "Bearer nope"})
    journal = mock.get("/__mock/journal").json()
    assert [e["operation"] for e in journal["entries"]] == ["listClients", "login", "getClient"]
    login = journal["entries"][1]
    assert login["request_body"]["password"] == "[masked]"
    assert login["response_body"]["access_token"] == "[masked]"
    assert journal["entries"][0]["request_headers"]["authorization"] == "[masked]"
    assert journal["entries"][2]["request_headers"]["apikey"] == "[masked]"
    text = mock.get("/__mock/journal").text
    assert "secret123" not in text and DAFTRA["APIKEY"] not in text

    assert mock.get("/__mock/journal", params={"status": "401"}).json()["count"] == 1
    assert mock.get("/__mock/journal", params={"api": "daftra"}).json()["count"] == 1
    assert mock.get("/__mock/journal/count", params={"status": "2xx"}).json() == {"count": 2}


def test_journal_explains_requests_that_matched_nothing(mock):
    mock.get("/api2/clientz/5", headers=DAFTRA)
    mock.delete("/api2/site_info", headers=DAFTRA)
    misses = mock.get("/__mock/journal", params={"matched": "false", "limit": 2}).json()["entries"]
    assert misses[0]["miss"]["reason"].startswith("/api2/site_info does not allow DELETE; it allows GET")
    assert misses[1]["miss"]["nearest"] == "GET /api2/clients/{id}"


# -- sessions ---------------------------------------------------------------


def test_sessions_keep_callers_apart(mock):
    alice = {**DAFTRA, "X-Mock-Session": "alice"}
    created = mock.post("/api2/clients", headers=alice, json={"Client": {"business_name": "Alice's"}})
    assert created.status_code == 202
    path = f"/api2/clients/{created.json()['id']}"
    assert mock.get(path, headers=alice).status_code == 200
    assert mock.get(path, headers={**DAFTRA, "X-Mock-Session": "bob"}).status_code == 404
    assert mock.get(path, headers=DAFTRA).status_code == 404, "the default state is not touched"
    names = [s["name"] for s in mock.get("/__mock/sessions").json()["daftra"]]
    assert "alice" in names
    assert mock.delete("/__mock/sessions/alice").status_code == 200
    assert mock.get(path, headers=alice).status_code == 404, "a dropped session starts again from the fixtures"


def test_idle_sessions_are_dropped(make_mock, other_store):
    client = make_mock(session_idle_seconds=0.5, store=other_store)
    headers = {**DAFTRA, "X-Mock-Session": "brief"}
    created = client.post("/api2/clients", headers=headers, json={"Client": {"business_name": "Brief"}})
    time.sleep(1)
    assert client.get(f"/api2/clients/{created.json()['id']}", headers=headers).status_code == 404


# -- CORS and docs ----------------------------------------------------------


def test_browsers_may_call_with_credentials(mock):
    preflight = mock.options(
        "/api/v1/clients",
        headers={
            "Origin": "http://app.test",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, prefer, x-mock-session, apikey",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "http://app.test"
    allowed = preflight.headers["access-control-allow-headers"].lower()
    for header in ("authorization", "apikey", "content-type", "prefer", "x-mock-session"):
        assert header in allowed
    actual = mock.get("/api/v1/clients", headers={**ADMIN, "Origin": "http://app.test"})
    assert actual.headers["access-control-allow-origin"] == "http://app.test"


def test_cors_can_be_switched_off(make_mock):
    response = make_mock(cors=False).get("/api2/clients", headers={**DAFTRA, "Origin": "http://app.test"})
    assert "access-control-allow-origin" not in response.headers


def test_specs_and_docs_are_served(mock):
    served = mock.get("/daftra/openapi.json").json()
    assert served["servers"][0]["url"] == MOCK_URL, "Try it out calls this server"
    assert "/api2/clients" in served["paths"]
    yaml_text = mock.get("/facturacion/openapi.yaml")
    assert yaml_text.headers["content-type"].startswith("application/yaml") and "openapi: 3.1" in yaml_text.text
    page = mock.get("/daftra/docs").text
    assert "/daftra/openapi.json" in page and "/__mock/assets/swagger-ui/swagger-ui-bundle.js" in page
    assert mock.get("/__mock/assets/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert mock.get("/__mock/openapi.json").json()["info"]["title"] == "mockserver admin API"


def test_every_admin_route_is_documented():
    from mockserver.server.admin import admin_document
    from mockserver.server.app import create_app

    app = create_app()
    mount = next(route for route in app.routes if getattr(route, "path", "") == "/__mock")
    served = {route.path for route in mount.routes if hasattr(route, "methods")}
    documented = set(admin_document()["paths"]) | {"/", "/openapi.json", "/openapi.yaml"}
    assert served == documented


# -- admin token ------------------------------------------------------------


# live: making up and printing a token when bound off loopback is the `serve` command's doing
def test_admin_api_needs_a_token_off_loopback():
    with ServerProcess(host="0.0.0.0") as server, httpx.Client() as http:
        token = next(
            line.split(": ", 1)[1].split()[0]
            for line in server.output().splitlines()
            if line.startswith("admin API token")
        )
        base = server.url.replace("0.0.0.0", "127.0.0.1")
        assert http.get(f"{base}/__mock/journal").status_code == 401
        assert http.get(f"{base}/__mock/journal", headers={"X-Mock-Admin-Token": token}).status_code == 200
        assert http.get(f"{base}/__mock/apis", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert http.get(f"{base}/__mock/health").status_code == 200, "health stays open for probes"
        assert http.get(f"{base}/api2/clients/1", headers=DAFTRA).status_code == 200, "the APIs are not affected"
