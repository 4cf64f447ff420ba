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

from mockserver.harness.report import Finding, findings
from mockserver.harness.settings import NAMES, Settings
from mockserver.harness.target import Target, mock_target, remote_target


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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not Settings.active().read_only:
        return
    dropped = [item for item in items if item.get_closest_marker("writes")]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not item.get_closest_marker("writes")]


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
