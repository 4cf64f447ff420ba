"""The contract harness is itself tested: every deliberately broken server is caught, by the check that names its fault.

Each broken server is a real uvicorn process (see broken_servers.py) and the
harness runs as users run it: `mockserver contract API --base-url ... --header ...`.
"""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from broken_servers import CLIENT_OPERATIONS, FACTURACION_CLIENTS, FAULTS
from seed import DAFTRA

from mockserver.harness.target import find_model, seed_credentials
from mockserver.server.process import ServerProcess

HERE = Path(__file__).parent
BROKEN_SERVER = (
    sys.executable,
    "-m",
    "uvicorn",
    "--factory",
    "broken_servers:app",
    "--app-dir",
    str(HERE),
    "--no-access-log",
)


#: where the command around the suites is tested, not how deep they fuzz: the cases per operation of
#: `make test`'s own suites and of the self-certification (the default of 25 is for users)
SHALLOW = ("--max-examples", "10")


def contract(api: str, base_url: str, *options: str) -> subprocess.CompletedProcess[str]:
    headers = seed_credentials(find_model(api))[0]
    command = [sys.executable, "-m", "mockserver", "contract", api, "--base-url", base_url]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    return subprocess.run([*command, *options], capture_output=True, text=True, timeout=600)


def broken_contracts(output: str) -> list[str]:
    """The lines of the run's "broken contract(s)" summary."""
    match = re.search(r"=+ \d+ broken contract\(s\) =+\n(.*?)\n=", output, re.DOTALL)
    return match.group(1).splitlines() if match else []


@pytest.mark.parametrize("name", list(FAULTS))
def test_broken_server_is_caught_by_the_check_that_names_the_fault(name):
    fault = FAULTS[name]
    with ServerProcess(launcher=BROKEN_SERVER, env={"BROKEN_FAULT": name}) as server:
        narrowed = [option for operation_id in fault.operations for option in ("--operation", operation_id)]
        if fault.max_examples is not None:
            narrowed += ["--max-examples", str(fault.max_examples)]
        result = contract(fault.api, server.url, "--layer", fault.layer, *narrowed)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    named = [line for line in broken_contracts(result.stdout) if re.search(rf"\[[^\]]*\b{fault.check}\b[^\]]*\]", line)]
    assert named, f"no broken contract names {fault.check}:\n" + result.stdout[-5000:]
    assert "Reproduce with:" in result.stdout and "curl -X" in result.stdout


def test_duplicate_accepting_server_fails_the_cli_with_a_reproducing_curl():
    with ServerProcess(launcher=BROKEN_SERVER, env={"BROKEN_FAULT": "duplicate accepted"}) as server:
        result = contract("facturacion", server.url, "--layer", "rules")
    assert result.returncode == 1
    report = result.stdout.split("[unique_key]", 1)[1]
    command = re.search(r"^\s+(curl -X POST .+)$", report, re.MULTILINE)
    assert command and f"{server.url}/api/v1/clients" in command.group(1), result.stdout[-3000:]
    assert "authorization: Bearer [Filtered]" in command.group(1)  # credentials stay out of CI logs
    assert "sunat_demo" not in result.stdout


def test_the_real_mock_passes_every_layer_through_the_cli(tmp_path):
    # The suites run over the whole of both specs in make test (contract_tests/) and in the
    # self-certification; here the command around them is what is tested, over the clients' operations.
    narrowed = [option for operation_id in FACTURACION_CLIENTS for option in ("--operation", operation_id)]
    with ServerProcess() as server:
        result = contract("facturacion", server.url, "--junit", str(tmp_path / "report.xml"), *narrowed, *SHALLOW)
    assert result.returncode == 0, result.stdout[-5000:]
    assert "broken contract" not in result.stdout
    assert (tmp_path / "report.xml").read_text().count("<testcase") > 20


def test_an_unknown_operation_is_a_usage_error():
    result = contract("daftra", "http://127.0.0.1:9", "--operation", "noSuchOperation")
    assert result.returncode == 2
    assert "no operation noSuchOperation" in result.stderr


def test_unreachable_deployment_is_a_usage_error():
    result = contract("daftra", "http://127.0.0.1:9")
    assert result.returncode == 2
    assert "cannot reach" in result.stderr


def test_what_the_suite_creates_on_a_deployment_is_removed_at_the_end():
    with ServerProcess() as server:
        before = client_ids(server.url)
        narrowed = [option for operation_id in CLIENT_OPERATIONS for option in ("--operation", operation_id)]
        result = contract("daftra", server.url, *narrowed, *SHALLOW)
        after = client_ids(server.url)
    assert result.returncode == 0, result.stdout[-5000:]
    assert "could not be removed" not in result.stdout + result.stderr
    # generated DELETEs may also hit seeded records; nothing the suite created is left
    assert after - before == set()


def client_ids(base_url: str) -> set[int]:
    """The ids of every client the deployment lists, page by page."""
    ids: set[int] = set()
    for page in itertools.count(1):
        body = httpx.get(f"{base_url}/api2/clients", headers=DAFTRA, params={"page": page, "limit": 100}).json()
        listed = {row["Client"]["id"] for row in body["data"]}
        if not listed - ids:
            return ids
        ids |= listed
