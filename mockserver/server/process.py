"""Running the mock as a real uvicorn process on loopback (tests, the contract harness)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """`with ServerProcess() as server:` serves the mock at `server.url` until the block ends."""

    #: how the server is started; `--host` and `--port` follow, then the extra arguments
    MOCKSERVER = (sys.executable, "-m", "mockserver", "serve", "--no-access-log")

    def __init__(
        self,
        *args: str,
        host: str = "127.0.0.1",
        port: int | None = None,
        # loading the specs takes seconds of CPU; on a loaded machine (tests beside other work) many more
        startup_timeout: float = 60,
        launcher: tuple[str, ...] = MOCKSERVER,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.launcher = launcher
        self.env = env
        self.cwd = cwd
        self.host = host
        self.port = port or free_port(host)
        self.args = list(args)
        self.startup_timeout = startup_timeout
        self.url = f"http://{host}:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None

    def start(self) -> ServerProcess:
        command = [*self.launcher, "--host", self.host, "--port", str(self.port), *self.args]
        self.log_path = Path(tempfile.gettempdir()) / f"mockserver-{self.port}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=None if self.env is None else {**os.environ, **self.env},
            cwd=self.cwd,
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mock server exited with {self.process.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(f"{self.url}/__mock/health", timeout=1) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"mock server did not answer within {self.startup_timeout}s:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "_log", None):
            self._log.close()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        # the log is read (output()) up to here; a hundred test servers a run would otherwise leave theirs in /tmp
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)
