"""Layer 3: scenarios generated from the rules each spec declares (no per-endpoint code)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mockserver.contract import scenarios
from mockserver.contract.settings import Settings
from mockserver.contract.target import find_spec

SETTINGS = Settings.from_env()
SCENARIOS = [s for api in SETTINGS.apis for s in scenarios.build(find_spec(api))]


@pytest.fixture(scope="module")
def clients(targets) -> Iterator:
    opened: dict[str, httpx.Client] = {}

    def get(api: str) -> httpx.Client:
        if api not in opened:
            target = targets(api)
            opened[api] = httpx.Client(base_url=target.base_url, headers=target.headers, timeout=10)
        return opened[api]

    yield get
    for client in opened.values():
        client.close()


@pytest.mark.parametrize(
    "scenario",
    [pytest.param(s, id=f"{s.api}: {s.name}", marks=[pytest.mark.writes] if s.writes else []) for s in SCENARIOS],
)
def test_business_rule(scenario, targets, clients):
    scenario.run(targets(scenario.api), clients(scenario.api))
