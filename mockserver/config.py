"""How a server is set up: every option of `mockserver serve`, in one place.

The CLI, environment variables and the optional config file all end up here;
the application reads nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path


def bundled(folder: str) -> Path:
    """A folder the package carries: `specs`, `fixtures` or `contract_tests` (see setup.py)."""
    # Installed from a wheel or in place, the package is a folder on disk, so
    # its resources are real paths the server can list and watch.
    return Path(str(files(f"mockserver.bundled.{folder}")))


DEFAULT_SPECS = bundled("specs")
DEFAULT_FIXTURES = bundled("fixtures")


@dataclass
class ServerConfig:
    specs_dir: Path = DEFAULT_SPECS
    fixtures_dir: Path = DEFAULT_FIXTURES
    #: language of validation messages, where a spec offers it
    locale: str | None = None
    #: an opt-in realism profile a spec declares (`x-mock.profiles`): its operations' quirks apply
    profile: str | None = None
    #: required on the admin API (except health, docs and the console page) when set
    admin_token: str | None = None
    cors: bool = True
    cors_origins: tuple[str, ...] = ("*",)
    #: request headers browsers may send; the session header and each API's key headers are added
    cors_headers: tuple[str, ...] = ("Authorization", "Content-Type", "Accept", "Prefer", "X-Mock-Admin-Token")
    #: latency and fault for every request, in the syntax of `controls.Rule.parse`
    delay: str | None = None
    fault: str | None = None
    fault_rate: float = 1.0
    session_header: str = "X-Mock-Session"
    session_limit: int = 100
    session_idle_seconds: float = 1800
    journal_size: int = 1000
    #: the largest request body an API reads; a larger one gets the API's 413.
    #: PHP's default post_max_size (8 MiB), the bound the PHP services behind
    #: both bundled APIs keep: an upload at a file field's own 2 MB maximum,
    #: with the other fields beside it, reaches validation as it does there.
    max_body_bytes: int = 8 * 1024 * 1024
    state_file: Path | None = None
    state_interval_seconds: float = 30
    #: watch the specs and fixtures folders and reload what changes
    reload: bool = False
    #: where the state lives: "memory" (this process) or "redis://HOST:PORT/DB" (shared by every process using it)
    store: str = "memory"
    #: makes random choices (delays, fault rates, dynamic examples) repeatable
    seed: int = 0
