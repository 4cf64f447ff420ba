"""Options and fixtures of the contract suites.

By default every suite starts the mock as a uvicorn process on a free
loopback port (a fresh one per test module). Point the suites at a
deployment with `--contract-base-url` and `--contract-header` (or
MOCKSERVER_CONTRACT_BASE_URL and MOCKSERVER_CONTRACT_HEADER), or run
`mockserver contract API --base-url ... --header ...`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from mockserver.harness import semantics
from mockserver.harness.report import Finding, findings
from mockserver.harness.settings import NAMES, Settings
from mockserver.harness.target import Target, find_spec, mock_target, remote_target


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contract", "contract suites (each option can also be set as MOCKSERVER_CONTRACT_<NAME>)")
    group.addoption("--contract-api", action="append", help="API (spec name) to test; repeatable. Default: every spec.")
    group.addoption("--contract-spec", help="OpenAPI document to test instead of the bundled spec of the API's name.")
    group.addoption("--contract-base-url", help="A deployment to test instead of a freshly started mock.")
    group.addoption("--contract-header", action="append", help="'Name: value' sent with every request; repeatable.")
    group.addoption("--contract-login", help="JSON body for the spec's login operation (throw-away credentials).")
    group.addoption("--contract-read-only", action="store_true", default=None, help="Only safe methods.")
    group.addoption("--contract-seed", type=int, help="Generation seed (fixed by default, so runs repeat).")
    group.addoption("--contract-max-examples", type=int, help="Generated cases per operation.")
    group.addoption(
        "--contract-operation", action="append", help="operationId to test; repeatable. Default: every one."
    )
    group.addoption(
        "--contract-phase",
        action="append",
        help="Conformance phase to run (examples, coverage, fuzzing); repeatable. Default: all three.",
    )


def pytest_configure(config: pytest.Config) -> None:
    # Test modules build their schemathesis schemas at import time from these
    # settings, so they are resolved before collection.
    try:
        Settings.activate(Settings.resolve({name: config.getoption(f"contract_{name}") for name in NAMES}))
    except ValueError as exc:  # a --contract-login that is no JSON object, a seed that is no number
        raise pytest.UsageError(str(exc)) from None
    config.addinivalue_line(
        "markers", "writes: the test changes the target's state (left out with --contract-read-only)"
    )
    config.addinivalue_line(
        "markers", "follows_links: the test follows the spec's OpenAPI links (left out when none joins the chosen)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    settings = Settings.active()
    dropped = [item for item in items if settings.read_only and item.get_closest_marker("writes")]
    if settings.operations:
        # With no link between the operations chosen, the stateful layer has nothing to follow
        # (schemathesis would fail the run for it): it is left out, and the summary says why.
        unlinked = [item for item in items if _follows_links(item) and not _links_among(item, settings)]
        config.stash[UNLINKED] = sorted({_api_of(item) for item in unlinked})
        dropped += unlinked
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        left_out = set(map(id, dropped))
        items[:] = [item for item in items if id(item) not in left_out]


UNLINKED = pytest.StashKey[list[str]]()


def _follows_links(item: pytest.Item) -> bool:
    return item.get_closest_marker("follows_links") is not None


def _api_of(item: pytest.Item) -> str:
    return str(item.callspec.params["api_name"]) if isinstance(item, pytest.Function) else ""


def _links_among(item: pytest.Item, settings: Settings) -> int:
    return semantics.link_count(find_spec(_api_of(item), settings.spec), settings.operations)


BROKEN = pytest.StashKey[list[tuple[str, Finding]]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    """A broken contract reads as its findings (operation, check, expected vs actual, curl), not a traceback."""
    report = yield
    found = findings(call.excinfo.value) if call.excinfo is not None and report.failed else []
    if found:
        report.longrepr = "\n\n".join(finding.render() for finding in found)
        item.config.stash.setdefault(BROKEN, []).extend((item.name, finding) for finding in found)
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    for api in config.stash.get(UNLINKED, []):
        terminalreporter.write_line(
            f"{api}: the stateful layer was left out: no OpenAPI link between the operations chosen"
        )
    broken = config.stash.get(BROKEN, [])
    if broken:
        terminalreporter.section(f"{len(broken)} broken contract(s)", red=True)
        for test, finding in broken:
            terminalreporter.write_line(f"{finding.operation} [{finding.check}]  ({test})")


@pytest.fixture(scope="module")
def targets() -> Iterator[Callable[[str], Target]]:
    """Targets by API name, started on first use and stopped with the module."""
    settings = Settings.active()
    opened: dict[str, Target] = {}
    with ExitStack() as stack:

        def get(name: str) -> Target:
            if name not in opened:
                opener = mock_target if settings.base_url is None else remote_target
                opened[name] = stack.enter_context(opener(name, settings))
            return opened[name]

        yield get
