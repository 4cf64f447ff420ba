"""What ships beside the server: the Docker image, the compose file, the CI templates.

No Docker engine runs where these tests run, so the image is checked in two
ways: hadolint reads docker/Dockerfile, and `replay` performs its steps on
this machine (the build stage's install in a fresh virtual environment, the
final stage's files, environment, entrypoint, command and health check) and
starts the server the way the container would. The compose file and the CI
templates are checked against their published schemas, the GitHub workflows
also with actionlint.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import yaml

from mockserver.server.process import free_port

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "docker" / "Dockerfile"
COMPOSE = ROOT / "docker" / "compose.yaml"
SCALE_COMPOSE = ROOT / "docker" / "compose.scale.yaml"
GITHUB_WORKFLOWS = sorted((ROOT / "examples").glob("github-*.yml"))
GITLAB_CI = ROOT / "examples" / "gitlab-ci.yml"


def tool(name: str) -> str:
    """A checker installed by the test extras, beside the interpreter running the tests."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} is not installed: run `pip install -e '.[test]'`"
    return found


def run_checker(*command: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}"


# -- static checks -------------------------------------------------------------------------------


def test_dockerfile_passes_hadolint() -> None:
    # style is hadolint's lowest severity: every finding fails the test
    run_checker(tool("hadolint"), "--failure-threshold", "style", str(DOCKERFILE))


@pytest.mark.parametrize("path", [COMPOSE, SCALE_COMPOSE], ids=lambda p: p.name)
def test_compose_file_follows_the_compose_specification(path: Path) -> None:
    run_checker(tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path))


def test_scale_profile_puts_three_healthy_replicas_on_one_redis_behind_the_balancer() -> None:
    services = yaml.safe_load(SCALE_COMPOSE.read_text())["services"]
    assert all(service["profiles"] == ["scale"] for service in services.values())
    replicas = sorted(name for name in services if name.startswith("mock-"))
    assert len(replicas) == 3
    assert {services[name]["environment"]["MOCKSERVER_STORE"] for name in replicas} == {"redis://redis:6379/0"}
    assert all(services[name]["depends_on"]["redis"]["condition"] == "service_healthy" for name in replicas)
    assert "--appendfsync" in services["redis"]["command"] and "healthcheck" in services["redis"]
    assert set(services["balancer"]["depends_on"]) == set(replicas) and "healthcheck" in services["balancer"]
    upstreams = re.findall(r"server (mock-\d):8000", (ROOT / "docker" / "nginx.scale.conf").read_text())
    assert sorted(upstreams) == replicas


@pytest.mark.parametrize("path", GITHUB_WORKFLOWS, ids=lambda p: p.name)
def test_github_workflow_follows_the_workflow_schema(path: Path) -> None:
    run_checker(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(path))


@pytest.mark.parametrize("path", GITHUB_WORKFLOWS, ids=lambda p: p.name)
def test_github_workflow_passes_actionlint(path: Path) -> None:
    run_checker(tool("actionlint"), "-no-color", str(path))


def test_gitlab_ci_template_follows_the_gitlab_ci_schema() -> None:
    run_checker(tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(GITLAB_CI))


def test_there_is_a_github_template_for_each_job_the_readme_promises() -> None:
    names = {path.name for path in GITHUB_WORKFLOWS}
    assert {"github-frontend.yml", "github-contract.yml", "github-drift.yml", "github-publish-image.yml"} <= names


# -- the Dockerfile, read ------------------------------------------------------------------------


@dataclass
class Instruction:
    keyword: str
    args: str


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)


def parse_dockerfile(text: str) -> list[Stage]:
    """The stages of a Dockerfile and their instructions (continuations joined, comments dropped)."""
    logical: list[str] = []
    current = ""
    for line in text.splitlines():
        if line.strip().startswith("#") or (not line.strip() and not current):
            continue  # Docker drops comment lines, even inside a continued instruction
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    assert not current, "the Dockerfile ends inside a continued instruction"
    stages: list[Stage] = []
    for line in logical:
        keyword, _, args = line.strip().partition(" ")
        keyword, args = keyword.upper(), args.strip()
        if keyword == "FROM":
            words = args.split()
            stages.append(Stage(base=words[0], name=words[2] if len(words) == 3 and words[1].upper() == "AS" else None))
        elif keyword == "ARG" and not stages:
            continue  # build arguments for FROM lines: only the base image, which the replay does not use
        else:
            assert stages, f"{keyword} before the first FROM"
            stages[-1].instructions.append(Instruction(keyword, args))
    return stages


def stage_chain(stages: list[Stage], target: Stage) -> list[Stage]:
    """`target` and the stages it is built FROM, base first."""
    by_name = {stage.name: stage for stage in stages if stage.name}
    chain = [target]
    while chain[0].base in by_name:
        chain.insert(0, by_name[chain[0].base])
    return chain


def expand(value: str, env: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: env.get(m.group(1) or m.group(2), ""), value)


def flags_and_rest(args: str) -> tuple[dict[str, str], str]:
    flags = {}
    while args.startswith("--"):
        flag, _, args = args.partition(" ")
        name, _, value = flag[2:].partition("=")
        flags[name] = value
        args = args.strip()
    return flags, args


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list), f"{args} is not the JSON (exec) form"
    return value


# -- the Dockerfile, replayed --------------------------------------------------------------------


@dataclass
class Replay:
    """The image's steps performed on this machine: where things went and how to start it."""

    env: dict[str, str]  # the environment the image sets, with container paths mapped here
    image_env: dict[str, str]  # the same, as the image has it
    workdir: Path
    app_home: Path
    entrypoint: list[str]
    cmd: list[str]
    healthcheck: list[str]
    exposed: list[str]
    log: list[str] = field(default_factory=list)  # the RUN steps performed

    def start(self, env: dict[str, str] | None = None, log: Path | None = None) -> subprocess.Popen[bytes]:
        # the child keeps its own copy of the log's descriptor
        with (log or self.workdir / "server.log").open("wb") as out:
            return subprocess.Popen(
                [*self.entrypoint, *self.cmd],
                cwd=self.workdir,
                env={**self.env, **(env or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def health(self, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.healthcheck, cwd=self.workdir, env={**self.env, **env}, capture_output=True, text=True, timeout=30
        )


def replay(dockerfile: Path, context: Path, scratch: Path) -> Replay:
    stages = parse_dockerfile(dockerfile.read_text())
    final = stages[-1]
    # The container paths the image uses, and where each lives here.
    image_env: dict[str, str] = {}
    for stage in stage_chain(stages, final):
        for step in stage.instructions:
            if step.keyword == "ENV":
                for pair in shlex.split(step.args):
                    name, _, value = pair.partition("=")
                    image_env[name] = expand(value, image_env)
    final_workdir = expand([s.args for s in final.instructions if s.keyword == "WORKDIR"][-1], image_env)
    roots = {
        image_env["APP_HOME"]: scratch / "app",
        image_env["VIRTUAL_ENV"]: scratch / "venv",
        final_workdir: scratch / "workdir",
    }

    def here(path: str, workdir: Path | None = None) -> Path:
        for container, local in sorted(roots.items(), key=lambda item: -len(item[0])):
            if path == container or path.startswith(container.rstrip("/") + "/"):
                return local / path[len(container) :].lstrip("/")
        assert not path.startswith("/"), f"{path} is outside APP_HOME, VIRTUAL_ENV and the final WORKDIR"
        assert workdir is not None
        return workdir / path

    def mapped(arg: str) -> str:
        return str(here(arg)) if arg.startswith("/") else arg

    # `python` in the image is the base image's interpreter; here it is the one
    # running these tests (the same minor version: the image and requires-python agree).
    shim = scratch / "bin"
    shim.mkdir(parents=True)
    for name in ("python", "python3"):
        (shim / name).symlink_to(sys.executable)
    host_env = {
        key: value for key, value in os.environ.items() if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}
    }
    host_env["PATH"] = f"{shim}{os.pathsep}{host_env.get('PATH', '')}"
    result = Replay(
        env={},
        image_env=image_env,
        workdir=scratch,
        app_home=roots[image_env["APP_HOME"]],
        entrypoint=[],
        cmd=[],
        healthcheck=[],
        exposed=[],
    )
    # Every stage in file order, each starting from its base stage's environment
    # and working folder, as `docker build` of the last stage does.
    states: dict[str, tuple[dict[str, str], Path]] = {}
    for stage in stages:
        env, workdir = states.get(stage.base, (host_env, scratch))
        env = dict(env)
        is_final = stage is final
        for step in stage.instructions:
            if step.keyword == "ENV":
                for pair in shlex.split(step.args):
                    name, _, value = pair.partition("=")
                    env[name] = (
                        str(here(image_env[name])) if name in {"APP_HOME", "VIRTUAL_ENV"} else expand(value, env)
                    )
                # The image turns the installers' caches off to stay small; here
                # the cache is what keeps a fresh install to seconds.
                env.pop("PIP_NO_CACHE_DIR", None)
                env.pop("UV_NO_CACHE", None)
            elif step.keyword == "ARG":
                name, _, default = step.args.partition("=")
                env[name] = shlex.split(default)[0] if default.strip() else ""
            elif step.keyword == "WORKDIR":
                workdir = here(expand(step.args, image_env), workdir)
                workdir.mkdir(parents=True, exist_ok=True)
            elif step.keyword == "COPY":
                flags, rest = flags_and_rest(step.args)
                *sources, dest = shlex.split(expand(rest, image_env))
                target = here(dest, workdir)
                if "from" in flags:
                    # another stage's files, to the same place: already there
                    assert len(sources) == 1 and here(sources[0]) == target, f"cannot replay COPY {step.args}"
                    continue
                for source in sources:
                    origin = context / source
                    if origin.is_dir():  # Docker copies a folder's contents
                        shutil.copytree(
                            origin,
                            target,
                            dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
                        )
                    else:
                        destination = target / origin.name if dest.endswith("/") or len(sources) > 1 else target
                        destination.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(origin, destination)
            elif step.keyword == "RUN":
                if is_final and step.args.split()[0] in {"useradd", "groupadd"}:
                    continue  # the image's account needs root here and changes nothing the server does
                # shell form: sh expands the variables, as in the image
                completed = subprocess.run(
                    ["sh", "-c", step.args], cwd=workdir, env=env, capture_output=True, text=True, timeout=540
                )
                assert completed.returncode == 0, f"RUN {step.args} failed:\n{completed.stdout}{completed.stderr}"
                result.log.append(step.args)
            elif step.keyword in {"ENTRYPOINT", "CMD"} and is_final:
                setattr(result, step.keyword.lower(), [mapped(arg) for arg in exec_form(step.args)])
            elif step.keyword == "HEALTHCHECK" and is_final:
                _, command = flags_and_rest(step.args)
                assert command.startswith("CMD "), step.args
                result.healthcheck = [mapped(arg) for arg in exec_form(command[4:])]
            elif step.keyword == "EXPOSE" and is_final:
                result.exposed += step.args.split()
        if stage.name:
            states[stage.name] = (env, workdir)
        if is_final:
            result.env, result.workdir = env, workdir
    assert any("venv" in command for command in result.log), "no RUN step created the virtual environment"
    assert result.entrypoint and result.cmd and result.healthcheck
    return result


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Replay:
    return replay(DOCKERFILE, ROOT, tmp_path_factory.mktemp("image"))


def wait_healthy(
    image: Replay, env: dict[str, str], process: subprocess.Popen[bytes], log: Path, timeout: float = 60
) -> None:
    """What Docker does: run the image's health check until it passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        if image.health(env).returncode == 0:
            return
        time.sleep(0.5)
    pytest.fail(f"the health check did not pass within {timeout}s:\n{log.read_text(errors='replace')}")


@contextlib.contextmanager
def started(
    image: Replay, tmp_path: Path, extra: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """The image's default command, healthy on a free loopback port instead of 0.0.0.0:8000."""
    port = str(free_port())
    env = {"MOCKSERVER_HOST": "127.0.0.1", "MOCKSERVER_PORT": port, **(extra or {})}
    log = tmp_path / "server.log"
    process = image.start(env, log)
    try:
        wait_healthy(image, env, process, log)
        yield f"http://127.0.0.1:{port}", process, log
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def container(image: Replay, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    with started(image, tmp_path) as running:
        yield running


def test_image_serves_on_every_interface_at_the_exposed_port(image: Replay) -> None:
    assert image.image_env["MOCKSERVER_HOST"] == "0.0.0.0"
    assert image.exposed == [image.image_env["MOCKSERVER_PORT"]] == ["8000"]


def test_image_install_and_start_steps_serve_both_mocks(container: tuple[str, subprocess.Popen[bytes], Path]) -> None:
    url, _, _ = container
    health = httpx.get(f"{url}/__mock/health", timeout=10)
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert sorted(health.json()["apis"]) == ["daftra", "facturacion"]
    # the bundled specs and fixtures answer, credentials included
    clients = httpx.get(f"{url}/api2/clients.json", headers={"APIKEY": "demo-daftra-api-key"}, timeout=10)
    assert clients.status_code == 200, clients.text
    companies = httpx.get(
        f"{url}/api/v1/clients", headers={"Authorization": "Bearer 1|sunat_demo_admin_token"}, timeout=10
    )
    assert companies.status_code == 200, companies.text


def test_image_stops_cleanly_on_docker_stop(container: tuple[str, subprocess.Popen[bytes], Path]) -> None:
    # docker stop sends SIGTERM to PID 1, so the entrypoint must have handed
    # its process over to the server (exec), not be waiting for it
    _, process, log = container
    assert f"Started server process [{process.pid}]" in log.read_text()
    process.terminate()
    # uvicorn finishes its shutdown, then ends by the signal it caught (exit 143 in Docker)
    assert process.wait(timeout=15) in (0, -signal.SIGTERM)
    assert "Finished server process" in log.read_text()


def test_health_check_fails_while_nothing_answers(image: Replay) -> None:
    env = {"MOCKSERVER_PORT": str(free_port())}
    assert image.health(env).returncode != 0


def test_entrypoint_makes_and_prints_an_admin_token_when_none_is_given(image: Replay) -> None:
    env = {key: value for key, value in image.env.items() if key != "MOCKSERVER_ADMIN_TOKEN"}
    show = [*image.entrypoint, "python", "-c", "import os; print(os.environ['MOCKSERVER_ADMIN_TOKEN'])"]
    first = subprocess.run(show, env=env, capture_output=True, text=True, timeout=30)
    second = subprocess.run(show, env=env, capture_output=True, text=True, timeout=30)
    token = first.stdout.strip()
    assert first.returncode == 0 and len(token) >= 24
    assert token in first.stderr  # the log tells the user which token to send
    assert second.stdout.strip() != token  # a new one per container, never a baked-in default


def test_entrypoint_keeps_the_admin_token_it_is_given(image: Replay) -> None:
    show = [*image.entrypoint, "python", "-c", "import os; print(os.environ['MOCKSERVER_ADMIN_TOKEN'])"]
    result = subprocess.run(
        show, env={**image.env, "MOCKSERVER_ADMIN_TOKEN": "s3cret-token"}, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0
    assert result.stdout.strip() == "s3cret-token"
    assert "s3cret-token" not in result.stderr


def test_image_serves_the_data_of_the_installed_wheel(image: Replay) -> None:
    show = "import mockserver.config as c; print(c.DEFAULT_SPECS)"
    result = subprocess.run(
        [*image.entrypoint, "python", "-c", show],
        cwd=image.workdir,  # not the checkout, whose mockserver/ `python -c` would import first
        env=image.env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    # inside the virtual environment, not a source tree at APP_HOME
    assert Path(result.stdout.strip()).is_relative_to(image.env["VIRTUAL_ENV"]), result.stdout


def test_a_mounted_folder_named_by_mockserver_specs_replaces_the_bundled_ones(image: Replay, tmp_path: Path) -> None:
    mounted = image.app_home / "mounted-specs"  # what `-v ./my-specs:/opt/mockserver/...` adds to the image
    mounted.mkdir()
    try:
        shutil.copy2(ROOT / "specs" / "daftra.yaml", mounted / "daftra.yaml")
        shutil.copytree(ROOT / "specs" / "templates" / "daftra", mounted / "templates" / "daftra")
        with started(image, tmp_path, {"MOCKSERVER_SPECS": str(mounted)}) as (url, _, _):
            assert httpx.get(f"{url}/__mock/health", timeout=10).json()["apis"] == ["daftra"]
    finally:
        shutil.rmtree(mounted)


# -- the compose file agrees with the image --------------------------------------------------------


def test_compose_mounts_land_where_the_image_reads_and_writes(image: Replay) -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    state_dir = [s.args for s in parse_dockerfile(DOCKERFILE.read_text())[-1].instructions if s.keyword == "WORKDIR"][
        -1
    ]
    mock, contract = compose["services"]["mock"], compose["services"]["contract"]

    def target(volume: str) -> str:  # SOURCE:TARGET[:MODE], where SOURCE may hold ${VAR:-default}
        return re.search(r":(/[^:]+)(?::r[ow])?$", volume).group(1)

    # the mounted specs and fixtures are the folders the server is told to read
    environment = mock["environment"]
    assert {environment["MOCKSERVER_SPECS"], environment["MOCKSERVER_FIXTURES"], state_dir} <= {
        target(v) for v in mock["volumes"]
    }
    # the contract suite checks the specs the mock serves (fetched with --spec), not the bundled ones
    assert "volumes" not in contract
    assert mock["ports"] == [f"${{MOCKSERVER_PORT:-8000}}:{image.exposed[0]}"]
    assert "MOCKSERVER_ADMIN_TOKEN" in mock["environment"]
    assert contract["depends_on"]["mock"]["condition"] == "service_healthy"


def test_compose_contract_run_uses_credentials_the_seed_data_has() -> None:
    script = yaml.safe_load(COMPOSE.read_text())["services"]["contract"]["command"][-1]
    fixtures = (ROOT / "fixtures" / "facturacion.yaml").read_text() + (ROOT / "fixtures" / "daftra.yaml").read_text()
    runs = re.findall(
        r"mockserver contract (\w+) --base-url (\S+)\s*\\?\s*--header '([^']+)'\s*\\?\s*--spec (\S+)", script
    )
    assert sorted(api for api, _, _, _ in runs) == ["daftra", "facturacion"]
    for api, base_url, header, spec in runs:
        assert base_url == "http://mock:8000"
        assert spec == f"{base_url}/{api}/openapi.json"
        credential = header.split(":", 1)[1].strip().removeprefix("Bearer ")
        assert f" {credential}\n" in fixtures, f"{api}: {credential} is not in the fixtures"
