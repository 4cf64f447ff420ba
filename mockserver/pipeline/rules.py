"""Business rules an operation declares in `x-mock.rules`, checked in order.

* `unique: [fields]`: no other record of the resource has the same values.
* `exists: {resource, key, where?, allow?}`: the field names a record of
  another resource, optionally one matching `where` (e.g. an active parent;
  a value may name the record checked: `owner_id: "${record.owner_id}"`).
  An absent or null field passes (whether it is required is the schema's
  business), as does a value listed in `allow` (e.g. 0 for "the owner").
  With `when: {field: value}` it judges only records holding those values: a
  polymorphic reference (`kind_id` names a record of the resource `kind`
  holds) is one rule per kind. Text of digits names the record of that id.
* `deny_if: {field: value}`: the record must not match (an inactive account).
* `deny_when: formula`: the formula must not hold over the record (its
  relations resolved: `company.activo`), `sent` (the fields the request
  named) and `principal` (the caller):
  `len(document_number) > 15`, `has(sent, 'owner_id')`,
  `principal.role_name != 'super_admin'`.
* `empty: {resource, where?}`: the resource holds no record (matching
  `where`), e.g. a first-run setup that works only once.
* `not_referenced_by: [{resource, key}, ...]`: no record of those resources
  points at this one (a delete that must not orphan transactions).
* `balanced: {from, fields: [a, b]}`: over the body's list at `from`, the sums
  of `a` and `b` are equal to the cent (a journal's debits and credits); a
  body without that list passes (an edit that keeps the stored lines).

A failing rule either answers at once (`respond: {status, example?|body?}`)
or adds a field error to the validation answer (`error: {field, message|rule}`).
Field errors found before a `respond` rule fails are reported first, so the
documented order (validation, then the business answers) holds.

`after: true` marks an `error` rule as an after-hook (Laravel's `after`
callbacks of a FormRequest): its error comes after every other rule's, and
an after-hook's `exists` finds no record for an absent value (the hook's
query names none), so it fails where a plain `exists` passes. Where the API
judges rules beside a failed schema (`x-mock.rules_beside_schema`, see
`beside`), an after-hook also runs when its own field failed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mockserver.errors import FieldError
from mockserver.expressions.formulas import Formula, compile_formula
from mockserver.expressions.templates import Context, Render, compile_template
from mockserver.pipeline.responses import ReplyTemplate, reply_template
from mockserver.spec.model import RuleDecl
from mockserver.spec.openapi import Operation
from mockserver.spec.pointers import parse_pointer, value_at
from mockserver.state.store import Store, Table, whole_number


def _total(lines: list[Any], name: str) -> float:
    """A field's sum over a list's elements, to the cent; what is not a number counts 0."""
    amounts = (line.get(name) for line in lines if isinstance(line, dict))
    return round(sum(a for a in amounts if isinstance(a, (int, float)) and not isinstance(a, bool)), 2)


def _related(table: Table, candidate: Mapping[str, Any]) -> dict[str, Any]:
    """The records the candidate's relations name, for a formula to read (`not company.gre_configurado`).

    A field of the candidate wins over a relation of the same name.
    """
    relations = table.config.declared.relations
    return {
        name: table.store.table(relation.resource).row(candidate.get(relation.key))
        for name, relation in relations.items()
        if name not in candidate and candidate.get(relation.key) is not None
    }


@dataclass
class Rule:
    declared: RuleDecl
    respond: ReplyTemplate | None
    error: FieldError | None
    formula: Formula | None = None

    where: dict[str, Render] = field(default_factory=dict)

    @property
    def fields(self) -> set[str]:
        """The record fields the rule reads by name, and the one its error names."""
        rule = self.declared
        named = {*rule.unique, *rule.deny_if}
        if rule.exists is not None:
            named |= {rule.exists.key, *rule.exists.when}
        if self.error is not None:
            named.add(self.error.field)
        return named

    def holds(self, store: Store, table: Table, candidate: Mapping[str, Any], own_id: Any, context: Context) -> bool:
        rule = self.declared
        if rule.balanced is not None:
            lines = value_at(context.get("body"), parse_pointer(rule.balanced.source))
            if not isinstance(lines, list):
                return True
            left, right = (_total(lines, name) for name in rule.balanced.fields)
            return left == right
        if self.formula is not None:
            body = context.get("body")
            sent = body if isinstance(body, Mapping) else {}
            seen = {**_related(table, candidate), **candidate, "sent": sent, "principal": context.get("principal")}
            return not self.formula(seen)
        if rule.empty is not None:
            return not any(True for _ in store.table(rule.empty.resource).find(rule.empty.where))
        if rule.kind == "unique":
            found = table.find({name: candidate.get(name) for name in rule.unique})
            return all(record.get("id") == own_id for record in found)
        if rule.exists is not None:
            value = candidate.get(rule.exists.key)
            # an absent value is the schema's business; an after-hook's query for it simply finds nothing
            if (value is None and not rule.after) or value in rule.exists.allow:
                return True
            if any(candidate.get(name) != wanted for name, wanted in rule.exists.when.items()):
                return True  # a reference of another kind: another rule's to judge
            table_of = store.table(rule.exists.resource)
            target = table_of.get(value)
            if target is None and isinstance(value, str) and whole_number(value) is not None:
                target = table_of.get(whole_number(value))  # a reference typed text ("5") names record 5
            # `where` values may name the record being checked (`owner_id: "${record.owner_id}"`)
            scope = {**context, "record": candidate}
            wanted = {key: render(scope) for key, render in self.where.items()}
            return target is not None and all(target.get(k) == v for k, v in wanted.items())
        if rule.kind == "not_referenced_by":
            return not any(store.table(ref.resource).find({ref.key: own_id}) for ref in rule.not_referenced_by)
        # deny_if
        return not all(candidate.get(k) == v for k, v in rule.deny_if.items())


def compile_rules(declared: Iterable[RuleDecl], operation: Operation) -> list[Rule]:
    """Each declared rule has one kind and either `respond` or `error` (the schema's `rule`)."""
    rules = []
    for index, rule in enumerate(declared):
        formula = None
        if rule.deny_when is not None:
            formula = compile_formula(rule.deny_when, f"{operation.pointer}/rules/{index}/deny_when")
        respond = reply_template(rule.respond, operation) if rule.respond is not None else None
        error = None
        if rule.error is not None:
            error = FieldError(rule.error.field, rule.error.rule or rule.kind, {}, rule.error.message)
        where = {key: compile_template(value) for key, value in rule.exists.where.items()} if rule.exists else {}
        rules.append(Rule(rule, respond, error, formula, where))
    return rules


def unique_keys(rules: list[Rule]) -> list[tuple[str, ...]]:
    """The field tuples these rules look the operation's own records up by, so the store can index them."""
    return [rule.declared.unique for rule in rules if rule.declared.kind == "unique"]


def foreign_keys(rules: list[Rule]) -> dict[str, set[tuple[str, ...]]]:
    """The fields these rules look other resources' records up by, by resource."""
    keys: dict[str, set[tuple[str, ...]]] = {}
    for rule in rules:
        for ref in rule.declared.not_referenced_by:
            keys.setdefault(ref.resource, set()).add((ref.key,))
    return keys


def check(
    rules: list[Rule], store: Store, table: Table, candidate: Mapping[str, Any], own_id: Any, context: Context
) -> list[FieldError]:
    """Field errors of the failing `error` rules, the after-hooks' last; raises the first failing `respond` rule's reply."""
    errors: list[FieldError] = []
    hooks: list[FieldError] = []
    for rule in rules:
        if rule.holds(store, table, candidate, own_id, context):
            continue
        if rule.error is not None:
            (hooks if rule.declared.after else errors).append(rule.error)
        elif errors or hooks:
            break
        else:
            assert rule.respond is not None
            raise rule.respond(context)
    return errors + hooks


#: what judging a rule over a body that failed its schema may raise: a formula over a missing or
#: ill-typed field (`days_ago(None) > 2`, `'x' in 5`), a lookup by an unhashable value
UNJUDGEABLE = (TypeError, ValueError, ArithmeticError, LookupError, AttributeError)


def beside(
    rules: list[Rule],
    store: Store,
    table: Table,
    candidate: Mapping[str, Any],
    own_id: Any,
    context: Context,
    failed: set[str],
) -> tuple[list[FieldError], list[FieldError]]:
    """The rule errors and the after-hook errors of a body that failed its schema (`failed`: those fields).

    As Laravel's validator has it: every rule runs on what was sent, but an
    `exists` or `unique` is not looked up for a field that already failed
    (a rule naming such a field is skipped), while after-hooks run whatever
    failed. `respond` rules are the action's later checks and do not run.
    A rule that cannot be judged on a partial or ill-typed body does not apply.
    """
    errors: list[FieldError] = []
    hooks: list[FieldError] = []
    for rule in rules:
        if rule.error is None or (not rule.declared.after and rule.fields & failed):
            continue
        try:
            holds = rule.holds(store, table, candidate, own_id, context)
        except UNJUDGEABLE:
            holds = True
        if not holds:
            (hooks if rule.declared.after else errors).append(rule.error)
    return errors, hooks


def placed(errors: list[FieldError], found: list[FieldError], rank: Callable[[str], int]) -> list[FieldError]:
    """`errors` (in field order) with each of `found` at its field's place, as one validation pass lists them.

    `rank` is a field's place in the body (the request schema's property
    order); an error goes after every error of a field at the same place or
    before, so a rule's error joins its field's own list.
    """
    listed = list(errors)
    for error in found:
        place = rank(error.field)
        at = next((i for i in range(len(listed), 0, -1) if rank(listed[i - 1].field) <= place), 0)
        listed.insert(at, error)
    return listed
