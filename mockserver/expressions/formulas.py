"""Computed fields: small arithmetic formulas a spec declares over a record.

A resource may declare read-only figures as formulas over its own fields,
its relations and its children, for example::

    computed:
      subtotal: "quantity * unit_price"
      total: "sum(Line, 'subtotal') - discount"
      status: "2 if paid >= total else (1 if paid > 0 else 0)"

Formulas are Python expression syntax, parsed once and evaluated by walking
the tree: only literals, names, attribute access, arithmetic, comparisons,
`and`/`or`/`not`, `x if c else y` and the functions below are allowed, so a
spec can never run code. Arithmetic treats null and "" as 0 and numeric text
as numbers, as the APIs we mock store figures both ways.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import inspect
import math
import operator
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mockserver.errors import SpecError

Number = int | float


def number(value: Any) -> Number:
    if value is None or value == "" or isinstance(value, bool):
        return int(value or 0)
    if isinstance(value, (int, float)):
        return value
    try:
        text = str(value)
        return int(text) if text.lstrip("-").isdigit() else float(text)
    except ValueError:
        return 0


def _sum(items: Any, field: str | None = None) -> Number:
    if not isinstance(items, Iterable) or isinstance(items, (str, Mapping)):
        return 0
    return sum((number(item.get(field) if field is not None else item) for item in items), 0)


def _count(items: Any) -> int:
    return len(items) if isinstance(items, (list, tuple)) else 0


def _round(value: Any, digits: int = 2) -> Number:
    return round(number(value), digits)


def _coalesce(*values: Any) -> Any:
    return next((value for value in values if value not in (None, "")), None)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _pad(value: Any, width: Any) -> str:
    """A whole number as text, left-padded with zeros to `width` digits (a document number's "000042")."""
    return str(int(number(value))).zfill(int(number(width)))


def _concat(*values: Any) -> str:
    return "".join(_text(value) for value in values)


def _length(value: Any) -> int:
    """Characters of text, elements of a list; 0 for anything else (null included)."""
    if isinstance(value, (str, list, tuple, Mapping)):
        return len(value)
    return len(str(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def _has(mapping: Any, key: Any) -> bool:
    """Whether a mapping names the key at all, null value or not."""
    return isinstance(mapping, Mapping) and key in mapping


def _get(mapping: Any, key: Any) -> Any:
    """A mapping's value for a key that is no name a formula can write (`class`), null when absent."""
    return mapping.get(key) if isinstance(mapping, Mapping) else None


def _tail(value: Any, width: Any) -> str:
    """The last `width` characters of a text (a masked secret's `"***" + tail(secret, 4)`)."""
    text, count = _text(value), int(number(width))
    return text[-count:] if count > 0 else ""


def _first(items: Any, criteria: Any) -> Any:
    """The first element of a list whose fields equal every value of `criteria` (a dict), null when none."""
    if not isinstance(items, Iterable) or isinstance(items, (str, Mapping)) or not isinstance(criteria, Mapping):
        return None
    for item in items:
        if isinstance(item, Mapping) and all(item.get(key) == value for key, value in criteria.items()):
            return item
    return None


def _fixed(value: Any, digits: int = 2) -> str:
    """The number as text with exactly `digits` decimals, halves rounded away from zero (PHP's
    number_format and Laravel's `decimal:N` cast), from the shortest text of the float, so 2.675 gives 2.68."""
    try:
        exact = Decimal(repr(number(value)))
    except InvalidOperation:
        exact = Decimal(0)
    try:
        return str(exact.quantize(Decimal(1).scaleb(-int(digits)), rounding=ROUND_HALF_UP))
    except InvalidOperation:  # more digits than Decimal's context holds (1e300): the float's own rounding
        return f"{number(value):.{int(digits)}f}"


def _digest(*values: Any) -> str:
    """Base64 of the SHA-1 of the values' text: what an XML signature's DigestValue looks like."""
    return base64.b64encode(hashlib.sha1(_concat(*values).encode()).digest()).decode()  # noqa: S324 - not security


def _md5(*values: Any) -> str:
    """The hex MD5 of the values' text: what a PHP app's md5() link hashes look like (32 hex digits)."""
    return hashlib.md5(_concat(*values).encode()).hexdigest()  # noqa: S324 - not security


def _calendar_date(value: Any) -> datetime:
    """The calendar date a value starts with (`2025-09-15...`, a date or a timestamp); ValueError otherwise."""
    return datetime.fromisoformat(str(value)[:10])


def _midnight_utc(value: Any, zone: str) -> str | None:
    """A calendar date as the UTC instant of its midnight in `zone`, in ISO form with microseconds
    (an Eloquent `date` cast serialised by an app whose timezone is `zone`)."""
    if value in (None, ""):
        return None
    try:
        day = _calendar_date(value)
        instant = day.replace(tzinfo=ZoneInfo(str(zone))).astimezone(UTC)
    except (ValueError, ZoneInfoNotFoundError):
        return str(value)
    return instant.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _date_format(value: Any, pattern: str) -> str | None:
    """The calendar date a value starts with (`2025-09-15...`) in a strftime pattern (`%d%m%Y`)."""
    try:
        return _calendar_date(value).strftime(str(pattern))
    except ValueError:
        return None


def _days_ago(value: Any, zone: str) -> int | None:
    """Whole days from a calendar date (`2025-09-15...`) to today in `zone`: 0 today, 1 yesterday,
    negative for a date still to come; null for what is not a date (a rule's window of days)."""
    try:
        day = _calendar_date(value).date()
        today = datetime.now(ZoneInfo(str(zone))).date()
    except (ValueError, ZoneInfoNotFoundError):
        return None
    return (today - day).days


def _compact(items: Any) -> list[Any]:
    """A list without its null entries (conditional items of a list literal)."""
    return [item for item in items if item is not None] if isinstance(items, (list, tuple)) else []


def _spelled(value: Any, language: str) -> str:
    """The whole part of a number in words (`spelled(236, 'es')` is "doscientos treinta y seis"):
    the amount in letters a receipt's legend carries. The language is always written: the mock
    serves APIs of several languages, and none is the engine's to assume."""
    try:
        # imported on first use: num2words loads every language's module, a tenth of the start-up
        from num2words import num2words

        return str(num2words(int(number(value)), lang=str(language)))
    except NotImplementedError:  # a language num2words does not know: the digits, as written
        return str(int(number(value)))


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "spelled": _spelled,
    "upper": lambda value: _text(value).upper(),
    "fixed": _fixed,
    "date_format": _date_format,
    "compact": _compact,
    "floor": lambda value: math.floor(number(value)),
    "digest": _digest,
    "md5": _md5,
    "midnight_utc": _midnight_utc,
    "days_ago": _days_ago,
    "sum": _sum,
    "count": _count,
    "round": _round,
    "min": lambda *values: min(number(v) for v in values),
    "max": lambda *values: max(number(v) for v in values),
    "number": number,
    "coalesce": _coalesce,
    "pad": _pad,
    "concat": _concat,
    "len": _length,
    "has": _has,
    "get": _get,
    "tail": _tail,
    "first": _first,
}


def _add(left: Any, right: Any) -> Any:
    """Numbers add; two lists join (a service's own errors after a common one)."""
    if isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        return [*left, *right]
    return number(left) + number(right)


def _divide(left: Any, right: Any) -> Number:
    divisor = number(right)
    return number(left) / divisor if divisor else 0


_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: _add,
    ast.Sub: lambda a, b: number(a) - number(b),
    ast.Mult: lambda a, b: number(a) * number(b),
    ast.Div: _divide,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: lambda a, b: number(a) < number(b),
    ast.LtE: lambda a, b: number(a) <= number(b),
    ast.Gt: lambda a, b: number(a) > number(b),
    ast.GtE: lambda a, b: number(a) >= number(b),
    # membership in a literal list or a list field (a stored JSON array); never a substring test of text
    ast.In: lambda a, b: a in b if isinstance(b, (tuple, list)) else False,
    ast.NotIn: lambda a, b: a not in b if isinstance(b, (tuple, list)) else True,
}

Formula = Callable[[Mapping[str, Any]], Any]


def compile_formula(text: str, where: str) -> Formula:
    """A function of the record (a mapping) that evaluates the formula; `where` is its JSON pointer in the spec."""
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        raise SpecError(f"formula {text!r} does not parse: {exc.msg}", pointer=where) from None
    return _compile(tree, text, where)


def _compile(node: ast.AST, text: str, where: str) -> Formula:
    def sub(child: ast.AST) -> Formula:
        return _compile(child, text, where)

    if isinstance(node, ast.Constant):
        value = node.value
        return lambda record: value
    if isinstance(node, (ast.Tuple, ast.List)):  # a literal list, for `in` and for list fields
        items = [sub(item) for item in node.elts]
        return lambda record: tuple(item(record) for item in items)
    if isinstance(node, ast.Dict) and all(isinstance(key, ast.Constant) for key in node.keys):
        entries = [(key.value, sub(value)) for key, value in zip(node.keys, node.values, strict=True)]  # type: ignore[union-attr]
        return lambda record: {key: value(record) for key, value in entries}
    if isinstance(node, ast.Name):
        name = node.id
        return lambda record: record.get(name)
    if isinstance(node, ast.Attribute) and not node.attr.startswith("_"):
        owner, attribute = sub(node.value), node.attr

        def attribute_of(record: Mapping[str, Any]) -> Any:
            value = owner(record)
            return value.get(attribute) if isinstance(value, Mapping) else None

        return attribute_of
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        apply, left, right = _BINARY[type(node.op)], sub(node.left), sub(node.right)
        return lambda record: apply(left(record), right(record))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
        operand = sub(node.operand)
        if isinstance(node.op, ast.USub):
            return lambda record: -number(operand(record))
        return lambda record: not operand(record)
    if isinstance(node, ast.BoolOp):
        values = [sub(value) for value in node.values]
        if isinstance(node.op, ast.And):
            return lambda record: all(value(record) for value in values)
        return lambda record: any(value(record) for value in values)
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
        compare, left, right = _COMPARE[type(node.ops[0])], sub(node.left), sub(node.comparators[0])
        return lambda record: compare(left(record), right(record))
    if isinstance(node, ast.IfExp):
        test, body, orelse = sub(node.test), sub(node.body), sub(node.orelse)
        return lambda record: body(record) if test(record) else orelse(record)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in FUNCTIONS
        and not node.keywords
    ):
        function, arguments = FUNCTIONS[node.func.id], [sub(argument) for argument in node.args]
        try:  # a call the function cannot take (`spelled(n)` without its language) is the spec's mistake
            inspect.signature(function).bind(*node.args)
        except TypeError as exc:
            raise SpecError(f"formula {text!r} calls {node.func.id}() wrongly: {exc}", pointer=where) from None
        return lambda record: function(*(argument(record) for argument in arguments))
    raise SpecError(f"formula {text!r} uses {ast.dump(node)[:60]}, which formulas do not allow", pointer=where)
