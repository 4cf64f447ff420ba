"""What an operation does to the state, as declared by its `x-mock.action`.

Each behaviour is built once from the spec and then called per request with
a `Call`. The same handful of behaviours serves every resource of every API:

* `create`: build a record from the body, defaults, sequences and timestamps.
* `list`: filter, order and page records; `parent` scopes them to a record.
* `read`: one record by `id` or by `match`.
* `update`: merge the body (and fixed `set` values) into a record.
* `delete`: remove a record, or with `soft` just set fields (deactivate).
* `login` / `logout`: issue or revoke a credential of a security scheme.
* `answer`: the response alone, changing nothing: figures counted in the
  state and formulas over them (a system's status).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from mockserver.errors import FieldError, Invalid, Refusal
from mockserver.expressions.formulas import compile_formula
from mockserver.expressions.templates import Render, compile_template
from mockserver.pipeline import rules as business_rules
from mockserver.pipeline.auth import Authenticator, Identity
from mockserver.pipeline.documents import (
    ChildUpdates,
    FileRenderer,
    FurtherWrites,
    Gatherer,
    Numbering,
    Outcomes,
    Resolver,
)
from mockserver.pipeline.responses import Reply, ReplyTemplate, reply_template
from mockserver.spec.context import VALUE_ROOTS, expression_root, placeholders
from mockserver.spec.model import FilterDecl, Relation
from mockserver.spec.openapi import Operation
from mockserver.spec.pointers import parse_pointer, value_at
from mockserver.spec.schemas import merged_properties
from mockserver.state.store import Record, ResourceConfig, Row, Store, Stored, Table, sort_key, whole_number


@dataclass
class Call:
    """One request, as the behaviours see it."""

    store: Store
    identity: Identity
    context: dict[str, Any]  # template context: request, path, query, body, principal, ...
    fields: dict[str, Any] = field(default_factory=dict)  # the record part of the body
    body: Any = None  # the whole validated body (a bulk operation's list)
    query_string: list[tuple[str, str]] = field(default_factory=list)
    #: the outcome a caller asked for (`Prefer: <key>=<case>[:<argument>]`, or a control), if any
    outcome: str | None = None


@dataclass
class Environment:
    """What behaviours need from their API beyond the operation itself."""

    resources: Mapping[str, ResourceConfig]
    auth: Authenticator
    not_found: Mapping[str, ReplyTemplate]  # per resource
    #: `(operationId, call, body)`: the answer that operation gives `body` sent alone, in the call's state
    #: (validated, refused in its own envelope); what a bulk operation answers each element with
    answer_as: Callable[[str, Call, Any], Reply]
    #: where the spec's file templates live (the spec's folder)
    templates: Path = Path()


#: what a record lookup may name to run before validation: the path and what it binds
_BINDING_ROOTS = frozenset({"path", "parent", "principal", "credential"})


def _compile_mapping(data: Mapping[str, Any]) -> dict[str, Render]:
    return {key: compile_template(value) for key, value in data.items()}


def _evaluate(compiled: Mapping[str, Render], context: Mapping[str, Any]) -> dict[str, Any]:
    return {key: render(context) for key, render in compiled.items()}


def _stamp(config: ResourceConfig, record: Record, now: str, *, created: bool) -> None:
    stamps = config.declared.timestamps
    if created and "created" in stamps:
        record[stamps["created"]] = now
    if "updated" in stamps:
        record[stamps["updated"]] = now


def _draft(field_names: Iterable[str], config: ResourceConfig, sent: Mapping[str, Any]) -> Record:
    """A new record: every declared field, the resource's defaults, then what the request sent for its declared
    fields (a field it does not declare is dropped, as a validated request drops it, even one the record has)."""
    linked = set(config.declared.relations) | set(config.declared.children)
    declared = [name for name in field_names if name not in linked]
    record: Record = dict.fromkeys(declared)
    record.update(config.declared.defaults)
    record.update({k: v for k, v in sent.items() if k in record and k in declared})
    return record


def _insert(table: Table, record: Record, now: str) -> Stored:
    """Store a new record: numbered fields filled in, timestamps set, the id the server's to assign."""
    for name, render in table.config.sequences.items():
        if record.get(name) in (None, ""):
            record[name] = render({"n": table.next_in_sequence(name)})
    _stamp(table.config, record, now, created=True)
    record.pop("id", None)  # ids are the server's to assign, even where a spec lets one be sent
    return table.insert(record)


def _change(table: Table, record: Mapping[str, Any], changes: Record, now: str) -> None:
    """Write changes to a stored record, with its update timestamp."""
    _stamp(table.config, changes, now, created=False)
    table.update(record["id"], changes)


@dataclass(frozen=True)
class _ChildList:
    name: str
    pointer: list[str]
    relation: Relation
    fields: list[str]
    rules: list[business_rules.Rule]


class ChildLists:
    """Lists of child records a body carries next to its record (`x-mock.children`), written with it.

    `children: {Line: /Line}` maps a child list the resource declares to
    where it sits in the body; `{from: /Lines, rules: [...]}` adds rules each
    element must pass (their field errors name the element, e.g.
    `Line.0.part_id`).
    """

    def __init__(self, operation: Operation, config: ResourceConfig) -> None:
        self.lists: list[_ChildList] = []
        for name, declared in operation.mock.children.items():
            relation = config.declared.children[name]  # the loader has checked the resource declares the list
            pointer = parse_pointer(declared.source)
            item_schema = operation.body_schema_at(pointer).get("items") or {}
            rules = business_rules.compile_rules(declared.rules, operation)
            self.lists.append(_ChildList(name, pointer, relation, list(merged_properties(item_schema)), rules))

    def _items(self, call: Call, pointer: list[str]) -> list[Any] | None:
        value = value_at(call.context.get("body"), pointer)
        return value if isinstance(value, list) else None

    def check(self, call: Call) -> list[FieldError]:
        errors = []
        for child in self.lists:
            table = call.store.table(child.relation.resource)
            for index, item in enumerate(self._items(call, child.pointer) or []):
                if isinstance(item, dict):
                    for error in business_rules.check(child.rules, call.store, table, item, None, call.context):
                        errors.append(replace(error, field=f"{child.name}.{index}.{error.field}"))
        return errors

    def beside(self, call: Call, failed: set[str]) -> tuple[list[FieldError], list[FieldError]]:
        """The element rules' errors on a body that failed its schema (see `rules.beside`), and their hooks'."""
        errors: list[FieldError] = []
        hooks: list[FieldError] = []
        for child in self.lists:
            table = call.store.table(child.relation.resource)
            for index, item in enumerate(self._items(call, child.pointer) or []):
                if not isinstance(item, dict):
                    continue
                prefix = f"{child.name}.{index}."
                own = {name.removeprefix(prefix) for name in failed if name.startswith(prefix)}
                found = business_rules.beside(child.rules, call.store, table, item, None, call.context, own)
                for into, listed in zip((errors, hooks), found, strict=True):
                    into.extend(replace(error, field=prefix + error.field) for error in listed)
        return errors, hooks

    def write(self, call: Call, parent_id: Any) -> None:
        """Store the lists the body carries; a list that is sent replaces the stored one."""
        for child in self.lists:
            items = self._items(call, child.pointer)
            if items is None:
                continue
            key = child.relation.key
            table = call.store.table(child.relation.resource)
            for old in list(table.find({key: parent_id})):
                table.delete(old["id"])
            for item in items:
                record = _draft(child.fields, table.config, item if isinstance(item, dict) else {})
                record[key] = parent_id
                _insert(table, record, call.context["now"])


class _Base:
    def __init__(self, operation: Operation, env: Environment) -> None:
        mock = operation.mock
        self.env = env
        self.resource = mock.resource or ""
        self.config = env.resources.get(self.resource) or ResourceConfig(self.resource)
        self.response = reply_template(mock.response, operation)
        self.rules = business_rules.compile_rules(mock.rules, operation)
        self.not_found = reply_template(mock.not_found, operation) if mock.not_found is not None else None
        self.invalid_path = reply_template(mock.invalid_path, operation) if mock.invalid_path is not None else None
        self.counts = {name: (count.resource, _compile_mapping(count.where)) for name, count in mock.counts.items()}
        self.distinct = {name: count.distinct for name, count in mock.counts.items() if count.distinct is not None}
        self.values = {
            name: compile_formula(text, f"{operation.pointer}/values/{name}") for name, text in mock.values.items()
        }
        self.record_fields = list(merged_properties(operation.record_schema()))
        self.children = ChildLists(operation, self.config)
        parent = mock.parent
        self.parent = (parent.resource, compile_template(parent.id)) if parent is not None else None
        #: this operation's own answer for a missing parent, else the parent resource's 404
        self.parent_missing = (
            reply_template(parent.missing, operation) if parent is not None and parent.missing is not None else None
        )
        #: the path parameters the parent's id names
        self.parent_params = {
            expression.split("|")[0].strip().removeprefix("path.")
            for _, expression, _ in placeholders(parent.id if parent is not None else None)
            if expression_root(expression)[0] == "path"
        }
        #: field tuples this behaviour looks records up by, for the store to index
        self.lookups: list[tuple[str, ...]] = business_rules.unique_keys(self.rules)
        #: records of other resources written once the operation's own is (`also`)
        self.also = FurtherWrites(mock.also, operation.pointer) if mock.also else None

    def __call__(self, call: Call) -> Reply:
        """What the behaviour does to the state, and its answer (each action has its own)."""
        raise NotImplementedError

    def table(self, call: Call) -> Table:
        return call.store.table(self.resource)

    def missing(self, context: Mapping[str, Any], record_id: Any, resource: str | None = None) -> Reply:
        """The 404 for a record that does not exist (the operation's own, else the resource's)."""
        template = self.not_found if resource is None else None
        template = template or self.env.not_found.get(resource or self.resource)
        if template is None:
            return Reply(404, None)
        return template({**context, "id": record_id})

    def bind(self, call: Call) -> None:
        """The records the path names, looked up before the request is validated (Laravel's route-model
        binding): the parent, and for an action on one record that record; their 404 when missing."""
        self.load_parent(call)

    def load_parent(self, call: Call) -> None:
        """Bind `parent` to the record the operation sits under (`x-mock.parent`); its 404 when it does not exist."""
        if self.parent is None:
            return
        resource, id_template = self.parent
        record_id = id_template(call.context)
        parent = call.store.table(resource).row(record_id)
        if parent is None:
            raise self.missing_parent(call.context, record_id)
        call.context["parent"] = parent

    def missing_parent(self, context: Mapping[str, Any], record_id: Any) -> Reply:
        """The answer when the parent does not exist: the operation's `parent.missing`, else its resource's 404."""
        if self.parent_missing is not None:
            return self.parent_missing({**context, "id": record_id})
        return self.missing(context, record_id, self.parent[0] if self.parent is not None else None)

    def write_also(self, call: Call, record: Row) -> None:
        """The further records the operation writes once its own is (`also`), with the record written as `record`."""
        if self.also is not None:
            call.context["record"] = record
            self.also(call.store, call.context, _insert, _change)

    def missing_from_path(self, context: Mapping[str, Any], record_id: Any, name: str) -> Reply:
        """The answer to a path parameter that cannot name any record: `invalid_path`, else the (parent's) 404.

        A parameter that names the parent (`parent.id: "${path.owner_id}"`) is the parent's 404 whatever
        the operation's `invalid_path` says: that answer is about the operation's own parameters.
        """
        if self.parent is not None and name in self.parent_params:
            return self.missing_parent(context, record_id)
        if self.invalid_path is not None:
            return self.invalid_path({**context, "id": record_id})
        return self.missing(context, record_id, self.parent[0] if self.parent else None)

    def answer(self, call: Call, listed: Iterable[Record] = (), **values: Any) -> Reply:
        call.context.update(values)
        if self.counts:
            call.context["counts"] = self.count(call, listed)
        if self.values:
            names = {**call.context.get("counts", {}), **{key: call.context.get(key) for key in VALUE_ROOTS}}
            call.context["values"] = {name: formula(names) for name, formula in self.values.items()}
        return self.response(call.context)

    def count(self, call: Call, listed: Iterable[Record]) -> dict[str, int]:
        counts = {}
        for name, (resource, where) in self.counts.items():
            distinct = self.distinct.get(name)
            if distinct is not None:  # how many different values the records listed hold
                counts[name] = len({sort_key(r.get(distinct)) for r in listed})
            elif resource is None:  # counted over the records listed
                criteria = _evaluate(where, call.context)
                counts[name] = sum(1 for r in listed if all(r.get(k) == v for k, v in criteria.items()))
            else:
                counts[name] = len(list(call.store.table(resource).find(_evaluate(where, call.context))))
        return counts

    def check_rules(self, call: Call, candidate: Mapping[str, Any], own_id: Any) -> None:
        errors = business_rules.check(self.rules, call.store, self.table(call), candidate, own_id, call.context)
        errors += self.children.check(call)
        if errors:
            raise Invalid(errors)

    def judged(self, call: Call) -> tuple[Record, Any] | None:
        """The record (and its id) the rules judge for a body that failed its schema; None: none is judged."""
        return None

    def beside(self, call: Call, failed: set[str]) -> tuple[list[FieldError], list[FieldError]]:
        """The rule errors and after-hook errors of a body that failed its schema on the fields `failed`.

        The framework validates every rule, then its after-hooks, before it
        answers (`x-mock.rules_beside_schema`); only creates and updates judge
        a record built from the body.
        """
        try:
            judged = self.judged(call)
        except (Reply, Refusal, *business_rules.UNJUDGEABLE):  # no record to judge: the schema's errors stand
            return [], []
        if judged is None:
            return [], []
        candidate, own_id = judged
        table = self.table(call)
        errors, hooks = business_rules.beside(self.rules, call.store, table, candidate, own_id, call.context, failed)
        child_errors, child_hooks = self.children.beside(call, failed)
        return errors + child_errors, hooks + child_hooks

    def index_fields(self) -> dict[str, set[tuple[str, ...]]]:
        fields = business_rules.foreign_keys(self.rules)
        for resource, keys in (self.also.index_fields() if self.also is not None else {}).items():
            fields.setdefault(resource, set()).update(keys)
        if self.resource:
            fields.setdefault(self.resource, set()).update(self.lookups)
        return fields


class _Targeted(_Base):
    """Behaviours that act on one existing record (by id or by match)."""

    def __init__(self, operation: Operation, env: Environment) -> None:
        super().__init__(operation, env)
        mock = operation.mock
        # the schema asks a read, update or delete for `id` or `match`
        self.id = compile_template(mock.id) if mock.id is not None else None
        self.match = _compile_mapping(mock.match)
        if self.match:
            self.lookups.append(tuple(self.match))
        self.upsert = mock.upsert
        missing = mock.not_found_error
        #: a missing record as a field's validation error (Laravel's `exists` on an id the body names)
        self.missing_error = (
            FieldError(missing.field, missing.rule or "exists", {}, missing.message) if missing is not None else None
        )
        # found from the path alone (not the body): a lookup that may run before validation
        named = [mock.id, dict(mock.match)]
        self.path_bound = (
            not mock.upsert
            and not mock.every
            and all(expression_root(expression)[0] in _BINDING_ROOTS for _, expression, _ in placeholders(named))
        )

    def bind(self, call: Call) -> None:
        if self.path_bound:
            self.target(call)
        else:
            self.load_parent(call)

    def target(self, call: Call) -> Mapping[str, Any]:
        self.load_parent(call)
        table = self.table(call)
        if self.id is not None:
            record_id = self.id(call.context)
            record = table.get(record_id)
        else:
            record_id = None
            record = next(iter(table.find(_evaluate(self.match, call.context))), None)
        if record is None and self.upsert:  # create or replace: a draft the update stores once its rules pass
            return {**self.config.declared.defaults, **_evaluate(self.match, call.context)}
        if record is None and self.missing_error is not None:
            raise Invalid([self.missing_error])
        if record is None:
            raise self.missing(call.context, record_id)
        return record

    def change(self, call: Call, record: Mapping[str, Any], changes: Record) -> None:
        """Write changes to a record, with its update timestamp."""
        _stamp(self.config, changes, call.context["now"], created=False)
        self.table(call).update(record["id"], changes)


class Create(_Base):
    def __init__(self, operation: Operation, env: Environment) -> None:
        super().__init__(operation, env)
        self.defaults = _compile_mapping(operation.mock.defaults)
        #: a create that also signs its record in (a first-run setup): the scheme, and the credential's own fields
        self.scheme = operation.mock.credential
        self.issue = _compile_mapping(operation.mock.issue)
        mock = operation.mock
        self.numbering = Numbering(mock.number) if mock.number is not None else None
        self.resolvers = [Resolver(name, declared, operation) for name, declared in mock.resolve.items()]
        self.gatherer = Gatherer(mock.gather, operation) if mock.gather is not None else None

    def __call__(self, call: Call) -> Reply:
        self.load_parent(call)
        table = self.table(call)
        record = self.draft(call.context, call.fields, table)
        self.check_rules(call, record, own_id=None)
        # nothing to gather refuses the create before it takes a number
        gathered = self.gatherer.find(call.store, call.context) if self.gatherer is not None else []
        # only once every rule holds: a refused create takes no number and creates no linked record
        # (behaviours run without an await, so no other request can take a number in between)
        for resolver in self.resolvers:
            record[resolver.field] = resolver(call.store, call.context, _insert)
        if self.numbering is not None:
            record.update(self.numbering(call.store, call.context, _insert))
        if self.gatherer is not None:
            record[self.gatherer.into] = self.gatherer.items(gathered, call.context)
        _insert(table, record, call.context["now"])
        if self.gatherer is not None:
            self.gatherer.link_to(call.store, gathered, record["id"])
        self.children.write(call, record["id"])
        # the draft holds what was stored (the id included), and nothing below writes this record again;
        # a plain dict reads faster than the stored record's view
        created = Row(table, record)
        self.write_also(call, created)
        if self.scheme is None:
            return self.answer(call, record=created)
        credential = self.env.auth.issue(self.scheme, call.store, created)
        if self.issue:
            credential.table.update(credential["id"], _evaluate(self.issue, {**call.context, "credential": credential}))
        return self.answer(call, record=created, credential=credential)

    def judged(self, call: Call) -> tuple[Record, Any] | None:
        self.load_parent(call)
        return self.draft(call.context, call.fields, self.table(call)), None

    def draft(self, context: Mapping[str, Any], sent: Mapping[str, Any], table: Table) -> Record:
        """The record to create: the operation's defaults fill what was not sent, before the resource's defaults.

        The defaults see the record being drafted as `record`, its relations resolved, so a record can
        keep a copy of what it refers to as it is when it is created (`${record.Owner.name}`).
        """
        record = _draft(self.record_fields, self.config, sent)
        if not self.defaults:
            return record
        drafted = {**context, "record": Row(table, record)}
        for name, render in self.defaults.items():
            if sent.get(name) is None:
                value = render(drafted)
                if value is not None:
                    record[name] = value
        return record


class CreateEach(Create):
    """A create of every element of a body list (`x-mock.each`): the elements its rules refuse are reported, not fatal.

    The response context gets `batch`: `created` (the records), `failed`
    (`{index, error}` with the `failure` text), and their counts.
    """

    def __init__(self, operation: Operation, env: Environment) -> None:
        super().__init__(operation, env)
        each = operation.mock.each
        assert each is not None  # the schema pairs `each` with this action
        self.source = parse_pointer(each.source)
        # each element is a record: its fields are the list items' own
        item_schema = operation.body_schema_at(self.source).get("items") or {}
        self.record_fields = list(merged_properties(item_schema)) or self.record_fields
        self.failure = compile_template(each.failure)

    def judged(self, call: Call) -> tuple[Record, Any] | None:
        return None  # its rules judge each element, and refuse just that one

    def __call__(self, call: Call) -> Reply:
        self.load_parent(call)
        table = self.table(call)
        items = value_at(call.context.get("body"), self.source)
        items = items if isinstance(items, list) else []
        created: list[Row] = []
        failed: list[dict[str, Any]] = []
        for index, item in enumerate(items):
            sent = item if isinstance(item, dict) else {}
            context = {**call.context, "body": sent}  # each element is created as if it were the body
            record = self.draft(context, sent, table)
            try:
                refused = bool(business_rules.check(self.rules, call.store, table, record, None, context))
            except Reply:  # a rule that answers at once refuses just this element
                refused = True
            if refused:
                failed.append({"index": index, "error": self.failure({**context, "item": record})})
                continue
            _insert(table, record, call.context["now"])
            created.append(Row(table, record))
        batch = {
            "created": created,
            "failed": failed,
            "created_count": len(created),
            "failed_count": len(failed),
            "total": len(items),
        }
        return self.answer(call, batch=batch)


class ListRecords(_Base):
    def __init__(self, operation: Operation, env: Environment) -> None:
        super().__init__(operation, env)
        mock = operation.mock
        self.where = _compile_mapping(mock.where)
        if self.where:
            self.lookups.append(tuple(self.where))
        self.filters = mock.filters
        self.order = [(name.removeprefix("-"), name.startswith("-")) for name in mock.order]
        self.sort = mock.sort
        self.paging = mock.paging
        self.limit = mock.limit
        self.union = mock.union
        self.none = reply_template(mock.none, operation) if mock.none is not None else None

    def __call__(self, call: Call) -> Reply:
        self.load_parent(call)
        table = self.table(call)
        # what the caller asks for: the query, and the body's fields where the list takes a body (a search by
        # POST); the body wins, as the input's merge_query has it
        query = {**call.context.get("query", {}), **(call.context.get("body") or {})}
        # a list's rules judge what the caller asked for (a filter naming a record that must exist)
        self.check_rules(call, dict(query), own_id=None)
        criteria = _evaluate(self.where, call.context)
        # a `where` value that is a list takes any of its values
        choices = {name: value for name, value in criteria.items() if isinstance(value, list)}
        criteria = {name: value for name, value in criteria.items() if name not in choices}
        searches = []
        bounds: list[tuple[FilterDecl, Any]] = []
        for param, spec in self.filters.items():
            if param not in query:
                continue
            if spec.equals is not None:
                criteria[spec.equals] = query[param]
            elif spec.contains:
                searches.append((str(query[param]).casefold(), spec.contains))
            else:
                bounds.append((spec, query[param]))
        order = self._order(query)
        plain = not criteria and not choices and not searches and not bounds and order == [("id", False)]
        tables = [table, *(call.store.table(name) for name in self.union)]
        # each record with the table it is a row of: a union lists the records of several
        listed: Iterable[tuple[Table, Stored]]
        rows: Any
        if plain and not self.union:
            rows = table  # the whole table as it stands, kept lazy
            listed = _OwnTable(table)
        else:
            listed = [(t, r) for t in tables for r in self._select(t, criteria, choices, searches, bounds, order)]
            rows = [record for _, record in listed]
        total = len(rows)
        number, size = self._page(query)
        if size is None:
            chosen = list(itertools.islice(iter(listed), self.limit))
        else:
            start = (number - 1) * size
            chosen = list(itertools.islice(iter(listed), start, start + size)) if start < total else []
        last = max(math.ceil(total / size), 1) if size else 1
        call.context["page"] = {
            "number": number,
            "size": size if size is not None else total,
            "total": total,
            "last": last,
            "prev_url": self._url(call, number - 1) if 1 < number else None,
            "next_url": self._url(call, number + 1) if number < last else None,
        }
        if total == 0 and self.none is not None:
            return self.none(call.context)
        return self.answer(call, listed=rows, records=[Row(owner, record) for owner, record in chosen])

    def _select(
        self,
        table: Table,
        criteria: dict[str, Any],
        choices: dict[str, list[Any]],
        searches: list[tuple[str, tuple[str, ...]]],
        bounds: list[tuple[FilterDecl, Any]],
        order: list[tuple[str, bool]],
    ) -> list[Stored]:
        rows = table.find(criteria)
        if choices:
            rows = [r for r in rows if all(r.get(name) in values for name, values in choices.items())]
        for needle, names in searches:
            rows = [r for r in rows if any(needle in str(r.get(n) or "").casefold() for n in names)]
        for spec, wanted in bounds:
            rows = [r for r in rows if _passes(spec, Row(table, r), wanted)]
        rows = list(rows)
        if order != [("id", False)]:
            # one stable sort per key, the last key first, so each key may run its own direction
            for name, descending in reversed(order):
                rows.sort(key=_field_key(table, name), reverse=descending)
        return rows

    def _order(self, query: Mapping[str, Any]) -> list[tuple[str, bool]]:
        """The documented order, or the field and direction the caller asks for (ties: the documented order)."""
        sort = self.sort
        if sort is None:
            return self.order
        chosen = query.get(sort.param)
        wanted = str(query.get(sort.direction, "")).casefold() if sort.direction is not None else ""
        if not isinstance(chosen, str) or not chosen or (sort.fields and chosen not in sort.fields):
            if wanted in ("asc", "desc") and self.order:
                # a direction alone turns the documented first key
                first, *rest = self.order
                return [(first[0], wanted == "desc"), *rest]
            return self.order
        descending = wanted == "desc" if wanted in ("asc", "desc") else sort.descending
        return [(chosen, descending), *(key for key in self.order if key[0] != chosen)]

    def _page(self, query: Mapping[str, Any]) -> tuple[int, int | None]:
        if self.paging is None:
            return 1, None
        number = _positive_int(query.get(self.paging.page), 1)
        size = self.paging.size
        if self.paging.size_param is not None and self.paging.size_param in query:
            size = _positive_int(query[self.paging.size_param], size)
        return number, size

    def _url(self, call: Call, number: int) -> str:
        page_param = self.paging.page if self.paging is not None else "page"
        pairs = [(k, v) for k, v in call.query_string if k != page_param] + [(page_param, str(number))]
        return f"{call.context['request']['path']}?{urlencode(pairs)}"


class _OwnTable:
    """A whole table listed as it stands (the common case, kept lazy): its records, each with the table."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def __iter__(self) -> Iterator[tuple[Table, Stored]]:
        return ((self.table, record) for record in self.table)


class Read(_Targeted):
    def __init__(self, operation: Operation, env: Environment) -> None:
        super().__init__(operation, env)
        declared = operation.mock.file
        self.file = FileRenderer(declared, operation, env.templates) if declared is not None else None

    def __call__(self, call: Call) -> Reply:
        row = Row(self.table(call), self.target(call))
        if self.file is not None:
            call.context["record"] = row
            return self.file(call.context)
        return self.answer(call, record=row)


class Update(_Targeted):
    def __init__(self, operation: Operation, env: Environment) -> None:
        super().__init__(operation, env)
        self.set = _compile_mapping(operation.mock.set)
        self.compute = {
            name: compile_formula(text, f"{operation.pointer}/compute/{name}")
            for name, text in operation.mock.compute.items()
        }
        declared = operation.mock.outcomes
        self.outcomes = Outcomes(declared, operation, self.config) if declared is not None else None
        self.set_children = ChildUpdates(operation.mock.set_children, self.config)
        self.merge_body = operation.mock.merge_body
        self.every = operation.mock.every

    def judged(self, call: Call) -> tuple[Record, Any] | None:
        record = self.target(call)
        call.context["record"] = Row(self.table(call), record)
        return {**record, **self.body_changes(call)}, record.get("id")

    def body_changes(self, call: Call) -> Record:
        """The record fields the body writes (none where the body is not merged)."""
        return {k: v for k, v in call.fields.items() if k in self.record_fields} if self.merge_body else {}

    def __call__(self, call: Call) -> Reply:
        if self.every:
            return self._every(call)
        record = self.target(call)
        # the record as it stands, so `set` and the rules' answers can name its fields
        call.context["record"] = Row(self.table(call), record)
        changes = self.body_changes(call)
        # the rules judge the record with the body's changes, before the fixed ones: a rule such as
        # "an accepted document cannot be sent again" looks at the state the request finds
        self.check_rules(call, {**record, **changes}, own_id=record.get("id"))
        # an upsert's draft (a dict, no id yet): refused, it would have left an empty record behind
        if "id" not in record and isinstance(record, dict):
            record = _insert(self.table(call), record, call.context["now"])
        case = self.outcomes.pick(call.outcome, call.context) if self.outcomes is not None else None
        changes.update(_evaluate(case.set if case is not None else self.set, call.context))
        # the formulas see the record as it was and, as `sent`, the body (a write the body steers)
        scope = {**record, "sent": call.context.get("body") or {}}
        changes.update({name: formula(scope) for name, formula in self.compute.items()})
        self.change(call, record, changes)
        (case.children if case is not None else self.set_children)(call.store, record["id"], call.context)
        self.children.write(call, record["id"])
        self.write_also(call, Row(self.table(call), record))
        if case is not None:
            call.context["record"] = Row(self.table(call), record)
            return case.response(call.context)
        return self.answer(call, record=Row(self.table(call), record))

    def _every(self, call: Call) -> Reply:
        """Every record the match names is updated with `set` and `compute` (none is no 404; a null match value
        matches any). The rules judge the request's fields once, before any change: there is no one record."""
        self.load_parent(call)
        table = self.table(call)
        self.check_rules(call, dict(call.fields), own_id=None)
        criteria = {k: v for k, v in _evaluate(self.match, call.context).items() if v is not None}
        changed = list(table.find(criteria))
        for record in changed:
            call.context["record"] = Row(table, record)
            changes = _evaluate(self.set, call.context)
            scope = {**record, "sent": call.context.get("body") or {}}
            changes.update({name: formula(scope) for name, formula in self.compute.items()})
            self.change(call, record, changes)
            self.set_children(call.store, record["id"], call.context)
        call.context.pop("record", None)
        return self.answer(call, records=[Row(table, record) for record in changed])


class Delete(_Targeted):
    def __init__(self, operation: Operation, env: Environment) -> None:
        super().__init__(operation, env)
        self.soft = _compile_mapping(operation.mock.soft)
        self.every = operation.mock.every

    def __call__(self, call: Call) -> Reply:
        if self.every:
            return self._every(call)
        record = self.target(call)
        table = self.table(call)
        call.context["record"] = Row(table, record)  # the rules' answers may name its fields
        self.check_rules(call, record, own_id=record["id"])
        if self.soft:
            self.change(call, record, _evaluate(self.soft, call.context))
        else:
            table.delete(record["id"])
        return self.answer(call, record=Row(table, record))

    def _every(self, call: Call) -> Reply:
        """Every record the match names goes (none is no 404); a match value that renders null matches any."""
        self.load_parent(call)
        table = self.table(call)
        criteria = {k: v for k, v in _evaluate(self.match, call.context).items() if v is not None}
        gone = list(table.find(criteria))
        for record in gone:  # a delete's rules judge each record it removes, before any goes
            call.context["record"] = Row(table, record)
            self.check_rules(call, record, own_id=record["id"])
        for record in gone:
            table.delete(record["id"])
        return self.answer(call, records=[Row(table, record) for record in gone])


class Login(_Base):
    def __init__(self, operation: Operation, env: Environment) -> None:
        super().__init__(operation, env)
        mock = operation.mock
        # the schema asks a login for identity, secret, failure and credential; the loader checks the scheme
        assert mock.failure is not None and mock.credential is not None
        self.identity = _compile_mapping(mock.identity)
        self.lookups.append(tuple(self.identity))
        self.secret = _compile_mapping(mock.secret)
        self.failure = reply_template(mock.failure, operation)
        self.set = _compile_mapping(mock.set)
        self.scheme = mock.credential
        self.issue = _compile_mapping(mock.issue)

    def __call__(self, call: Call) -> Reply:
        table = self.table(call)
        record = next(iter(table.find(_evaluate(self.identity, call.context))), None)
        secret = _evaluate(self.secret, call.context)
        if record is None or any(record.get(k) != v for k, v in secret.items()):
            raise self.failure(call.context)
        self.check_rules(call, record, own_id=record.get("id"))
        if self.set:
            table.update(record["id"], _evaluate(self.set, call.context))
        account = Row(table, record)
        credential = self.env.auth.issue(self.scheme, call.store, account)
        if self.issue:
            credential.table.update(credential["id"], _evaluate(self.issue, {**call.context, "credential": credential}))
        return self.answer(call, record=account, credential=credential)


class Logout(_Base):
    def __call__(self, call: Call) -> Reply:
        self.env.auth.revoke(call.identity)
        return self.answer(call)


class Answer(_Base):
    """The response alone: nothing in the state changes.

    `counts` are counted as for any action; with a `resource`, its first
    record in `order` (among those matching `where`) is `record`, null when
    there is none; its `rules` judge that record (else the `parent`). Like
    every action it may declare `values` (formulas over the counts and the
    context, bound as `values`).
    """

    def __init__(self, operation: Operation, env: Environment) -> None:
        super().__init__(operation, env)
        mock = operation.mock
        self.where = _compile_mapping(mock.where)
        self.order = [(name.removeprefix("-"), name.startswith("-")) for name in mock.order]

    def __call__(self, call: Call) -> Reply:
        self.load_parent(call)
        first = self._first(call) if self.resource else None
        subject = first if first is not None else call.context.get("parent")
        self.check_rules(call, dict(subject) if subject is not None else {}, own_id=None)
        return self.answer(call, record=first)

    def _first(self, call: Call) -> Row | None:
        table = self.table(call)
        rows = list(table.find(_evaluate(self.where, call.context)))
        for name, descending in reversed(self.order):
            rows.sort(key=_field_key(table, name), reverse=descending)
        return Row(table, rows[0]) if rows else None


class Bulk(_Base):
    """A list of bodies, each answered in turn as the `bulk_of` operation answers it sent alone; not atomic.

    The response context gets `batch.answers`: each element's own answer (its success or its refusal), in order.
    """

    def __init__(self, operation: Operation, env: Environment) -> None:
        super().__init__(operation, env)
        self.each = str(operation.mock.bulk_of)

    def __call__(self, call: Call) -> Reply:
        elements = call.body if isinstance(call.body, list) else []
        answers = [self.env.answer_as(self.each, call, element).body for element in elements]
        return self.answer(call, batch={"answers": answers})


BEHAVIOURS: dict[str, type[_Base]] = {
    "create": Create,
    "list": ListRecords,
    "read": Read,
    "update": Update,
    "delete": Delete,
    "login": Login,
    "logout": Logout,
    "bulk": Bulk,
    "answer": Answer,
}


def build(operation: Operation, env: Environment) -> _Base:
    """The behaviour of an operation's action (the schema's `operation.action` lists the same names)."""
    if operation.mock.each is not None:
        return CreateEach(operation, env)
    return BEHAVIOURS[operation.mock.action](operation, env)


def _positive_int(value: Any, default: int) -> int:
    # ASCII digits only: int() also reads "٢", " 2" and "2_0" as numbers
    if not isinstance(value, (int, str)) or isinstance(value, bool):
        return default
    number = whole_number(str(value))
    return number if number is not None and number >= 1 else default


def _field_key(table: Table, name: str) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    def key(record: Mapping[str, Any]) -> tuple[Any, ...]:
        return sort_key(Row(table, record).get(name))

    return key


def _passes(spec: FilterDecl, row: Row, wanted: Any) -> bool:
    """Whether a record's field passes a range bound or a list of values."""
    if spec.one_of is not None:
        values = wanted if isinstance(wanted, list) else [wanted]
        have = row.get(spec.one_of)
        return any(have == value or str(have) == str(value) for value in values)
    name = spec.at_least if spec.at_least is not None else spec.at_most
    have = row.get(name) if name is not None else None
    if have is None or have == "":
        return False
    at_least = spec.at_least is not None
    if isinstance(wanted, (int, float)) and not isinstance(wanted, bool):
        try:
            number = float(have)
        except (TypeError, ValueError):
            return False
        return number >= wanted if at_least else number <= wanted
    bound = str(wanted)
    # text by its leading part: "2026-01-15 10:00:00" is within a "2026-01-15" bound on either side
    lead = str(have)[: len(bound)]
    return lead >= bound if at_least else lead <= bound
