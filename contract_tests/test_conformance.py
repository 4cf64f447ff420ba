"""Layer 1: every operation, positive and negative data, every applicable check."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings

from mockserver.harness import semantics
from mockserver.harness.settings import Settings

SETTINGS = Settings.active()
SCHEMAS = {name: semantics.load_schema(name, SETTINGS) for name in SETTINGS.apis}


@schemathesis.pytest.parametrize(**SCHEMAS)
@settings(deadline=None, suppress_health_check=list(HealthCheck), max_examples=SETTINGS.max_examples)
def test_conformance(case, targets):
    target = targets(semantics.api_of(case))
    operation = target.operation(case.operation.method, case.operation.path)
    headers = target.throwaway_headers() if semantics.revokes_credentials(operation) else target.headers
    response = case.call(base_url=target.base_url, headers=headers)
    target.remember(case.operation.method, case.operation.path, response.status_code, response.content)
    # the checks that send requests of their own (ignored_auth, ...) need the same transport
    case.validate_response(
        response, headers=headers, transport_kwargs={"base_url": target.base_url, "headers": headers}
    )
