"""Robustness: specs and requests the mock must survive without a traceback or a 5xx."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from inprocess import MOCK_URL, TestClient

from mockserver.config import DEFAULT_FIXTURES, DEFAULT_SPECS
from mockserver.errors import SpecError
from mockserver.server.app import create_app
from mockserver.spec.loader import load_yaml
from mockserver.spec.openapi import load_spec

ADMIN = {"Authorization": "Bearer 1|sunat_demo_admin_token", "Accept": "application/json"}


def bundled(name: str) -> dict[str, Any]:
    document: dict[str, Any] = load_yaml(DEFAULT_SPECS / f"{name}.yaml")
    return json.loads(json.dumps(document))  # a private copy, no shared anchors


def write(folder: Path, name: str, document: dict[str, Any], *, as_yaml: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(DEFAULT_SPECS / "templates", folder / "templates", dirs_exist_ok=True)  # the files the specs name
    path = folder / f"{name}.yaml"
    text = yaml.safe_dump(document, sort_keys=False) if as_yaml else json.dumps(document)
    path.write_text(text, encoding="utf-8")
    return path


def client(specs: Path, **options: Any) -> TestClient:
    app = create_app(specs_dir=specs, fixtures_dir=DEFAULT_FIXTURES, **options)
    return TestClient(app, base_url=MOCK_URL, raise_server_exceptions=True)


# -- 1: YAML keys are strings, as JSON's are -----------------------------------
def test_unquoted_yaml_keys_load_as_the_strings_written(tmp_path):
    path = tmp_path / "keys.yaml"
    path.write_text("a: {200: ok, on: 1, 1.50: x, ~: n, <<: {7: m}}\n", encoding="utf-8")
    assert load_yaml(path) == {"a": {"7": "m", "200": "ok", "on": 1, "1.50": "x", "~": "n"}}


def test_a_spec_with_unquoted_status_codes_loads_and_serves(tmp_path):
    document = bundled("facturacion")
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"] = {int(k): v for k, v in operation["responses"].items()}
    path = write(tmp_path / "specs", "facturacion", document, as_yaml=True)
    assert "\n        200:" in path.read_text(encoding="utf-8")  # unquoted, as people write them
    assert all(isinstance(status, str) for op in load_spec(path).operations for status in op.responses)
    with client(path.parent) as mock:
        assert mock.get("/api/v1/clients/1", headers=ADMIN).status_code == 200


# -- 2: an API without x-mock.prefix owns every path the others do not ----------
def test_an_api_without_a_prefix_owns_every_other_path(tmp_path):
    specs = tmp_path / "specs"
    document = bundled("facturacion")
    del document["x-mock"]["prefix"]
    write(specs, "facturacion", document)
    write(specs, "daftra", bundled("daftra"))
    with client(specs) as mock:
        assert [api.prefix for api in mock.app.state.server.apis] == ["/api2", ""]
        assert mock.get("/api/v1/clients/1", headers=ADMIN).json()["data"]["id"] == 1
        assert mock.get("/api2/clients").status_code == 401  # still Daftra's
        assert mock.get("/").status_code == 404  # Facturación's own not-found, in its envelope


# -- 4: OpenAPI structure the engine reads (serve and reload; `mockserver check` is the harness's) --
@pytest.mark.parametrize(
    ("where", "value", "pointer", "reason"),
    [
        ("/paths/~1api~1v1~1clients/get/parameters/0/in", None, "/paths/~1api~1v1~1clients/get/parameters/0", "'in'"),
        ("/components/parameters/ClientId/in", None, "/components/parameters/ClientId", "missing required key 'in'"),
        ("/components", "null", "/components", "expected an object, got null"),
    ],
)
def test_malformed_openapi_structure_is_refused_where_it_is(tmp_path, caplog, where, value, pointer, reason):
    *parents, last = [part.replace("~1", "/") for part in where.split("/")[1:]]
    document = bundled("facturacion")
    node = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key: Any = int(last) if isinstance(node, list) else last
    path = write(tmp_path / "good", "facturacion", document)
    app = create_app(specs_dir=path.parent, fixtures_dir=DEFAULT_FIXTURES)
    served = app.state.server.apis
    if value is None:
        del node[key]
    else:
        node[key] = None
    path = write(tmp_path / "good", "facturacion", document)
    with pytest.raises(SpecError) as raised:
        create_app(specs_dir=path.parent, fixtures_dir=DEFAULT_FIXTURES)
    assert [(p.file, p.pointer) for p in raised.value.problems] == [(str(path), pointer)]
    assert reason in raised.value.problems[0].reason
    app.state.server.reload({path})
    assert app.state.server.apis == served


# -- 8: digits int() cannot read ------------------------------------------------
def test_the_admin_api_reads_odd_digits_as_a_text_id():
    with client(DEFAULT_SPECS) as mock:
        assert mock.get("/__mock/apis/facturacion/resources/clients/²").status_code == 404
        assert mock.get("/__mock/apis/facturacion/resources/clients/1").json()["id"] == 1


# -- 6: the state file holds what the state holds --------------------------------
def test_the_state_file_saves_and_loads_integers_beyond_64_bits(tmp_path):
    state = tmp_path / "state.json"
    big = 10**40
    with client(DEFAULT_SPECS, state_file=str(state)) as mock:
        store = mock.app.state.server.api("facturacion").sessions.default
        store.table("clients").update(1, {"numero_documento": big})
    assert f'"numero_documento": {big}' in state.read_text(encoding="utf-8")  # saved on shutdown
    with client(DEFAULT_SPECS, state_file=str(state)) as mock:
        store = mock.app.state.server.api("facturacion").sessions.default
        assert store.table("clients").get(1)["numero_documento"] == big


def test_a_failed_save_is_logged_and_the_saver_carries_on(tmp_path, caplog, monkeypatch):
    import asyncio

    from mockserver.server.persistence import StateFile

    server = create_app(fixtures_dir=DEFAULT_FIXTURES).state.server
    saver = StateFile(tmp_path / "state.json", server)
    monkeypatch.setattr(server, "snapshot", lambda: {"apis": {"x": {"t": [{"id": object()}]}}})
    rounds = []
    monkeypatch.setattr(saver, "save", lambda: (rounds.append(1), StateFile.save(saver)))

    async def run() -> None:
        task = asyncio.create_task(saver.save_every(0.01))
        while len(rounds) < 3 and not task.done():
            await asyncio.sleep(0.01)
        assert not task.done()
        task.cancel()

    asyncio.run(run())
    assert "could not save the state" in caplog.text


# -- 9: two specs, one name or one prefix ----------------------------------------
def test_two_specs_with_one_name_or_prefix_are_refused_naming_both(tmp_path, caplog):
    specs = tmp_path / "specs"
    first = write(specs, "facturacion", bundled("facturacion"))
    twin = bundled("daftra")
    twin["x-mock"]["name"] = "facturacion"
    second = write(specs, "zz", twin)
    with pytest.raises(SpecError) as raised:
        create_app(specs_dir=specs, fixtures_dir=DEFAULT_FIXTURES)
    assert (raised.value.file, raised.value.pointer) == (str(second), "/x-mock/name")
    assert str(first) in raised.value.reason
    # on reload, the old API keeps serving
    second.unlink()
    app = create_app(specs_dir=specs, fixtures_dir=DEFAULT_FIXTURES)
    served = app.state.server.apis
    twin["x-mock"]["name"] = "other"
    twin["x-mock"]["prefix"] = "/api"
    second = write(specs, "zz", twin)
    app.state.server.reload({second})
    assert app.state.server.apis == served
    assert f"{second}: #/x-mock/prefix: the prefix '/api' is already the prefix of {first}" in caplog.text


# -- 10: a write lands in the state that is current when it is made ------------
def test_a_write_delayed_across_a_reset_lands_in_the_new_state():
    import asyncio

    import httpx
    from seed import DAFTRA

    app = create_app(fixtures_dir=DEFAULT_FIXTURES, delay="400")
    server = app.state.server

    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=MOCK_URL) as http:
            body = {"Client": {"business_name": "Across The Reset"}}
            creating = asyncio.create_task(http.post("/api2/clients", headers=DAFTRA, json=body))
            await asyncio.sleep(0.1)
            server.restore(server.snapshot())  # replaces the default store mid-request
            return await creating

    created = asyncio.run(run())
    assert created.status_code == 202, created.text
    names = [r.get("business_name") for r in server.api("daftra").sessions.default.table("clients")]
    assert "Across The Reset" in names


# -- 11: the 404 of a path parameter names the one that failed ----------------
def test_the_404_of_a_bad_path_parameter_is_about_that_parameter(tmp_path):
    from seed import DAFTRA

    document = bundled("daftra")
    document["x-mock"]["resources"]["notes"]["not_found"]["body"]["message"] = "No item ${id}"
    specs = tmp_path / "specs"
    write(specs, "daftra", document)
    with client(specs) as mock:
        answer = mock.post("/api2/notes/1/abc", headers=DAFTRA, json={"Note": {"description": "x"}})
        assert (answer.status_code, answer.json()["message"]) == (404, "No item abc")
        answer = mock.post("/api2/notes/7/3", headers=DAFTRA, json={"Note": {"description": "x"}})
        assert (answer.status_code, answer.json()["message"]) == (404, "No item 7")
