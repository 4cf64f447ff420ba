"""Layer 2: workflows along the specs' OpenAPI links (create -> show -> update -> delete -> show).

Run by schemathesis' own engine (its CLI), which copes with a target whose
state moves on between generated cases.
"""

from __future__ import annotations

import pytest

from mockserver.harness import report, semantics
from mockserver.harness.settings import Settings

SETTINGS = Settings.active()


@pytest.mark.writes
@pytest.mark.follows_links
@pytest.mark.parametrize("api_name", SETTINGS.apis)
def test_stateful_workflows(api_name, targets, tmp_path):
    target = targets(api_name)
    assert semantics.link_count(target.spec) > 0, f"{api_name}: the spec declares no OpenAPI links to follow"
    result = semantics.run_cli(target, SETTINGS, "stateful", tmp_path)
    found = report.from_cli_junit(tmp_path / "junit.xml") if (tmp_path / "junit.xml").exists() else []
    if found:
        raise report.ContractFailed(found)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
    assert "Stateful" in result.stdout
