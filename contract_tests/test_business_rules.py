"""Layer 3: scenarios generated from the rules each spec declares (no per-endpoint code)."""

from __future__ import annotations

import pytest

from mockserver.harness import scenarios
from mockserver.harness.settings import Settings
from mockserver.harness.target import find_spec

SETTINGS = Settings.active()
SCENARIOS = [s for api in SETTINGS.apis for s in scenarios.build(find_spec(api, SETTINGS.spec), SETTINGS.operations)]


@pytest.mark.parametrize(
    "scenario",
    [pytest.param(s, id=f"{s.api}: {s.name}", marks=[pytest.mark.writes] if s.writes else []) for s in SCENARIOS],
)
def test_business_rule(scenario, targets):
    scenario.run(targets(scenario.api))
