"""Business rules an operation declares in `x-mock.rules`, checked in order.

* `unique: [fields]`: no other record of the resource has the same values.
* `exists: {resource, key, where?, allow?}`: the field names a record of
  another resource, optionally one matching `where` (e.g. an active parent).
  An absent or null field passes (whether it is required is the schema's
  business), as does a value listed in `allow` (e.g. 0 for "the owner").
* `deny_if: {field: value}`: the record must not match (an inactive account).
* `not_referenced_by: [{resource, key}, ...]`: no record of those resources
  points at this one (a delete that must not orphan transactions).

A failing rule either answers at once (`respond: {status, example?|body?}`)
or adds a field error to the validation answer (`error: {field, message|rule}`).
Field errors found before a `respond` rule fails are reported first, so the
documented order (validation, then the business answers) holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockserver.errors import FieldError, SpecError
from mockserver.expressions.templates import Context
from mockserver.pipeline.responses import ReplyTemplate, reply_template
from mockserver.spec.openapi import Operation
from mockserver.state.store import Record, Store, Table

KINDS = ("unique", "exists", "deny_if", "not_referenced_by")


@dataclass
class Rule:
    kind: str
    spec: Any
    respond: ReplyTemplate | None
    error: FieldError | None

    def holds(self, store: Store, table: Table, candidate: Mapping[str, Any], own_id: Any) -> bool:
        if self.kind == "unique":
            found = table.find({name: candidate.get(name) for name in self.spec})
            return all(record.get("id") == own_id for record in found)
        if self.kind == "exists":
            value = candidate.get(self.spec["key"])
            if value is None or value in (self.spec.get("allow") or ()):
                return True
            target = store.table(self.spec["resource"]).get(value)
            where = self.spec.get("where") or {}
            return target is not None and all(target.get(k) == v for k, v in where.items())
        if self.kind == "not_referenced_by":
            return not any(store.table(ref["resource"]).find({ref["key"]: own_id}) for ref in self.spec)
        # deny_if
        return not all(candidate.get(k) == v for k, v in self.spec.items())


def compile_rules(declared: list[Mapping[str, Any]], operation: Operation) -> list[Rule]:
    rules = []
    for entry in declared:
        kinds = [k for k in KINDS if k in entry]
        if len(kinds) != 1:
            raise SpecError(f"{operation.operation_id}: each rule needs exactly one of {', '.join(KINDS)}")
        kind = kinds[0]
        respond = reply_template(entry["respond"], operation) if "respond" in entry else None
        error = None
        if "error" in entry:
            err = entry["error"]
            error = FieldError(err["field"], err.get("rule", kind), {}, err.get("message"))
        if (respond is None) == (error is None):
            raise SpecError(f"{operation.operation_id}: a {kind} rule needs either respond or error")
        rules.append(Rule(kind, entry[kind], respond, error))
    return rules


def unique_keys(rules: list[Rule]) -> list[tuple[str, ...]]:
    """The field tuples these rules look the operation's own records up by, so the store can index them."""
    return [tuple(rule.spec) for rule in rules if rule.kind == "unique"]


def foreign_keys(rules: list[Rule]) -> dict[str, set[tuple[str, ...]]]:
    """The fields these rules look other resources' records up by, by resource."""
    keys: dict[str, set[tuple[str, ...]]] = {}
    for rule in rules:
        if rule.kind == "not_referenced_by":
            for ref in rule.spec:
                keys.setdefault(ref["resource"], set()).add((ref["key"],))
    return keys


def check(
    rules: list[Rule], store: Store, table: Table, candidate: Record, own_id: Any, context: Context
) -> list[FieldError]:
    """Field errors of the failing `error` rules; raises the first failing `respond` rule's reply."""
    errors: list[FieldError] = []
    for rule in rules:
        if rule.holds(store, table, candidate, own_id):
            continue
        if rule.error is not None:
            errors.append(rule.error)
        elif errors:
            break
        else:
            assert rule.respond is not None
            raise rule.respond(context)
    return errors
