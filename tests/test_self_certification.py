"""Self-certification: the schemathesis CLI, every phase and check, against a live mock of each spec.

The CLI reads the spec the mock itself serves (`/<api>/openapi.json`, whose
first server is the mock), with the fixtures' credentials. What it runs
differently from schemathesis' defaults comes from the spec alone: the
`x-mock` declarations (`mockserver/harness/semantics.py`) and the
`x-certification` notes, each with its reason. The report stays under
`build/certification/<api>/`: `junit.xml`, the CLI's `output.txt` and the
`schemathesis.toml` it ran with, so a failure can be replayed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
import schemathesis.cli  # noqa: F401  (registers every check the CLI offers)
from schemathesis.checks import CHECKS

from mockserver.harness import semantics
from mockserver.harness.settings import Settings
from mockserver.harness.target import find_model, mock_target
from mockserver.spec.model import parse_certification

# live: the schemathesis CLI certifies a mock listening on a port

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "build" / "certification"
PHASES = ("examples", "coverage", "fuzzing", "stateful")
SEED = 20261122
# Generated cases per operation in the fuzzing and stateful phases (the examples and coverage phases
# send what the spec holds, whatever this says). Both specs have grown to some 330 operations; at 30
# the two certifications took 9 minutes of one core under load, a third of the whole suite.
MAX_EXAMPLES = 10


def switched_off(config: dict) -> set[str]:
    return {name for name, settings in config.get("checks", {}).items() if settings.get("enabled") is False}


@pytest.mark.parametrize("api", Settings.all_apis())
def test_the_mock_passes_schemathesis_on_its_own_spec(api):
    settings = Settings(apis=[api], seed=SEED, max_examples=MAX_EXAMPLES)
    report = REPORTS / api
    shutil.rmtree(report, ignore_errors=True)
    report.mkdir(parents=True)
    with mock_target(api, settings) as target:
        # Dynamic auth logs in with the fixtures' user, and again after the run's own logout revokes it.
        config = semantics.cli_config(target, settings)
        # Examples found by an earlier run would change what this one sends.
        config["generation"]["database"] = "none"
        # The coverage phase sends each operation's boundary values that the schema admits. Its
        # invalid ones were 11,062 of the Daftra run's 18,827 cases: with them the two certifications
        # took 314 s of the suite's CPU against 210 s without. Invalid input still reaches every
        # operation from the fuzzing phase (`mode = all`) here and in the conformance suite, and
        # `mockserver contract` keeps the whole phase for users.
        config.setdefault("phases", {})["coverage"] = {"generation": {"mode": "positive"}}
        # No `--checks all`: on the command line it would override the spec's per-operation settings.
        # Every check is on by default; the test below shows which ones the spec switched off.
        command = semantics.cli_command(
            target,
            config,
            report,
            ",".join(PHASES),
            schema=f"{target.base_url}/{api}/openapi.json",
            options=["--seed", str(SEED), "--max-examples", str(MAX_EXAMPLES), "--workers", "1"],
        )
        started = time.monotonic()
        result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=report)
        took = time.monotonic() - started
    output = result.stdout + result.stderr
    (report / "output.txt").write_text(output)
    print(f"{api}: certified in {took:.0f}s; report in {report}")

    assert result.returncode == 0, output
    summary = output[output.rindex("Test Phases:") :]
    for phase in PHASES:
        assert re.search(rf"✅ {phase}", summary, re.IGNORECASE), f"{phase} did not pass:\n{output}"
    junit = ElementTree.parse(report / "junit.xml").getroot()
    tested = {case.get("name") for case in junit.iter("testcase")}
    assert {f"{op.method} {op.path}" for op in target.spec.operations} <= tested, "operations left untested"
    assert not [*junit.iter("failure"), *junit.iter("error")], output
    # Only checks that exist can be switched off (an x-certification note with a misspelt name is caught here).
    assert switched_off(config) < set(CHECKS.get_all_names())


def test_an_exclusion_reaches_schemathesis_without_its_reason():
    # An exclusion with no reason is refused when the spec loads (tests/test_xmock_model.py).
    declared = parse_certification(
        {"checks": {"use_after_free": {"enabled": False, "reason": "The API documents that DELETE only archives."}}}
    )
    assert semantics.certification_checks(declared) == {"use_after_free": {"enabled": False}}


@pytest.mark.parametrize("api", Settings.all_apis())
def test_a_body_over_the_size_limit_may_get_the_documented_413(api):
    model = find_model(api)
    spec = model.spec
    config = semantics.schemathesis_config(model, SEED, MAX_EXAMPLES)
    by_name = {name: entry["checks"] for entry in config["operations"] for name in entry["include-name"]}
    with_body = [op for op in spec.operations if op.request_body]
    assert with_body and all("413" in op.responses for op in with_body)
    for op in with_body:
        checks = by_name[f"{op.method} {op.path}"]
        assert "413" in checks["positive_data_acceptance"]["expected-statuses"]
        assert "413" in checks["negative_data_rejection"]["expected-statuses"]
