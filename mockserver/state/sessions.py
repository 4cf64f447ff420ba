"""Sessions: a private copy of an API's state per `X-Mock-Session` name.

Callers that send no session share the default state. A named copy is made
from the fixtures on first use and dropped when idle too long, when the admin
API drops it, or when the number of sessions passes the limit (the least
recently used goes first), so memory stays bounded.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from mockserver.errors import BadPreference
from mockserver.state.store import Store

#: longer names are refused, so a header cannot be used to fill the memory
MAX_NAME_LENGTH = 128


def check_name(name: str) -> None:
    if len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise BadPreference(f"a session name is at most {MAX_NAME_LENGTH} printable characters")


class Sessions:
    def __init__(
        self,
        fresh: Callable[[], Store],
        limit: int = 100,
        idle_seconds: float = 1800,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fresh = fresh
        self.limit = limit
        self.idle_seconds = idle_seconds
        self.clock = clock
        self.default = fresh()
        self.named: OrderedDict[str, tuple[Store, float]] = OrderedDict()

    def get(self, name: str | None) -> Store:
        if not name:
            return self.default
        check_name(name)
        now = self.clock()
        self.evict_idle(now)
        entry = self.named.pop(name, None)
        store = entry[0] if entry is not None else self.fresh()
        self.named[name] = (store, now)
        while len(self.named) > self.limit:
            self.named.popitem(last=False)
        return store

    def resume(self, name: str | None, store: Store) -> Store:
        return self.get(name)

    def commit(self, name: str | None, store: Store) -> bool:
        """Nothing to do: a write to a store in memory is done when it returns."""
        return True

    def peek(self, name: str | None) -> Store | None:
        """A session's state without creating or touching it (for the admin API)."""
        if not name:
            return self.default
        entry = self.named.get(name)
        return entry[0] if entry is not None else None

    def replace(self, name: str | None, store: Store) -> None:
        if name:
            self.named[name] = (store, self.clock())
            self.named.move_to_end(name)
        else:
            self.default = store

    def stores(self) -> list[tuple[str | None, Store]]:
        return [(None, self.default), *((name, store) for name, (store, _) in self.named.items())]

    def drop(self, name: str) -> bool:
        return self.named.pop(name, None) is not None

    def reset(self, name: str | None = None) -> None:
        """Back to the fixtures: a named session is dropped (its next request starts afresh)."""
        if name:
            self.drop(name)
        else:
            self.default = self.fresh()

    def evict_idle(self, now: float) -> None:
        while self.named:
            name, (_, last_used) = next(iter(self.named.items()))
            if now - last_used <= self.idle_seconds:
                break
            del self.named[name]

    def describe(self) -> list[dict[str, Any]]:
        now = self.clock()
        return [
            {
                "name": name,
                "idle_seconds": round(now - last_used, 3),
                "records": sum(len(table) for table in store.tables.values()),
            }
            for name, (store, last_used) in self.named.items()
        ]
