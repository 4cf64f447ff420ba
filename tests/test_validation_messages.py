"""A 422 lists the same errors, in the same order, whether its failures are found where jsonschema-rs
places them or by jsonschema walking the whole body (`validation.located_failures`).

A quarter of the bundled specs' operations (each one's validators are built at its first request, which
is most of this test's time), every one that takes a body sent bodies with fields of every wrong kind
(random, seeded); the errors a caller would read are compared.
"""

from __future__ import annotations

import random
from typing import Any

from mockserver.pipeline.validation import RequestValidator, located_failures
from mockserver.spec.schemas import merged_properties
from tests.inprocess import in_process

WRONG = [1, -5, 1.5, "x", "", "a" * 300, "not-an-address", "2020-13-45", [], [1, "a"], [{}], {}, {"x": 1}, None, True]
BODIES_PER_OPERATION = 10


def _body(schema: Any, chance: random.Random, depth: int = 0) -> Any:
    properties = merged_properties(schema) if isinstance(schema, dict) else {}
    if properties and depth < 3:
        body = {}
        for name, sub in properties.items():
            roll = chance.random()
            if roll < 0.6:
                body[name] = chance.choice(WRONG) if roll < 0.3 else _body(sub, chance, depth + 1)
        return body
    items = schema.get("items") if isinstance(schema, dict) else None
    if isinstance(items, dict) and depth < 3:
        return [_body(items, chance, depth + 1) for _ in range(chance.randint(0, 2))]
    return chance.choice(WRONG)


def _read(validator: RequestValidator, failures: Any) -> list[dict[str, Any]]:
    return [vars(error) for error in validator._field_errors(failures)]


def test_placed_failures_read_as_the_whole_walk_reads_them() -> None:
    chance = random.Random(17)
    placed = 0
    with in_process() as client:
        for api in client.app.server.apis:  # type: ignore[attr-defined]
            for operation in list(api.operations.values())[::4]:
                validator = operation.validator
                if validator.body_schema is None or validator.body_valid is None:
                    continue
                ranks: dict[Any, Any] = {}  # remembered across the operation's bodies, as a validator does
                for _ in range(BODIES_PER_OPERATION):
                    body = validator.coerced(_body(validator.body_schema, chance))
                    if validator.body_valid(body) or validator.body_valid.compiled is None:
                        continue
                    located = located_failures(validator.body_valid.compiled, validator.body_validator, body, ranks)
                    if located is None:
                        continue
                    placed += 1
                    whole = validator.body_validator.iter_errors(body)  # type: ignore[union-attr]
                    assert _read(validator, located) == _read(validator, whole), (
                        operation.operation.operation_id,
                        body,
                    )
    assert placed > 150  # most invalid bodies are placed, so the comparison covers the fast way
