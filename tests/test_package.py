"""The package as a user gets it: a wheel installed in a fresh virtual environment, run outside the repository.

The wheel is built from this checkout and installed with its dependencies
(the contract extras too) into a virtual environment under tmp_path; every
command then runs from an empty folder, so nothing can resolve through the
source tree. uv builds and installs it, as the Makefile installs the project:
the wheel and its metadata are what pip would install, and uv's cache, warm
from `make install`, keeps this to seconds. The module's tests share one
xdist group, so one worker builds the wheel once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from mockserver.server.process import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
UV = (sys.executable, "-m", "uv")
pytestmark = pytest.mark.xdist_group("package")
FACTURACION = ("/api/v1/clients", {"Authorization": "Bearer 1|sunat_demo_admin_token"})
DAFTRA = ("/api2/clients.json", {"APIKEY": "demo-daftra-api-key"})


@dataclass
class Installed:
    venv: Path
    cwd: Path  # an empty folder outside the repository
    env: dict[str, str]

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def run(self, *command: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(command, cwd=self.cwd, env=self.env, capture_output=True, text=True, timeout=timeout)


def _checked(*command: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    scratch = tmp_path_factory.mktemp("package")
    assert not scratch.resolve().is_relative_to(ROOT), "the virtual environment must live outside the repository"
    started = time.monotonic()
    _checked(*UV, "build", "--wheel", "--quiet", "--out-dir", str(scratch / "dist"), str(ROOT))
    (wheel,) = (scratch / "dist").glob("mockserver-*.whl")
    _checked(*UV, "venv", "--quiet", "--python", sys.executable, str(scratch / "venv"))
    _checked(
        *UV, "pip", "install", "--quiet", "--python", str(scratch / "venv" / "bin" / "python"), f"{wheel}[contract]"
    )
    print(f"wheel build and install: {time.monotonic() - started:.1f}s")
    cwd = scratch / "empty"
    cwd.mkdir()
    # nothing from the checkout's environment: not its virtual environment, not a PYTHONPATH
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}}
    env["PATH"] = f"{scratch / 'venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return Installed(scratch / "venv", cwd, env)


@pytest.fixture(scope="module")
def served(installed: Installed) -> Iterator[str]:
    """`mockserver serve` of the installed package, with its bundled specs and fixtures."""
    server = ServerProcess(launcher=(installed.bin("mockserver"), "serve", "--no-access-log"), cwd=installed.cwd)
    with server:
        yield server.url


def test_the_installed_package_and_its_data_live_in_the_virtual_environment(installed: Installed) -> None:
    script = (
        "import json, mockserver, mockserver.config as c;"
        "print(json.dumps([mockserver.__file__, str(c.DEFAULT_SPECS), str(c.DEFAULT_FIXTURES), str(c.bundled('contract_tests'))]))"
    )
    result = installed.run(installed.bin("python"), "-c", script)
    assert result.returncode == 0, result.stderr
    for path in map(Path, json.loads(result.stdout)):
        assert path.resolve().is_relative_to(installed.venv.resolve()), f"{path} is not in the virtual environment"
        assert not path.resolve().is_relative_to(ROOT), f"{path} resolves into the repository"


def test_serve_answers_both_bundled_apis_with_their_seeded_credentials(served: str) -> None:
    for path, headers in (FACTURACION, DAFTRA):
        response = httpx.get(served + path, headers=headers, timeout=10)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:300]}"


def test_serve_takes_a_users_own_specs_and_fixtures(installed: Installed, tmp_path: Path) -> None:
    specs, fixtures = tmp_path / "specs", tmp_path / "fixtures"
    specs.mkdir()
    fixtures.mkdir()
    (specs / "daftra.yaml").write_bytes((ROOT / "specs" / "daftra.yaml").read_bytes())
    shutil.copytree(ROOT / "specs" / "templates" / "daftra", specs / "templates" / "daftra")  # its pages' templates
    (fixtures / "daftra.yaml").write_bytes((ROOT / "fixtures" / "daftra.yaml").read_bytes())
    launcher = (
        installed.bin("mockserver"),
        "serve",
        "--no-access-log",
        "--specs",
        str(specs),
        "--fixtures",
        str(fixtures),
    )
    with ServerProcess(launcher=launcher, cwd=installed.cwd) as server:
        assert httpx.get(f"{server.url}/__mock/health", timeout=10).json()["apis"] == ["daftra"]
        path, headers = DAFTRA
        assert httpx.get(server.url + path, headers=headers, timeout=10).status_code == 200


def test_contract_runs_the_installed_suites_against_the_served_spec(installed: Installed, served: str) -> None:
    started = time.monotonic()
    result = installed.run(
        installed.bin("mockserver"),
        "contract",
        "facturacion",
        "--base-url",
        served,
        "--spec",
        f"{served}/facturacion/openapi.json",
        "--header",
        f"Authorization: {FACTURACION[1]['Authorization']}",
        "--max-examples",
        "5",
        # every layer, on three operations: tests/test_harness.py runs the whole spec from the checkout
        *("--operation", "listClients", "--operation", "createClient", "--operation", "getClient"),
    )
    print(f"mockserver contract: {time.monotonic() - started:.1f}s")
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    # the suites ran from the installed package, not from the checkout's contract_tests/
    assert str(ROOT / "contract_tests") not in result.stdout
