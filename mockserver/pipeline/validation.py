"""Request validation against the operation's parameters and body schema.

Validators are compiled once per operation at start-up. Failures come back
as `FieldError`s in the order a reader expects: fields in the order the
schema declares them, and per field in rule order (required, type, ...).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

import jsonschema_rs
import orjson
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from mockserver.errors import BodyError, FieldError
from mockserver.spec.openapi import Operation
from mockserver.spec.schemas import merged_properties, required_names, value_at

_RULE_ORDER = {
    rule: i
    for i, rule in enumerate(
        ["required", "type", "enum", "const", "format", "minLength", "maxLength", "pattern", "minimum", "maximum"]
    )
}
# Python refuses to parse integers of more than 4300 digits; longer text stays text.
# ASCII digits only: int() also reads "１" or "١" as 1, which no API takes for an id.
_INTEGER = re.compile(r"^-?[0-9]{1,4000}$")
_NUMBER = re.compile(r"^-?[0-9]{1,300}(\.[0-9]{1,300})?([eE][-+]?[0-9]{1,3})?$")
# PHP's json_decode stops at 512 levels; orjson itself stops at 1024.
MAX_DEPTH = 512
# orjson errors that name a limit of the reader, not a fault in the JSON text
_READER_LIMITS = {
    "depth limit exceeded": ("body.too_deep", MAX_DEPTH),
    "number is infinity when parsed as double": ("body.number_too_large", None),
}
# What PHP's trim() strips; the specs' "not blank" patterns name the same set.
_TRIMMED = " \t\n\r\x00\x0b"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")

FORMATS = FormatChecker()


@FORMATS.checks("email")
def _is_email(value: object) -> bool:
    return not isinstance(value, str) or bool(_EMAIL.match(value))


def _either(quick: Callable[[Any], bool], full: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """Valid when the quick check says so, else as the full validator decides."""
    return lambda value: quick(value) or full(value)


def _quick_check(schema: Mapping[str, Any]) -> Callable[[Any], bool]:
    """A compiled yes/no check of the schema, used only to skip the full validator.

    jsonschema walks a valid body in pure Python, about 70 µs for a body of a dozen fields,
    the largest cost of a create (see bench/results.md); jsonschema-rs says
    "valid" in under a microsecond. Its answer is trusted only when it is
    "valid", and it is at least as strict as jsonschema on what the specs use
    (it checks formats jsonschema skips without extra packages, and its `$`
    does not match before a final newline), so a value it refuses goes to
    jsonschema, which then finds the errors, or none, exactly as before. A
    schema it cannot compile gets the full validator every time.
    """
    try:
        fast = jsonschema_rs.Draft202012Validator(dict(schema), validate_formats=True, formats={"email": _is_email})
    except (ValueError, TypeError, jsonschema_rs.ValidationError):
        return lambda value: False
    return fast.is_valid


def _depth(value: Any) -> int:
    """How deeply a parsed body nests, counted without recursion."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        node, level = pending.pop()
        deepest = max(deepest, level)
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        pending.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:  # named in the answer, so a long key is cut short
            raise BodyError("body.duplicate_key", key if len(key) <= 64 else key[:64] + "…")
        seen[key] = value
    return seen


def _refuse_duplicate_keys(raw: bytes) -> None:
    """A key sent twice in one object is refused: parsers disagree on which value wins.

    orjson keeps the last silently, so the text is read again by the standard
    parser, which reports every object's pairs; the body is known to be valid
    JSON within MAX_DEPTH by now, so this second read cannot fail otherwise.
    """
    json.loads(raw, object_pairs_hook=_unique_pairs)


def _types(schema: Mapping[str, Any]) -> list[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        return declared
    return []


def coerce(text: str, schema: Mapping[str, Any]) -> Any:
    """Read a path or query string as the type its schema declares, if it can be."""
    for kind in _types(schema):
        if kind == "integer" and _INTEGER.match(text):
            return int(text)
        if kind == "number" and _NUMBER.match(text):
            return float(text) if any(c in text for c in ".eE") else int(text)
        if kind == "boolean" and text in ("true", "false"):
            return text == "true"
    return text


class _FieldMap:
    """Per-field facts of a body schema: declared order, required flags, wording."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.order: dict[str, int] = {}
        self.required: set[str] = set()
        self.overrides: dict[str, Mapping[str, Any]] = {}
        self._walk(schema, "")

    def _walk(self, schema: Mapping[str, Any], prefix: str) -> None:
        required = required_names(schema)
        for name, sub in merged_properties(schema).items():
            path = f"{prefix}{name}"
            self.order.setdefault(path, len(self.order))
            if name in required:
                self.required.add(path)
            if "x-messages" in sub:
                self.overrides[path] = sub["x-messages"]
            self._walk(sub, path + ".")
            if isinstance(sub.get("items"), Mapping):
                self._walk(sub["items"], path + ".*.")


class RequestValidator:
    def __init__(
        self, operation: Operation, *, trim_strings: bool = False, empty_strings_to_null: bool = False
    ) -> None:
        # name -> (schema, its quick check)
        self.path_params: dict[str, tuple[Mapping[str, Any], Callable[[Any], bool]]] = {}
        # (name, schema, quick check, full validator, required)
        self.query_params: list[tuple[str, Mapping[str, Any], Callable[[Any], bool], Draft202012Validator, bool]] = []
        self.header_params: list[tuple[str, bool]] = []
        for param in operation.parameters:
            schema = param.get("schema", {})
            required = bool(param.get("required"))
            if param["in"] == "path":
                full = Draft202012Validator(schema, format_checker=FORMATS)
                quick = _quick_check(schema)
                self.path_params[param["name"]] = (schema, _either(quick, full.is_valid))
            elif param["in"] == "query":
                full = Draft202012Validator(schema, format_checker=FORMATS)
                self.query_params.append((param["name"], schema, _quick_check(schema), full, required))
            elif param["in"] == "header":
                self.header_params.append((param["name"], required))
        self.body_schema = operation.body_schema()
        self.body_required = bool(operation.request_body and operation.request_body.get("required"))
        self.body_validator = (
            Draft202012Validator(self.body_schema, format_checker=FORMATS) if self.body_schema is not None else None
        )
        self.body_valid = _quick_check(self.body_schema) if self.body_schema is not None else None
        self.fields = _FieldMap(self.body_schema or {})
        self.record_prefix = operation.record_pointer
        self.trim = trim_strings
        self.empty_to_null = empty_strings_to_null

    # -- path and query ----------------------------------------------------
    def path(self, raw: Mapping[str, str]) -> dict[str, Any] | None:
        """Typed path parameters, or None when one cannot name anything."""
        values = {}
        for name, text in raw.items():
            schema, valid = self.path_params.get(name, ({}, None))
            value = coerce(text, schema)
            if valid is not None and not valid(value):
                return None
            values[name] = value
        return values

    def query(self, params: Mapping[str, str]) -> tuple[dict[str, Any], list[FieldError]]:
        values: dict[str, Any] = {}
        errors: list[FieldError] = []
        for name, schema, quick, validator, required in self.query_params:
            if name not in params:
                if required:
                    errors.append(FieldError(name, "required"))
                continue
            value = coerce(params[name], schema)
            failures = [] if quick(value) else list(validator.iter_errors(value))
            if failures:
                errors.extend(self._field_errors(failures[:1], name_prefix=[name]))
            else:
                values[name] = value
        return values, errors

    def headers(self, headers: Mapping[str, str]) -> list[FieldError]:
        return [
            FieldError(name, "required") for name, required in self.header_params if required and name not in headers
        ]

    # -- body --------------------------------------------------------------
    def parse_body(self, raw: bytes, content_type: str | None) -> Any:
        """The request body as JSON, with the API's input normalisation applied."""
        if not raw.strip():
            return {}
        media = (content_type or "").split(";", 1)[0].strip().lower()
        if media != "application/json" and not media.endswith("+json"):
            raise BodyError("body.content_type")
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            detail = str(exc).split(":", 1)[0]
            if detail in _READER_LIMITS:
                rule, limit = _READER_LIMITS[detail]
                raise BodyError(rule, limit=limit) from None
            raise BodyError("body.malformed", detail) from None
        if not isinstance(value, dict):
            raise BodyError("body.not_object")
        if _depth(value) > MAX_DEPTH:
            raise BodyError("body.too_deep", limit=MAX_DEPTH)
        _refuse_duplicate_keys(raw)
        if self.trim or self.empty_to_null:
            value = self._normalise(value)
        return value

    def body(self, value: Any, sent: bool = True) -> list[FieldError]:
        if self.body_validator is None:
            return []
        valid = self.body_valid is not None and self.body_valid(value)
        errors = [] if valid else self._field_errors(self.body_validator.iter_errors(value))
        if not sent and self.body_required and not errors:
            errors = [FieldError("body", "body.missing")]
        return errors

    def record(self, body: Any) -> dict[str, Any]:
        """The part of a validated body that holds the record's fields."""
        record = value_at(body, self.record_prefix)
        return record if isinstance(record, dict) else {}

    # -- helpers -----------------------------------------------------------
    def _normalise(self, value: Any) -> Any:
        if isinstance(value, str):
            if self.trim:
                value = value.strip(_TRIMMED)
            return None if self.empty_to_null and value == "" else value
        if isinstance(value, dict):
            return {key: self._normalise(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._normalise(item) for item in value]
        return value

    def _field_errors(self, failures: Any, name_prefix: list[str] | None = None) -> list[FieldError]:
        found: list[tuple[tuple[int, int, int], FieldError]] = []
        seen: set[tuple[str, str]] = set()
        for failure in failures:
            for path, rule, params in self._describe(failure, in_body=name_prefix is None):
                full = (name_prefix or []) + path
                if (repr(full), rule) in seen:  # jsonschema reports each missing field once per required list
                    continue
                seen.add((repr(full), rule))
                key = ".".join("*" if isinstance(p, int) else str(p) for p in full)
                shown = (
                    full[len(self.record_prefix) :]
                    if full[: len(self.record_prefix)] == self.record_prefix and len(full) > len(self.record_prefix)
                    else full
                )
                label = ".".join(str(p) for p in shown)
                error = FieldError(label or "body", rule, params, self.fields.overrides.get(key))
                rank = (
                    self.fields.order.get(key, len(self.fields.order)),
                    _RULE_ORDER.get(rule.split(".")[0], 99),
                    len(found),
                )
                found.append((rank, error))
        found.sort(key=lambda item: item[0])
        # A value of the wrong type says nothing about its length, format or
        # allowed values: report only the type for that field.
        mistyped = {error.field for _, error in found if error.rule.startswith("type.")}
        return [e for _, e in found if e.field not in mistyped or e.rule.startswith("type.")]

    def _describe(self, failure: ValidationError, in_body: bool) -> list[tuple[list[Any], str, dict[str, Any]]]:
        path = list(failure.absolute_path)
        keyword = failure.validator
        if keyword == "required":
            instance = failure.instance if isinstance(failure.instance, dict) else {}
            names: list[str] = failure.validator_value  # type: ignore[assignment]
            return [(path + [name], "required", {}) for name in names if name not in instance]
        if keyword == "type":
            key = ".".join("*" if isinstance(p, int) else str(p) for p in path)
            if failure.instance is None and key in self.fields.required:
                return [(path, "required", {})]
            if not path and in_body:
                return [(path, "body.not_object", {})]
            schema = failure.schema if isinstance(failure.schema, Mapping) else {}
            wanted = [t for t in _types(schema) if t != "null"] or ["null"]
            return [(path, f"type.{wanted[0]}", {})]
        if keyword in ("enum", "const"):
            allowed: list[Any] = failure.validator_value if keyword == "enum" else [failure.validator_value]  # type: ignore[assignment]
            return [(path, "enum", {"allowed": ", ".join("null" if a is None else str(a) for a in allowed)})]
        if keyword == "format":
            return [(path, f"format.{failure.validator_value}", {})]
        return [(path, str(keyword), {"limit": failure.validator_value})]
