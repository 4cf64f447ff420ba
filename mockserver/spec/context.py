"""What a template's placeholders may name: the one list of context roots.

A placeholder is `${root.path|filter}`. The pipeline binds the roots below
when it renders a template (`mockserver.pipeline.api` and `behaviours`), and
the loader refuses a template naming any other root, so a typo such as
`${recrod.id}` is caught when the spec loads instead of rendering null.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from mockserver.spec import pointers

PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")
#: the filters: `|string` renders the value as text, `|pad:N` as text zero-padded to N digits ("000001")
FILTERS = frozenset({"string", "pad"})


def known_filter(name: str) -> bool:
    """Whether a placeholder's filter is one templates have: `string`, or `pad:N` with N from 1 to 32."""
    base, colon, width = name.partition(":")
    if base == "pad":
        return bool(colon) and width.isdigit() and 1 <= int(width) <= 32
    return base in FILTERS and not colon


#: bound for every request an operation answers
REQUEST = frozenset({"request", "principal", "credential", "path", "query", "body", "now"})
#: an operation's own templates (response, rules, id, match, defaults, set, soft, where, parent, counts, login)
OPERATION = REQUEST | {"record", "records", "page", "parent", "counts", "batch", "values"}
#: a 404 for an unknown record also knows the id asked for
NOT_FOUND = OPERATION | {"id"}
#: error envelopes: the field errors and their headline, the methods allowed, a refusal's detail,
#: the status of an injected fault and a size bound
ERROR = REQUEST | {"errors", "summary", "allowed", "detail", "status", "limit"}
#: a resource's numbered fields: the next number
SEQUENCE = frozenset({"n"})
#: a create's `number.set`: the counter's new value too
NUMBERED = OPERATION | SEQUENCE
#: an outcome case's `set` and `response`: the case picked (`name`, `argument`, `message`)
OUTCOME = OPERATION | {"outcome"}
#: a security scheme's issued credential: the new credential, its principal and random text
ISSUE = frozenset({"credential", "principal", "random"})
#: what an operation's `values` formulas name besides its counts (`mockserver.pipeline.behaviours` binds them)
VALUE_ROOTS = frozenset({"record", "records", "parent", "body", "query", "principal", "path"})
#: an operation that declares `also`: the records it wrote besides its own, by name (its writes and response)
ALSO = "also"
#: bound inside `{$each: ..., item: ...}` to the element being rendered
EACH_ITEM = "item"


def expression_root(expression: str) -> tuple[str, str | None]:
    """`record.id|string` -> ("record", "string"); the filter is None when there is none."""
    path, bar, filter_name = expression.partition("|")
    return path.strip().split(".", 1)[0], filter_name.strip() if bar else None


def placeholders(template: Any, pointer: str = "") -> Iterator[tuple[str, str, bool]]:
    """(pointer, expression, inside $each item) for every placeholder in a template."""
    yield from _walk(template, pointer, False)


def _walk(node: Any, pointer: str, in_item: bool) -> Iterator[tuple[str, str, bool]]:
    if isinstance(node, str):
        for match in PLACEHOLDER.finditer(node):
            yield pointer, match.group(1), in_item
    elif isinstance(node, Mapping):
        for key, value in node.items():
            inside = in_item or (key == "item" and "$each" in node)
            yield from _walk(value, pointer + pointers.pointer(key), inside)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{pointer}/{index}", in_item)
