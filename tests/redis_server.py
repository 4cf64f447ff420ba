"""A real redis-server on a free loopback port, for the tests of the shared state (`--store redis://…`).

Debian's `redis-server` is installed by `make redis` (a dependency of `make test`).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from mockserver.server.process import free_port


class RedisServer:
    """`with RedisServer() as server:` runs redis-server at `server.url(db)` until the block ends."""

    def __init__(self, *, durable: bool = False, port: int | None = None) -> None:
        self.port = port or free_port()
        self.durable = durable
        self.folder = Path(tempfile.mkdtemp(prefix="mockserver-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis.from_url(self.url(db), socket_timeout=2)

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed; `make redis` installs it")
        # durable: every write is on disk before Redis acknowledges it; else nothing is saved at all
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.durable else ["--appendonly", "no"]
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", *persistence]
        self.process = subprocess.Popen(
            [*command, "--dir", str(self.folder), "--logfile", str(self.folder / "redis.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return self
            except redis.RedisError:
                time.sleep(0.02)
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def kill(self) -> None:
        """`kill -9`: no chance to write anything more."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
