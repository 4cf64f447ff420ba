"""Made-up answers that fit a response schema (`Prefer: dynamic=true`).

Strings follow the schema's pattern (rstr), format or, failing those, the
property's name (Faker: a `name` looks like a name, an `email` like an
address). The generator is seeded, so a seed gives the same answers in
every run. A value is checked against its schema before it is returned.
"""

from __future__ import annotations

import functools
import random
from typing import TYPE_CHECKING, Any

import rstr

from mockserver.spec.schemas import merged_properties, required_names

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

#: deeper than this, objects keep only their required properties and lists stay short
_DEEP = 4
#: Faker providers worth using when a string property is named like them
_BY_NAME = ("email", "name", "first_name", "last_name", "phone_number", "city", "address", "company", "country", "url")


def _flatten(schema: dict[str, Any]) -> dict[str, Any]:
    """One schema of an `allOf`: its parts' keywords, then its own; properties and required as the engine merges them."""
    if "allOf" not in schema:
        return schema
    flat: dict[str, Any] = {}
    for part in schema["allOf"]:
        if isinstance(part, dict):
            flat.update(_flatten(part))
    flat.update({k: v for k, v in schema.items() if k != "allOf"})
    flat.pop("properties", None)
    flat.pop("required", None)
    properties, required = merged_properties(schema), required_names(schema)
    if properties:
        flat["properties"] = properties
    if required:
        flat["required"] = sorted(required)
    return flat


class DataGenerator:
    def __init__(self, seed: str) -> None:
        self.seed = seed
        self._faker: Any = None
        #: each schema's validator, compiled once (the schema is kept, so its id is not reused)
        self._validators: dict[int, tuple[dict[str, Any], Draft202012Validator]] = {}

    # Made on first use: every operation has a generator, few are ever asked for a dynamic answer, and a
    # generator's random state and pattern writer were 1.4 MB of an idle server's memory. The sequence
    # depends on the seed alone, so it is the same whenever it starts.
    @functools.cached_property
    def rng(self) -> random.Random:
        return random.Random(self.seed)

    @functools.cached_property
    def strings(self) -> rstr.Rstr:
        return rstr.Rstr(self.rng)

    def validator(self, schema: dict[str, Any]) -> Draft202012Validator:
        cached = self._validators.get(id(schema))
        if cached is None or cached[0] is not schema:
            # imported here: only a dynamic answer needs it, and a start without it is ~90 ms of CPU shorter
            from jsonschema import Draft202012Validator

            cached = self._validators[id(schema)] = (schema, Draft202012Validator(schema))
        return cached[1]

    def generate(self, schema: dict[str, Any]) -> Any:
        validator = self.validator(schema)
        value = None
        for _ in range(5):  # a pattern and a length limit can disagree; try again
            value = self._value(schema, "", 0)
            if validator.is_valid(value):
                return value
        return value

    @property
    def faker(self) -> Any:
        if self._faker is None:  # Faker takes a moment to import; only dynamic answers need it
            from faker import Faker

            self._faker = Faker()
            self._faker.seed_instance(self.rng.getrandbits(32))
        return self._faker

    def _value(self, schema: Any, name: str, depth: int) -> Any:
        if not isinstance(schema, dict):
            return None
        schema = _flatten(schema)
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return self.rng.choice(schema["enum"])
        options = schema.get("oneOf") or schema.get("anyOf")
        if options:
            base = {k: v for k, v in schema.items() if k not in ("oneOf", "anyOf")}
            return self._value(_flatten({"allOf": [base, self.rng.choice(options)]}), name, depth)
        kind = schema.get("type")
        if isinstance(kind, list):
            kinds = [k for k in kind if k != "null"] or ["null"]
            kind = self.rng.choice(kinds)
        if kind is None:
            kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
        return getattr(self, f"_{kind}", lambda *_: None)(schema, name, depth)

    def _object(self, schema: dict[str, Any], name: str, depth: int) -> dict[str, Any]:
        required = set(schema.get("required", []))
        result = {}
        for key, sub in (schema.get("properties") or {}).items():
            if key in required or (depth < _DEEP and self.rng.random() < 0.7):
                result[key] = self._value(sub, key, depth + 1)
        return result

    def _array(self, schema: dict[str, Any], name: str, depth: int) -> list[Any]:
        low = int(schema.get("minItems", 0))
        high = min(int(schema.get("maxItems", low + 3)), low + (3 if depth < _DEEP else 0))
        return [
            self._value(schema.get("items", {}), name, depth + 1) for _ in range(self.rng.randint(low, max(low, high)))
        ]

    def _string(self, schema: dict[str, Any], name: str, depth: int) -> str:
        if "pattern" in schema:
            text = self.strings.xeger(schema["pattern"])
        elif schema.get("format") == "date-time":
            text = self.faker.date_time().strftime("%Y-%m-%dT%H:%M:%SZ")
        elif schema.get("format") == "date":
            text = self.faker.date()
        elif schema.get("format") == "uuid":
            text = str(self.faker.uuid4())
        else:
            provider = next((p for p in _BY_NAME if p in name.lower()), None)
            text = str(getattr(self.faker, provider)()) if provider else self.faker.word()
        low, high = int(schema.get("minLength", 0)), schema.get("maxLength")
        if len(text) < low:
            text += "x" * (low - len(text))
        return text[:high] if high is not None else text

    def _integer(self, schema: dict[str, Any], name: str, depth: int) -> int:
        low = int(schema.get("minimum", 1 if "id" in name else 0))
        high = int(schema.get("maximum", low + 1000))
        return self.rng.randint(low, max(low, high))

    def _number(self, schema: dict[str, Any], name: str, depth: int) -> float:
        low = float(schema.get("minimum", 0))
        high = float(schema.get("maximum", low + 1000))
        return round(self.rng.uniform(low, max(low, high)), 2)

    def _boolean(self, schema: dict[str, Any], name: str, depth: int) -> bool:
        return self.rng.random() < 0.5

    def _null(self, schema: dict[str, Any], name: str, depth: int) -> None:
        return None
