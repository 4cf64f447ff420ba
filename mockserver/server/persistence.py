"""`--state-file`: the default state saved on shutdown and at an interval, loaded at start-up.

Writes go to a temporary file in the same folder, are flushed to disk, and
then replace the old file in one rename, so a crash at any moment leaves
either the old or the new state, never half of one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from mockserver.pipeline.responses import dumps

if TYPE_CHECKING:
    from mockserver.server.app import MockServer

log = logging.getLogger("mockserver")


def write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:  # the rename itself is durable only once the folder is synced
        os.fsync(folder)
    finally:
        os.close(folder)


class StateFile:
    def __init__(self, path: Path, server: MockServer) -> None:
        self.path = path
        self.server = server
        self.saved_generation: object = None

    def load(self) -> None:
        if not self.path.exists():
            return
        # the standard library's reader: orjson would read an integer beyond 64 bits as a float
        self.server.restore(json.loads(self.path.read_bytes()), owned=True)
        self.saved_generation = self.server.generation
        log.warning("state loaded from %s", self.path)

    def save(self) -> None:
        generation = self.server.generation
        if generation == self.saved_generation:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.path, dumps(self.server.snapshot(), indent=True))
        self.saved_generation = generation

    def save_or_log(self) -> None:
        """Save; a failure (a full disk, a value JSON cannot hold) is logged, never raised."""
        try:
            self.save()
        except (OSError, TypeError, ValueError) as exc:  # the next round retries
            log.error("could not save the state to %s: %s", self.path, exc)

    async def save_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            self.save_or_log()
