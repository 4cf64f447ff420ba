"""Hot reload: watch the specs and fixtures folders and hand what changed to the server."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from watchfiles import awatch

if TYPE_CHECKING:
    from mockserver.server.app import MockServer

log = logging.getLogger("mockserver")


async def watch(server: MockServer, folders: list[Path]) -> None:
    async for changes in awatch(*folders, debounce=200, step=50):
        try:
            server.reload({Path(path) for _, path in changes})
        except Exception:  # the watcher must outlive any one bad edit
            log.exception("reload failed; the previous specs keep serving")
