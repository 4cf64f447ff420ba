"""Request validation against the operation's parameters and body schema.

Validators are compiled once per operation at start-up. Failures come back
as `FieldError`s in the order a reader expects: fields in the order the
schema declares them, and per field in rule order (required, type, ...).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import jsonschema_rs

from mockserver.errors import FieldError
from mockserver.spec.model import CoercionDecl
from mockserver.spec.openapi import Operation
from mockserver.spec.pointers import value_at
from mockserver.spec.schemas import merged_properties, required_names

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, FormatChecker
    from jsonschema.exceptions import ValidationError

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
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def _is_email(value: object) -> bool:
    return not isinstance(value, str) or bool(_EMAIL.match(value))


@functools.cache
def format_checker() -> FormatChecker:
    """jsonschema's format checks, with `email` as the APIs read it.

    jsonschema (python) is imported here, when a value jsonschema-rs refused needs its failures written
    (or when a path or query value is first checked in full): a start and requests that pass never
    import it (about 90 ms of CPU); the first 422 of a process pays that once.
    """
    from jsonschema import FormatChecker

    checker = FormatChecker()
    checker.checks("email")(_is_email)
    return checker


class FullValidator:
    """jsonschema's validator of one schema, built at its first use (see `format_checker`)."""

    __slots__ = ("_built", "schema")

    def __init__(self, schema: Any) -> None:
        self.schema = schema
        self._built: Draft202012Validator | None = None

    @property
    def validator(self) -> Draft202012Validator:
        if self._built is None:
            from jsonschema import Draft202012Validator

            self._built = Draft202012Validator(self.schema, format_checker=format_checker())
        return self._built

    def is_valid(self, value: Any) -> bool:
        return self.validator.is_valid(value)

    def iter_errors(self, value: Any) -> Iterator[ValidationError]:
        return self.validator.iter_errors(value)


def _either(quick: Callable[[Any], bool], full: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """Valid when the quick check says so, else as the full validator decides."""
    return lambda value: quick(value) or full(value)


def _quick_check(schema: Mapping[str, Any]) -> _QuickCheck:
    """A compiled yes/no check of the schema, used only to skip the full validator.

    jsonschema walks a valid body in pure Python, about 70 µs for a body of a dozen fields,
    the largest cost of a create (see bench/results.md); jsonschema-rs says
    "valid" in under a microsecond. Its answer is trusted only when it is
    "valid", and it is at least as strict as jsonschema on what the specs use
    (it checks formats jsonschema skips without extra packages, and its `$`
    does not match before a final newline), so a value it refuses goes to
    jsonschema, which then finds the errors, or none, exactly as before. A
    schema it cannot compile gets the full validator every time.

    Compiled at its first use: compiling the checks of every operation was a sixth of the start-up,
    and a mock serves only some of its operations.
    """
    return _QuickCheck(schema)


class _QuickCheck:
    __slots__ = ("schema", "check", "compiled")

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = dict(schema)
        self.check: Callable[[Any], bool] | None = None
        #: the compiled validator, None when jsonschema-rs cannot compile the schema (once `check` is set)
        self.compiled: Any = None

    def __call__(self, value: Any) -> bool:
        check = self.check
        if check is None:
            check = self._compile()
        return check(value)

    def _compile(self) -> Callable[[Any], bool]:
        try:
            self.compiled = jsonschema_rs.Draft202012Validator(
                self.schema, validate_formats=True, formats={"email": _is_email}
            )
        except (ValueError, TypeError, jsonschema_rs.ValidationError):
            self.check = lambda value: False
        else:
            self.check = self.compiled.is_valid
        return self.check


def _types(schema: Mapping[str, Any]) -> list[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        return declared
    return []


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    kinds = {float: "number", str: "string", list: "array", dict: "object"}
    return next((name for kind, name in kinds.items() if isinstance(value, kind)), "null")


def _all_types(schema: Mapping[str, Any]) -> set[str]:
    """The JSON types a schema allows, its `anyOf`/`oneOf` alternatives included.

    A schema that lists its values (`enum: [2, 3]`) without a `type` allows the types of those values.
    """
    found = set(_types(schema))
    if not found:
        listed = schema.get("enum") or ([schema["const"]] if "const" in schema else [])
        found = {_json_type(value) for value in listed if isinstance(listed, list)}
    for keyword in ("anyOf", "oneOf"):
        for branch in schema.get(keyword) or ():
            if isinstance(branch, Mapping):
                found |= _all_types(branch)
    return found


def _read_number(text: str, integer_only: bool) -> int | float | None:
    """A numeric string as the number it spells, or None; "1e400" is no number either API can hold."""
    if _INTEGER.match(text):
        return int(text)
    if integer_only or not _NUMBER.match(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def _as_text(number: int | float) -> str:
    # PHP's (string) cast: 100.0 is "100", 2.5 is "2.5"
    return str(int(number)) if isinstance(number, float) and number.is_integer() else str(number)


def _boolean_forms(rules: CoercionDecl) -> dict[tuple[type, Any], bool]:
    # keyed by type too: 1 == 1.0 == True in Python, but only the declared forms are booleans
    forms = {(type(form), form): True for form in rules.true_values}
    forms.update({(type(form), form): False for form in rules.false_values})
    return forms


#: a compiled conversion of one value, decided per field when the spec loads
Coercer = Callable[[Any], Any]


def scalar_coercer(schema: Mapping[str, Any], rules: CoercionDecl, *, text: bool = False) -> Coercer | None:
    """How one value is read as the type its schema wants; None when nothing is ever converted.

    `text` is for path and query values, always strings: numbers and the
    OpenAPI serialisation of booleans (`true`/`false`) are read whatever the
    API declares, besides its own boolean forms.
    """
    types = _all_types(schema)
    numeric = "number" in types or "integer" in types
    to_number = numeric and "string" not in types and (text or rules.numeric_strings)
    integer_only = "number" not in types
    forms = _boolean_forms(rules) if "boolean" in types else {}
    if "boolean" in types:  # a field's own forms (Laravel's `in:true,false,1,0` takes "true" and "false")
        forms.update({(type(form), form): True for form in schema.get("x-true-values") or ()})
        forms.update({(type(form), form): False for form in schema.get("x-false-values") or ()})
    if text and "boolean" in types:
        forms.update({(str, "true"): True, (str, "false"): False})
    to_text = rules.numbers_as_strings and not text and "string" in types and not numeric
    blank_to_null = (
        rules.blank_as_null
        and not text
        and "null" in types
        and "string" not in types
        and (numeric or "boolean" in types)
    )
    # a whole JSON number for an integer (5.0) is stored as the integer it is, as PHP's integer columns hold it
    to_whole = rules.numeric_strings and not text and "integer" in types and "number" not in types
    if not (to_number or forms or to_text or blank_to_null or to_whole):
        return None

    def coerce_value(value: Any) -> Any:
        if blank_to_null and value == "":
            return None
        if to_whole and isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and to_number:
            number = _read_number(value, integer_only)
            if number is not None:
                return number
        if forms and isinstance(value, (str, int)) and not isinstance(value, bool):
            found = forms.get((type(value), value))
            if found is not None:
                return found
        if to_text and isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return _as_text(value)
        return value

    return coerce_value


def body_coercer(schema: Mapping[str, Any], rules: CoercionDecl, depth: int = 0) -> Coercer | None:
    """The conversions a body schema asks for, compiled field by field; None when there are none."""
    if depth > 32:  # deeper than any documented body: left as sent
        return None
    properties = merged_properties(schema)
    if properties:
        fields = {
            name: found
            for name, sub in properties.items()
            if (found := body_coercer(sub, rules, depth + 1)) is not None
        }
        return _object_coercer(fields) if fields else None
    items = schema.get("items")
    if isinstance(items, Mapping):
        each = body_coercer(items, rules, depth + 1)
        single = rules.single_as_list and bool(merged_properties(items))
        return _list_coercer(each, single=single) if each is not None or single else None
    return scalar_coercer(schema, rules)


def _object_coercer(fields: dict[str, Coercer]) -> Coercer:
    def coerce_object(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        converted = dict(value)
        for name, coerce_field in fields.items():
            if name in converted:
                converted[name] = coerce_field(converted[name])
        return converted

    return coerce_object


def _list_coercer(each: Coercer | None, *, single: bool = False) -> Coercer:
    convert = each or _keep

    def coerce_list(value: Any) -> Any:
        if single and isinstance(value, dict):
            # one record where a list of records is wanted: PHP integrations send `Payment: {...}` for one payment
            value = [value]
        return [convert(item) for item in value] if isinstance(value, list) else value

    return coerce_list


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


def _keep(value: Any) -> Any:
    return value


class RequestValidator:
    def __init__(
        self,
        operation: Operation,
        *,
        coercion: CoercionDecl | None = None,
        blank_query_is_null: bool = False,
    ) -> None:
        rules = coercion or CoercionDecl()
        # name -> (how its text is read, its check)
        self.path_params: dict[str, tuple[Coercer, Callable[[Any], bool]]] = {}
        # (name, how its text is read, quick check, full validator, required)
        self.query_params: list[tuple[str, Coercer, Callable[[Any], bool], FullValidator, bool]] = []
        self.header_params: list[tuple[str, bool]] = []
        #: a query parameter's own wording (`x-messages` on its schema)
        self.query_messages: dict[str, Mapping[str, Any]] = {}
        #: query parameters documented as lists: every repetition of the name is one element
        self.query_lists: set[str] = set()
        for param in operation.parameters:
            schema = param.get("schema", {})
            required = bool(param.get("required"))
            read = scalar_coercer(schema, rules, text=True) or _keep
            if param["in"] == "query" and schema.get("type") == "array":
                self.query_lists.add(param["name"])
                item = scalar_coercer(schema.get("items") or {}, rules, text=True) or _keep
                read = _each(item)
            elif param["in"] == "query" and blank_query_is_null and "null" in _all_types(schema):
                # `?parent_id=` is null to a service whose middleware turns "" into null, and the
                # parameter allows null: it filters on null rather than being refused
                read = _blank_as_null(read)
            if param["in"] == "path":
                quick = _quick_check(schema)
                self.path_params[param["name"]] = (read, _either(quick, FullValidator(schema).is_valid))
            elif param["in"] == "query":
                self.query_params.append((param["name"], read, _quick_check(schema), FullValidator(schema), required))
                # its own wording: `x-messages` on the parameter, or on its schema
                wording = {**schema.get("x-messages", {}), **param.get("x-messages", {})}
                if wording:
                    self.query_messages[param["name"]] = wording
            elif param["in"] == "header":
                self.header_params.append((param["name"], required))
        self.body_schema = with_files(operation.body_schema())
        self.body_required = bool(operation.request_body and operation.request_body.get("required"))
        self._body_full = FullValidator(self.body_schema) if self.body_schema is not None else None
        self.body_valid = _quick_check(self.body_schema) if self.body_schema is not None else None
        self.body_coerce = body_coercer(self.body_schema or {}, rules) or _keep
        self.fields = _FieldMap(self.body_schema or {})
        self.record_prefix = operation.record_pointer
        #: what a 422 works out again for every failure at the same place: where jsonschema's walk
        #: reaches it (`_rank`), and a field error's key, label and order (see `_placed`)
        self._ranks: dict[tuple[Any, ...], tuple[Any, ...] | None] = {}
        self._places: dict[tuple[Any, ...], tuple[str, str, int]] = {}

    @property
    def body_validator(self) -> Draft202012Validator | None:
        """jsonschema's validator of the body (built when first asked: a body that passes never needs it)."""
        return self._body_full.validator if self._body_full is not None else None

    # -- path and query ----------------------------------------------------
    def path(self, raw: Mapping[str, str]) -> tuple[dict[str, Any], str | None]:
        """Typed path parameters, and the name of the first that cannot name anything (None when all can)."""
        values: dict[str, Any] = {}
        for name, text in raw.items():
            read, valid = self.path_params.get(name, (_keep, None))
            value = read(text)
            if valid is not None and not valid(value):
                return values, name
            values[name] = value
        return values, None

    def query(self, params: Mapping[str, str]) -> tuple[dict[str, Any], list[FieldError]]:
        values: dict[str, Any] = {}
        errors: list[FieldError] = []
        for name, read, quick, validator, required in self.query_params:
            if name not in params:
                if required:
                    errors.append(FieldError(name, "required", {}, self.query_messages.get(name)))
                continue
            value = read(_all(params, name) if name in self.query_lists else params[name])
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
    def coerced(self, value: Any) -> Any:
        """The body with each value read as the type its field wants, where the API reads it so."""
        return self.body_coerce(value)

    def body(self, value: Any, sent: bool = True) -> list[FieldError]:
        if self._body_full is None:
            return []
        valid = self.body_valid is not None and self.body_valid(value)
        errors = [] if valid else self._field_errors(self._body_failures(value))
        if not sent and self.body_required and not errors:
            errors = [FieldError("body", "body.missing")]
        return errors

    def record(self, body: Any) -> dict[str, Any]:
        """The part of a validated body that holds the record's fields."""
        record = value_at(body, self.record_prefix)
        return record if isinstance(record, dict) else {}

    def _body_failures(self, value: Any) -> Any:
        """jsonschema's failures of an invalid body, in jsonschema's order; see `located_failures`."""
        assert self.body_validator is not None and self.body_valid is not None
        compiled = self.body_valid.compiled
        located = located_failures(compiled, self.body_validator, value, self._ranks) if compiled is not None else None
        return located if located is not None else self.body_validator.iter_errors(value)

    # -- helpers -----------------------------------------------------------
    def _field_errors(self, failures: Any, name_prefix: list[str] | None = None) -> list[FieldError]:
        found: list[tuple[tuple[int, int, int], FieldError]] = []
        seen: set[tuple[str, str]] = set()
        for failure in failures:
            for path, rule, params in self._describe(failure, in_body=name_prefix is None):
                full = (name_prefix or []) + path
                if (repr(full), rule) in seen:  # jsonschema reports each missing field once per required list
                    continue
                seen.add((repr(full), rule))
                key, label, order = self._placed(full)
                wording = self.fields.overrides.get(key) if name_prefix is None else self.query_messages.get(key)
                error = FieldError(label or "body", rule, params, wording)
                found.append(((order, _RULE_ORDER.get(rule.split(".")[0], 99), len(found)), error))
        found.sort(key=lambda item: item[0])
        # A value of the wrong type says nothing about its length, format or
        # allowed values: report only the type for that field.
        mistyped = {error.field for _, error in found if error.rule.startswith("type.")}
        return [e for _, e in found if e.field not in mistyped or e.rule.startswith("type.")]

    def _placed(self, full: list[Any]) -> tuple[str, str, int]:
        """A failed value's field: its key (`items.*.code`), its label (the path below the record's
        own place), its place among the schema's fields."""
        path = tuple(full)
        known = self._places.get(path)
        if known is not None:
            return known
        key = ".".join("*" if isinstance(p, int) else str(p) for p in full)
        prefix = self.record_prefix
        shown = full[len(prefix) :] if full[: len(prefix)] == prefix and len(full) > len(prefix) else full
        placed = key, ".".join(str(p) for p in shown), self.fields.order.get(key, len(self.fields.order))
        return _remembered(self._places, path, placed)

    def _describe(self, failure: ValidationError, in_body: bool) -> list[tuple[list[Any], str, dict[str, Any]]]:
        path = list(failure.absolute_path)
        keyword = failure.validator
        schema = failure.schema if isinstance(failure.schema, Mapping) else {}
        part = schema.get(_FILE_PART)
        if part is not None:  # the type or size of an uploaded file: reported on the file's field
            limit = schema.get("maximum", 0) // 1024 if part == "file.max" else None
            types = ", ".join(schema.get(_FILE_TYPES, ())) if part == "file.mimes" else None
            return [(path[:-1], part, {"limit": limit, "allowed": types})]
        if "x-file" in schema and keyword in ("type", "required"):
            return [(path, "file", {})]
        if keyword == "required":
            instance = failure.instance if isinstance(failure.instance, dict) else {}
            names: list[str] = failure.validator_value  # type: ignore[assignment]
            return [(path + [name], "required", {}) for name in names if name not in instance]
        if keyword == "type":
            key = ".".join("*" if isinstance(p, int) else str(p) for p in path)
            if failure.instance is None and key in self.fields.required:
                return [(path, "required", {})]
            wanted = [t for t in _types(schema) if t != "null"] or ["null"]
            if not path and in_body and wanted[0] != "array":
                return [(path, "body.not_object", {})]
            return [(path, f"type.{wanted[0]}", {})]
        if keyword in ("enum", "const"):
            allowed: list[Any] = failure.validator_value if keyword == "enum" else [failure.validator_value]  # type: ignore[assignment]
            return [(path, "enum", {"allowed": ", ".join("null" if a is None else str(a) for a in allowed)})]
        if keyword == "format":
            return [(path, f"format.{failure.validator_value}", {})]
        return [(path, str(keyword), {"limit": failure.validator_value})]


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed keyword, as `_describe` reads a jsonschema `ValidationError`."""

    absolute_path: list[Any]
    validator: str
    validator_value: Any
    schema: Mapping[str, Any]
    instance: Any


#: the keywords a failure's schema path may pass through on its way to the failed one
_WALKED = frozenset({"properties", "items", "allOf"})
#: the keywords whose jsonschema check reports its failures at the value it checks, never deeper (an
#: `anyOf` reports one failure of its own, whatever its alternatives found; an `additionalProperties`
#: with a schema would report deeper ones, which `located_failures` sends to the whole walk)
_PLACED = frozenset(
    {
        *("type", "enum", "const", "format", "required", "dependentRequired", "additionalProperties"),
        *("minLength", "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"),
        *("multipleOf", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties", "contains"),
        *("anyOf", "oneOf", "not"),
    }
)


#: how many places a validator's memos of a 422 keep (`RequestValidator._ranks` and `_places`)
_MEMO_LIMIT = 4096
M = TypeVar("M")


def _remembered(memo: dict[Any, M], key: Any, value: M) -> M:
    """`value`, kept in `memo` under `key` while the memo is under its bound (a list's items have a place
    each: a long list must not grow it without end)."""
    if len(memo) < _MEMO_LIMIT:
        memo[key] = value
    return value


def located_failures(
    compiled: Any, validator: Draft202012Validator, value: Any, ranks: dict[tuple[Any, ...], tuple[Any, ...] | None]
) -> list[Failure] | None:
    """The failures jsonschema finds in `value`, found where jsonschema-rs says they are; None when that
    cannot be told exactly (then the caller has jsonschema walk the whole value, as it always did).

    A 422 had jsonschema walk the whole body in Python to find what failed (~200 µs of a ~550 µs answer
    to a create with three bad fields). jsonschema-rs finds the failed places in Rust; at each one,
    jsonschema's own check of that keyword is run alone, on that schema and value, so the failures, their
    values and their wording are jsonschema's, and a place jsonschema would not fault (jsonschema-rs is
    the stricter, on formats and on `$`) gives none. Their order is jsonschema's walk: the keywords of a
    schema, and the properties of `properties`, in the schema's order, a list's items in the list's, each
    failure's place in that order worked out from its path. Only paths through `properties`, `items` and
    `allOf` are placed so; any other (a `$ref`, a failure inside `anyOf`), or a check that would itself
    report something deeper, sends the body to the whole walk. `ranks` remembers each place's rank for
    the validator's schema.
    """
    places: dict[tuple[Any, ...], tuple[Any, ...]] = {}  # (schema path, instance path) -> rank in the walk
    for error in compiled.iter_errors(value):
        place = tuple(error.schema_path), tuple(error.instance_path)
        if place not in places:
            if place in ranks:
                rank = ranks[place]
            else:
                rank = _remembered(ranks, place, _rank(validator.schema, *place))
            if rank is None:
                return None
            places[place] = rank
    failures: list[Failure] = []
    for schema_path, instance_path in sorted(places, key=places.__getitem__):
        schema: Any = validator.schema
        for part in schema_path[:-1]:
            schema = schema[part]
        instance = value
        for part in instance_path:
            instance = instance[part]
        keyword = schema_path[-1]
        declared = schema[keyword]
        if keyword == "required":  # one failure names every missing field (`_describe`): no need to ask
            failures.append(Failure(list(instance_path), keyword, declared, schema, instance))
            continue
        for found in validator.VALIDATORS[keyword](validator, declared, instance, schema) or ():
            if found.path:  # a failure below this value: the keyword is an applicator this cannot place
                return None
            failures.append(Failure(list(instance_path), keyword, declared, schema, instance))
    return failures


def _rank(schema: Any, schema_path: tuple[Any, ...], instance_path: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """Where jsonschema's walk reaches the keyword at the end of `schema_path`, as a sortable tuple: at each
    schema the keyword's place among its keywords, then the property's place or the item's index."""
    rank: list[Any] = []
    taken = 0  # the instance path's steps walked so far
    last = len(schema_path) - 1
    at = 0
    while at <= last:
        part = schema_path[at]
        if not isinstance(schema, Mapping) or not isinstance(part, str) or part not in schema:
            return None
        rank.append(list(schema).index(part))
        if at == last:
            placed = part in _PLACED and taken == len(instance_path)
            return tuple(rank) if placed else None
        container = schema[part]
        if part == "items":
            step = instance_path[taken] if taken < len(instance_path) else None
            if not isinstance(step, int) or not isinstance(container, Mapping):
                return None
            rank.append(step)
            taken += 1
            schema, at = container, at + 1
            continue
        if part not in _WALKED or at + 1 == last:  # a path ending at a sub-schema itself (`false`)
            return None
        name = schema_path[at + 1]
        if part == "properties":
            step = instance_path[taken] if taken < len(instance_path) else None
            if not isinstance(container, Mapping) or name not in container or step != name:
                return None
            rank.append(list(container).index(name))
            taken += 1
        elif isinstance(name, int) and isinstance(container, list) and 0 <= name < len(container):  # allOf
            rank.append(name)
        else:
            return None
        schema, at = container[name], at + 2
    return None


#: marks the parts of an expanded file schema, and the types a file may have
_FILE_PART = "x-file-part"
_FILE_TYPES = "x-file-types"


def with_files(schema: Any, depth: int = 0) -> Any:
    """The schema with every `x-file` field made the check of an uploaded file part.

    `x-file: {mimes: [...], max_kb: N}` on a property: besides what the
    property's own schema allows (null, in a JSON body), a multipart file
    part, read as `{filename, content_type, size, extension}`, whose content
    suggests one of `mimes` (`jpg` and `jpeg` are one, as Laravel's rule
    has it) and that holds at most `max_kb` kilobytes. Anything else is
    refused as "not a file" (rule `file`), a file of another type
    (`file.mimes`) or too large (`file.max`).
    """
    if not isinstance(schema, Mapping) or depth > 32:
        return schema
    declared = schema.get("x-file")
    if isinstance(declared, Mapping):
        mimes = [str(m) for m in declared.get("mimes") or ()]
        if {"jpg", "jpeg"} & set(mimes):
            mimes = list(dict.fromkeys([*mimes, "jpg", "jpeg"]))
        properties: dict[str, Any] = {}
        if mimes:
            properties["extension"] = {"enum": mimes, _FILE_PART: "file.mimes", _FILE_TYPES: declared.get("mimes")}
        if declared.get("max_kb") is not None:
            properties["size"] = {"maximum": int(declared["max_kb"]) * 1024, _FILE_PART: "file.max"}
        allowed = {t for t in _types(schema) if t != "object"} | {"object"}
        return {**schema, "type": sorted(allowed), "required": ["size"], "properties": properties}
    expanded = dict(schema)
    for key in ("properties", "$defs"):
        if isinstance(schema.get(key), Mapping):
            expanded[key] = {name: with_files(sub, depth + 1) for name, sub in schema[key].items()}
    for key in ("allOf", "anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            expanded[key] = [with_files(sub, depth + 1) for sub in schema[key]]
    if isinstance(schema.get("items"), Mapping):
        expanded["items"] = with_files(schema["items"], depth + 1)
    return expanded


def _all(params: Mapping[str, str], name: str) -> list[str]:
    """Every value the query string gives a name (`ids[]=1&ids[]=2`), in order."""
    getlist = getattr(params, "getlist", None)
    return list(getlist(name)) if getlist is not None else [params[name]]


def _blank_as_null(read: Coercer) -> Coercer:
    def blank_or_read(value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else read(value)

    return blank_or_read


def _each(read: Coercer) -> Coercer:
    def each(values: Any) -> Any:
        return [read(value) for value in values] if isinstance(values, list) else values

    return each
