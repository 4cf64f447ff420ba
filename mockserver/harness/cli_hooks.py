"""Hooks the schemathesis CLI loads (through SCHEMATHESIS_HOOKS) for the stateful run.

The CLI runs in its own process, so what it creates is logged to the file
named by MOCKSERVER_CONTRACT_CALL_LOG (which the harness sets for the process
it starts); the suite reads it back to undo those records.
"""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis


@schemathesis.hook
def after_call(
    context: schemathesis.HookContext, case: schemathesis.Case[Any], response: schemathesis.Response
) -> None:
    log = os.environ.get("MOCKSERVER_CONTRACT_CALL_LOG")
    if log and 200 <= response.status_code < 300:
        entry = {
            "method": case.operation.method,
            "path": case.operation.path,
            "status": response.status_code,
            "body": response.content.decode("utf-8", "replace"),
        }
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")
