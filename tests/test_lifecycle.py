"""A server's life: options from flags, environment and a config file; state kept across restarts
(live processes, as the process is what is tested); specs and fixtures reloaded while it runs (in-process)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time

import httpx
import pytest
from seed import DAFTRA

from mockserver.config import DEFAULT_FIXTURES, DEFAULT_SPECS
from mockserver.server.process import ServerProcess


def create_client(client: httpx.Client, name: str) -> str:
    response = client.post("/api2/clients", headers=DAFTRA, json={"Client": {"business_name": name}})
    assert response.status_code == 202, response.text
    return response.json()["id"]


def wait_for(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("the change was not seen in time")


# -- options ------------------------------------------------------------------


def test_help_names_every_option_and_its_variable():
    shown = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--help"],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": ""},
    ).stdout
    for option in ("--admin-token", "--delay", "--fault", "--session-header", "--state-file", "--reload", "--config"):
        assert option in shown
    for variable in ("MOCKSERVER_ADMIN_TOKEN", "MOCKSERVER_STATE_FILE", "MOCKSERVER_DELAY", "MOCKSERVER_CONFIG"):
        assert variable in shown


# live: the config file and the environment are read by the `serve` command
def test_options_from_a_config_file_and_the_environment(tmp_path):
    config = tmp_path / "mock.toml"
    config.write_text('admin-token = "from-file"\nsession-header = "X-Test-Run"\nsession-idle = 600\n')
    with (
        ServerProcess("--config", str(config), env={"MOCKSERVER_DELAY": "300"}) as server,
        httpx.Client(base_url=server.url) as http,
    ):
        assert http.get("/__mock/apis").status_code == 401
        assert http.get("/__mock/apis", headers={"X-Mock-Admin-Token": "from-file"}).status_code == 200
        started = time.monotonic()
        created = http.post(
            "/api2/clients",
            headers={**DAFTRA, "X-Test-Run": "one"},
            json={"Client": {"business_name": "Configured"}},
        )
        assert time.monotonic() - started >= 0.3, "the environment's delay applies"
        path = f"/api2/clients/{created.json()['id']}"
        assert http.get(path, headers={**DAFTRA, "X-Test-Run": "one"}).status_code == 200
        assert http.get(path, headers=DAFTRA).status_code == 404, "the configured header names the session"
        preflight = http.options(
            "/api2/clients",
            headers={
                "Origin": "http://app.test",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "x-test-run, apikey",
            },
        )
        assert preflight.status_code == 200, "browsers may send the configured session header"


def test_a_config_file_with_an_unknown_option_is_refused(tmp_path):
    config = tmp_path / "mock.yaml"
    config.write_text("prot: 9000\n")
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "unknown options prot" in result.stderr


# -- state file ----------------------------------------------------------------


# live: saved when the process stops, read when the next one starts
def test_state_survives_a_restart(tmp_path):
    state = tmp_path / "state.json"
    with ServerProcess("--state-file", str(state)) as server, httpx.Client(base_url=server.url) as http:
        created = create_client(http, "Kept Across Restarts")
    assert state.exists(), "saved on shutdown"
    with ServerProcess("--state-file", str(state)) as server, httpx.Client(base_url=server.url) as http:
        client = http.get(f"/api2/clients/{created}", headers=DAFTRA)
        assert client.status_code == 200 and client.json()["data"]["Client"]["business_name"] == "Kept Across Restarts"
        assert create_client(http, "Next") == str(int(created) + 1), "ids go on where they stopped"


# live: a signal to the process
def test_sigterm_writes_every_acknowledged_write(tmp_path):
    state = tmp_path / "state.json"
    server = ServerProcess("--state-file", str(state), "--state-interval", "3600").start()
    with httpx.Client(base_url=server.url) as http:
        ids = [create_client(http, f"Write {n}") for n in range(20)]
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(timeout=15)
    server.stop()
    saved = json.loads(state.read_text())["apis"]["daftra"]["clients"]
    assert set(ids) <= {str(c["id"]) for c in saved}


# live: the process killed mid-write
def test_kill_9_never_leaves_a_broken_state_file(tmp_path):
    state = tmp_path / "state.json"
    server = ServerProcess("--state-file", str(state), "--state-interval", "0.1").start()
    try:
        with httpx.Client(base_url=server.url) as http:
            # writes while the saver runs, then a kill at an arbitrary moment once it has saved at least
            # once (46 creates could all fall between two of its ticks on a busy machine)
            for n in range(2000):
                create_client(http, f"Busy {n}")
                if n >= 45 and state.exists():
                    break
            server.process.kill()
    finally:
        server.stop()
    assert state.exists()
    json.loads(state.read_text())  # a whole file, old or new, never a torn one
    with ServerProcess("--state-file", str(state)) as restarted:
        assert httpx.get(f"{restarted.url}/api2/clients", headers=DAFTRA).status_code == 200


# -- hot reload ----------------------------------------------------------------


@pytest.fixture
def editable(tmp_path, make_mock):
    specs, fixtures = tmp_path / "specs", tmp_path / "fixtures"
    shutil.copytree(DEFAULT_SPECS, specs)
    shutil.copytree(DEFAULT_FIXTURES, fixtures)
    # the watcher runs in the app's lifespan, as it does under `mockserver serve --reload`
    return make_mock(specs_dir=specs, fixtures_dir=fixtures, reload=True), specs, fixtures


def test_an_edited_spec_is_served_without_losing_state(editable):
    mock, specs, _ = editable
    created = create_client(mock, "Survives Reload")
    spec = specs / "daftra.yaml"
    spec.write_text(spec.read_text().replace("message: Invalid Endpoint", "message: No such endpoint here"))
    wait_for(lambda: mock.get("/api2/nowhere", headers=DAFTRA).json().get("message") == "No such endpoint here")
    client = mock.get(f"/api2/clients/{created}", headers=DAFTRA)
    assert client.status_code == 200 and client.json()["data"]["Client"]["business_name"] == "Survives Reload"


def test_a_broken_spec_keeps_the_old_one_serving(editable, server_log):
    mock, specs, _ = editable
    (specs / "daftra.yaml").write_text("openapi: 3.1.0\npaths: [this is not a spec\n")
    wait_for(lambda: "did not load" in server_log.text)
    assert mock.get("/api2/clients/1", headers=DAFTRA).status_code == 200
    assert "daftra.yaml" in server_log.text


def test_edited_fixtures_are_seeded_and_created_records_stay(editable):
    mock, _, fixtures = editable
    created = create_client(mock, "Made Through The API")
    seed = fixtures / "daftra.yaml"
    seed.write_text(seed.read_text().replace("business_name: Nile Supplies", "business_name: Renamed Nile Supplies"))
    wait_for(
        lambda: (
            mock.get("/api2/clients/1", headers=DAFTRA).json()["data"]["Client"]["business_name"].startswith("Renamed ")
        )
    )
    assert mock.get(f"/api2/clients/{created}", headers=DAFTRA).status_code == 200
