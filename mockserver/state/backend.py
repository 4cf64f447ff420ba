"""Where an API's state lives: the interface every state backend offers.

Two backends: `sessions.Sessions` keeps every session's store in this
process's memory (the default); `shared.RedisSessions` keeps them in Redis,
so several processes and replicas serve one state. Both hand the request
pipeline a plain `Store` to run a behaviour on; the shared one then commits
what that request wrote (`commit`), or reports that another process wrote
first, so the pipeline runs the behaviour again on the newer state.
"""

from __future__ import annotations

from typing import Any, Protocol

from mockserver.state.store import Store

MEMORY = "memory"


class StateBackend(Protocol):
    """The sessions of one API, each a `Store`: the default one (no session name) and named ones."""

    def get(self, name: str | None) -> Store:
        """A session's current state, made from the fixtures on first use."""

    def resume(self, name: str | None, store: Store) -> Store:
        """The state to write on after an await, `store` being what `get` gave this request before it.

        A reset or restore meanwhile replaced it: the current one. (On shared state a commit
        of another process meanwhile is found by `commit`, which then refuses the write.)
        """

    def commit(self, name: str | None, store: Store) -> bool:
        """Make the request's writes to `store` durable; False: another writer won, the writes are undone."""

    def peek(self, name: str | None) -> Store | None:
        """A session's state without creating or touching it (for the admin API)."""

    def replace(self, name: str | None, store: Store) -> None:
        """A session's whole state replaced (restore, fixture load, reload)."""

    def stores(self) -> list[tuple[str | None, Store]]:
        """Every session with its state, the default first."""

    def drop(self, name: str) -> bool:
        """Forget a named session; False when there was none."""

    def reset(self, name: str | None = None) -> None:
        """Back to the fixtures."""

    def describe(self) -> list[dict[str, Any]]:
        """The named sessions, as the admin API lists them."""

    @property
    def default(self) -> Store:
        """The state of callers that name no session."""


def is_memory(url: str) -> bool:
    return url.strip().lower() in ("", MEMORY)
