"""Two answers to the same request, one from the mock and one from a deployment, compared.

The comparison knows nothing of any API: what it must not compare (the
values of ids, timestamps, tokens) comes from the spec's `x-mock.drift`.
Each difference is a `Difference` of one kind, named for the QA engineer who
reads the report: a different status, a 5xx, a rule not enforced, a missing
field, a different error envelope, a different message, a side effect missing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mockserver.spec.pointers import pointer

#: the kinds of drift, in the order a report lists them
KINDS = (
    "5xx",
    "rule not enforced",
    "different status",
    "side effect missing",
    "different envelope",
    "missing field",
    "unexpected field",
    "different type",
    "different message",
    "different value",
    "different content type",
)


@dataclass(frozen=True)
class Seen:
    """One answer, reduced to what is compared: its status, content type and JSON body (None when not JSON)."""

    status: int
    content_type: str
    body: Any


@dataclass(frozen=True)
class Difference:
    kind: str
    #: what differs, in words: the fields (as JSON pointers) or the statuses
    detail: str


def compare(
    mock: Seen,
    deployment: Seen,
    volatile: Collection[str],
    *,
    values: bool = True,
    side_effect: bool = False,
) -> list[Difference]:
    """How the deployment's answer differs from the mock's.

    With `values` off, only the shape of a success is compared (field sets and
    types): the answer shows data the two servers need not share (a list of
    seeded records, say). A `side_effect` answer reads back what an earlier request
    changed, so a different status there means that change did not happen.
    """
    if mock.status != deployment.status:
        return [Difference(_status_kind(mock.status, deployment.status, side_effect), _statuses(mock, deployment))]
    if _media(mock.content_type) != _media(deployment.content_type):
        detail = f"mock {mock.content_type or '(none)'}, deployment {deployment.content_type or '(none)'}"
        return [Difference("different content type", detail)]
    found: dict[str, list[str]] = {}
    refusal = mock.status >= 400
    # a refusal's words are compared even in a shape comparison: they are what its reader sees
    for kind, where in _walk(mock.body, deployment.body, (), volatile, values or refusal, refusal):
        found.setdefault(kind, []).append(where)
    if refusal and ("missing field" in found or "unexpected field" in found):
        # a refusal with other fields is another error envelope: one finding, not one per field
        shape = [f"{word} {', '.join(found.pop(kind))}" for kind, word in _ENVELOPE if kind in found]
        found["different envelope"] = ["; ".join(shape)]
    return [Difference(kind, ", ".join(found[kind])) for kind in KINDS if kind in found]


_ENVELOPE = (("missing field", "missing"), ("unexpected field", "unexpected"), ("different type", "retyped"))


def _status_kind(mock: int, deployment: int, side_effect: bool) -> str:
    if deployment >= 500 > mock:
        return "5xx"
    if side_effect:
        return "side effect missing"
    if mock >= 400 and 200 <= deployment < 300:
        return "rule not enforced"
    return "different status"


def _statuses(mock: Seen, deployment: Seen) -> str:
    return f"mock {mock.status}, deployment {deployment.status}"


def _media(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return "null"


def _walk(
    mock: Any,
    deployment: Any,
    at: tuple[str | int, ...],
    volatile: Collection[str],
    values: bool,
    refusal: bool,
) -> Iterator[tuple[str, str]]:
    where = pointer(*at) or "/"
    mock_type, deployment_type = _json_type(mock), _json_type(deployment)
    if "null" in (mock_type, deployment_type) and mock_type != deployment_type:
        # a nullable field set on one side only: its value differs, its type does not
        if values and not _volatile(at, volatile):
            yield _value_kind(at, refusal), where
        return
    if mock_type != deployment_type:
        yield "different type", f"{where} ({mock_type} / {deployment_type})"
        return
    if mock_type == "object":
        for key in mock:
            if key not in deployment:
                yield "missing field", pointer(*at, key)
            else:
                yield from _walk(mock[key], deployment[key], (*at, key), volatile, values, refusal)
        for key in deployment:
            if key not in mock:
                yield "unexpected field", pointer(*at, key)
    elif mock_type == "array":
        if values and len(mock) != len(deployment):
            yield _value_kind(at, refusal), f"{where} ({len(mock)} / {len(deployment)} items)"
        # the first items stand for the rest: a list's rows share one shape
        if mock and deployment:
            yield from _walk(mock[0], deployment[0], (*at, 0), volatile, values, refusal)
    elif values and mock != deployment and not _volatile(at, volatile):
        yield _value_kind(at, refusal), where


def _volatile(at: tuple[str | int, ...], volatile: Collection[str]) -> bool:
    return any(isinstance(part, str) and part in volatile for part in at)


def _value_kind(at: tuple[str | int, ...], refusal: bool) -> str:
    """A refusal's words are its message; elsewhere a value that differs is just that."""
    return (
        "different message" if refusal or any(isinstance(p, str) and "message" in p for p in at) else "different value"
    )
