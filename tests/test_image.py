"""docker/Dockerfile built and run for real, with podman (`make image-test`, which installs podman, runc and debootstrap).

Base images cannot be pulled here, so the base is made from Debian's own
packages: debootstrap of bookworm with Python 3.11 from the machine's
configured Debian mirror, imported into podman once and reused while its
recipe is unchanged. pip inside the build reaches the package index the way
pip on this machine does: its configuration (`pip config list`) and every
file or folder that configuration names (CA bundle, constraints, local
indexes) are mounted into the build read-only. uv, which builds and installs
the wheel, is told to trust the system's certificates, the mounted bundle.

The image's steps are also replayed without any engine, in test_shipping.py;
this module is left out of `make test` (marker `image`).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mockserver.server.process import free_port

pytestmark = pytest.mark.image

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "image-test"
SUITE = "bookworm"
PACKAGES = "python3,python3-venv,python3-pip,ca-certificates,passwd"  # passwd: the Dockerfile's useradd
IMAGE = "localhost/mockserver:image-test"
# what containers may use on this machine
LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
FACTURACION = ("/api/v1/clients", {"Authorization": "Bearer 1|sunat_demo_admin_token"})
DAFTRA = ("/api2/clients.json", {"APIKEY": "demo-daftra-api-key"})


def command(name: str) -> list[str]:
    """A system tool, run as root (through sudo when the tests are not)."""
    found = shutil.which(name)
    assert found, f"{name} is not installed: `make image-test` installs podman, runc and debootstrap"
    return [found] if os.geteuid() == 0 else ["sudo", found]


def podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*command("podman"), "--runtime", "runc", *args], capture_output=True, text=True, timeout=timeout
    )
    if check:
        assert result.returncode == 0, (
            f"podman {' '.join(args)} failed:\n{result.stdout[-4000:]}{result.stderr[-4000:]}"
        )
    return result


def debian_mirror() -> str:
    """The mirror apt uses for the release itself (not -security, not -updates), from /etc/apt/sources.list*."""
    files = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in files:
        if not path.is_file() or path.suffix not in {".list", ".sources", ""}:
            continue
        text = path.read_text()
        if path.suffix == ".sources":  # deb822: stanzas of URIs, Suites, ...
            for stanza in re.split(r"\n\s*\n", text):
                fields = dict(re.findall(r"^(\w[\w-]*):\s*(.+)$", stanza, re.MULTILINE))
                if "deb" in fields.get("Types", "").split() and SUITE in fields.get("Suites", "").split():
                    return fields["URIs"].split()[0]
        else:
            for line in text.splitlines():
                match = re.match(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)", line)
                if match and match.group(2) == SUITE:
                    return match.group(1)
    raise AssertionError(f"no {SUITE} mirror in /etc/apt/sources.list*")


def base_image() -> str:
    """A bookworm base with Python 3.11, built once per recipe and kept in podman's store."""
    mirror = debian_mirror()
    key = hashlib.sha256(f"{SUITE} {PACKAGES} {mirror}".encode()).hexdigest()[:12]
    tag = f"localhost/mockserver-base:{SUITE}-{key}"
    if podman("image", "exists", tag, check=False).returncode == 0:
        return tag
    rootfs = CACHE / f"rootfs-{key}"
    shutil.rmtree(rootfs, ignore_errors=True)
    started = time.monotonic()
    debootstrap = [*command("debootstrap"), "--variant=minbase", f"--include={PACKAGES}", SUITE, str(rootfs), mirror]
    result = subprocess.run(debootstrap, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, f"debootstrap failed:\n{result.stdout[-4000:]}{result.stderr[-4000:]}"
    print(f"debootstrap: {time.monotonic() - started:.0f}s")
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    imported = subprocess.run(
        [*command("podman"), "import", "-", tag], stdin=tar.stdout, capture_output=True, text=True, timeout=600
    )
    assert tar.wait() == 0 and imported.returncode == 0, f"podman import failed:\n{imported.stderr}"
    shutil.rmtree(rootfs)  # podman holds it now
    return tag


def installer_mounts(scratch: Path) -> list[str]:
    """`--volume` options that give pip and uv in the build this machine's way to the package index."""
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, timeout=60, check=True
    )
    settings: dict[str, str] = {}
    for line in listed.stdout.splitlines():  # section.key='value'; PIP_* variables show as :env:.key
        match = re.match(r"^([^.]+)\.([\w-]+)='(.*)'$", line)
        if match:
            settings.setdefault(match.group(2), match.group(3))  # the variables come first and win
    config = scratch / "pip.conf"
    config.write_text("[global]\n" + "".join(f"{key} = {value}\n" for key, value in settings.items()))
    uv_config = scratch / "uv.toml"
    uv_config.write_text("native-tls = true\n")  # uv's own certificates would not know a proxy's CA
    mounts = ["--volume", f"{config}:/etc/pip.conf:ro", "--volume", f"{uv_config}:/etc/uv/uv.toml:ro"]
    for key, value in settings.items():
        for word in value.split():
            path = Path(word.removeprefix("file://"))
            if key.endswith("index-url") and word.startswith("file://"):
                path = path.parent  # a local index's pages link to files beside it (../files/...)
            if path.is_absolute() and path.exists():
                mounts += ["--volume", f"{path}:{path}:ro"]
    return mounts


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> str:
    base = base_image()
    scratch = tmp_path_factory.mktemp("build")
    # Podman 4.3 (Debian's) does not know HEALTHCHECK's --start-interval, which
    # Docker 25 and later read; everything else is built as written.
    dockerfile = scratch / "Dockerfile"
    dockerfile.write_text(re.sub(r" --start-interval=\S+", "", (ROOT / "docker" / "Dockerfile").read_text()))
    started = time.monotonic()
    podman(
        "build",
        "--format",
        "docker",  # keeps HEALTHCHECK, which the OCI image format has no field for
        *LIMITS,
        *installer_mounts(scratch),
        "--build-arg",
        f"BASE={base}",
        "--file",
        str(dockerfile),
        "--tag",
        IMAGE,
        str(ROOT),
        timeout=1200,
    )
    print(f"podman build: {time.monotonic() - started:.0f}s")
    return IMAGE


@pytest.fixture
def container(image: str) -> Iterator[tuple[str, str]]:
    """The image's default command, published on a free loopback port of this machine."""
    port = free_port()
    name = f"mockserver-image-test-{port}"
    podman("run", "--detach", "--name", name, *LIMITS, "--publish", f"127.0.0.1:{port}:8000", image)
    try:
        yield name, f"http://127.0.0.1:{port}"
    finally:
        podman("rm", "--force", "--time", "5", name, check=False)


def wait_healthy(name: str, timeout: float = 60) -> float:
    """Run the image's own HEALTHCHECK until it passes (no systemd timer runs it here); the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if podman("healthcheck", "run", name, check=False).returncode == 0:
            status = podman("inspect", "--format", "{{.State.Health.Status}}", name).stdout.strip()
            assert status == "healthy", status
            return time.monotonic() - started
        time.sleep(1)
    logs = podman("logs", name, check=False)
    pytest.fail(f"{name} was not healthy within {timeout}s:\n{logs.stdout[-4000:]}{logs.stderr[-4000:]}")


def test_the_image_becomes_healthy_and_serves_both_apis_on_a_published_port(container: tuple[str, str]) -> None:
    name, url = container
    print(f"healthy after {wait_healthy(name):.1f}s")
    for path, headers in (FACTURACION, DAFTRA):
        response = httpx.get(url + path, headers=headers, timeout=10)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:300]}"
    # the server runs as the image's unprivileged user, from the installed wheel
    where = podman("exec", name, "python", "-c", "import os, mockserver; print(os.getuid(), mockserver.__file__)")
    assert where.stdout.split() == ["10001", "/opt/venv/lib/python3.11/site-packages/mockserver/__init__.py"]
