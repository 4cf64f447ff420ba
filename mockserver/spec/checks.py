"""What a well-shaped `x-mock` must also mean, checked when a spec loads.

The schema says a rule's `respond.status` is an integer; only the spec can
say whether that status is a documented response of the operation, whether
the resource a rule names is declared, or whether a template's placeholder
names something the pipeline binds. Each check yields (JSON pointer, reason).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mockserver.spec import context
from mockserver.spec.model import ApiMock, ReplyDecl, RuleDecl
from mockserver.spec.pointers import parse_pointer, pointer
from mockserver.spec.schemas import merged_properties

if TYPE_CHECKING:
    from mockserver.spec.openapi import ApiSpec, Operation

Problems = Iterator[tuple[str, str]]
#: actions whose rules check a record built from the request body
_BODY_RECORDS = ("create", "update")


def meaning_problems(spec: ApiSpec, written: Mapping[str, Any]) -> Problems:
    """Every place the spec's x-mock does not make sense; `written` is the document as written (`spec.raw`,
    which is unpickled at each read)."""
    api = spec.mock
    yield from _api(spec, written)
    for name, resource in api.resources.items():
        at = pointer("x-mock", "resources", name)
        for group in ("relations", "children"):
            for link, relation in getattr(resource, group).items():
                yield from _resource(api, relation.resource, at + pointer(group, link, "resource"))
        for field, template in resource.sequences.items():
            yield from _template(template, context.SEQUENCE, at + pointer("sequences", field))
        if resource.not_found is not None:
            yield from _template(resource.not_found.body, context.NOT_FOUND, f"{at}/not_found/body")
    for name, scheme in spec.scheme_mocks.items():
        declared = spec.security_schemes[name]
        if not _supported(declared):
            yield pointer("components", "securitySchemes", name), "the mock supports http bearer and apiKey schemes"
        at = pointer("components", "securitySchemes", name, "x-mock")
        yield from _resource(api, scheme.credentials, f"{at}/credentials")
        if scheme.principal is not None:
            yield from _resource(api, scheme.principal.resource, f"{at}/principal/resource")
        yield from _fields(scheme.issue, context.ISSUE, f"{at}/issue")
    for operation in spec.operations:
        yield from _operation(spec, operation)


def file_problems(spec: ApiSpec) -> Problems:
    """Every file template an operation names that is not beside the spec: the one check that looks
    beyond the document, so it runs on every load (`meaning_problems` need not, see `openapi.load_spec`)."""
    folder = Path(spec.source).parent
    for operation in spec.operations:
        declared = operation.mock.file
        if declared is None:
            continue
        templates = [("template", declared.template)] if declared.template else []
        templates += [(f"entries{pointer(name)}", file) for name, file in declared.entries.items()]
        for where, file in templates:
            if not (folder / file).is_file():
                yield (
                    f"{operation.pointer}/file/{where}",
                    f"template {file!r} is not a file beside the spec ({folder / file})",
                )


def _supported(scheme: Mapping[str, Any]) -> bool:
    bearer = scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "bearer"
    return bearer or (scheme.get("type") == "apiKey" and "name" in scheme)


def _api(spec: ApiSpec, written: Mapping[str, Any]) -> Problems:
    api = spec.mock
    if api.locale is not None and api.locales and api.locale not in api.locales:
        yield "/x-mock/locale", f"names no locale of x-mock.locales ({', '.join(api.locales)})"
    if not api.locales:
        yield "/x-mock", "needs locales: {<locale>: {messages: {required: ...}}}, the wording of validation errors"
    for name, table in api.locales.items():
        if "required" not in table.messages:
            yield pointer("x-mock", "locales", name, "messages"), "needs at least a 'required' message"
    for name, reply in api.errors.items():
        yield from _template(reply.body, context.ERROR, pointer("x-mock", "errors", name, "body"))
    yield from _requirements(spec, spec.resolved.get("security", []), "/security")
    documented = _documented_fields(written) if api.drift.volatile else set()
    for index, name in enumerate(api.drift.volatile):
        if name not in documented:
            yield (
                pointer("x-mock", "drift", "volatile", index),
                f"{name!r} is no field any schema of the spec documents",
            )


def _requirements(spec: ApiSpec, requirements: Iterable[Mapping[str, Any]], at: str) -> Problems:
    """Each security requirement names declared schemes (the authenticator looks each one up)."""
    for index, requirement in enumerate(requirements):
        unknown = [name for name in requirement if name not in spec.security_schemes]
        if unknown:
            known = ", ".join(spec.security_schemes) or "none"
            yield (
                f"{at}/{index}",
                f"names {unknown[0]!r}, which is not a scheme of components.securitySchemes ({known})",
            )


def _operation(spec: ApiSpec, operation: Operation) -> Problems:
    api, mock = spec.mock, operation.mock
    at = operation.pointer
    declared = spec.resolved["paths"][operation.path][operation.method.lower()]
    if "security" in declared:  # its own requirements; the document's are checked once, in _api
        yield from _requirements(spec, declared["security"], f"{at.removesuffix('/x-mock')}/security")
    if mock.resource is not None:
        yield from _resource(api, mock.resource, f"{at}/resource")
    # an operation that writes further records (`also`) names them in its response
    answered = context.OPERATION | {context.ALSO} if mock.also else context.OPERATION
    yield from _reply(operation, mock.response, f"{at}/response", answered)
    if mock.failure is not None:
        yield from _reply(operation, mock.failure, f"{at}/failure", context.OPERATION)
    if mock.not_found is not None:
        yield from _reply(operation, mock.not_found, f"{at}/not_found", context.NOT_FOUND)
    if mock.invalid_path is not None:
        yield from _reply(operation, mock.invalid_path, f"{at}/invalid_path", context.NOT_FOUND)
    for name, reply in mock.errors.items():
        yield from _reply(operation, reply, at + pointer("errors", name), context.ERROR, documented=False)
    yield from _rules(spec, operation, mock.rules, _record_fields(spec, operation), f"{at}/rules")
    for index, quirk in enumerate(mock.quirks):
        if quirk.profile not in api.profiles:
            declared = ", ".join(api.profiles) or "none"
            yield f"{at}/quirks/{index}/profile", f"{quirk.profile!r} is not a profile of x-mock.profiles ({declared})"
    if mock.id is not None:
        yield from _template(mock.id, context.OPERATION, f"{at}/id")
    for group in ("match", "defaults", "set", "soft", "where", "identity", "secret", "issue"):
        yield from _fields(getattr(mock, group), context.OPERATION, f"{at}/{group}")
    yield from _formulas(mock.values, context.VALUE_ROOTS | set(mock.counts), f"{at}/values")
    if mock.each is not None:
        listed = operation.body_schema_at(parse_pointer(mock.each.source))
        if listed.get("type") != "array" and "items" not in listed:
            yield f"{at}/each/from", f"{mock.each.source} is not a list in the request body's schema"
        yield from _template(mock.each.failure, context.OPERATION | {context.EACH_ITEM}, f"{at}/each/failure")
    if mock.parent is not None:
        yield from _resource(api, mock.parent.resource, f"{at}/parent/resource")
        yield from _template(mock.parent.id, context.OPERATION, f"{at}/parent/id")
        if mock.parent.missing is not None:
            yield from _reply(operation, mock.parent.missing, f"{at}/parent/missing", context.NOT_FOUND)
    for name, count in mock.counts.items():
        where = at + pointer("counts", name)
        if count.resource is not None:
            yield from _resource(api, count.resource, f"{where}/resource")
            where += "/where"
        yield from _fields(count.where, context.OPERATION, where)
    if mock.credential is not None and mock.credential not in spec.scheme_mocks:
        known = ", ".join(spec.scheme_mocks) or "none"
        yield f"{at}/credential", f"names no security scheme of components.securitySchemes ({known})"
    yield from _query(operation, at)
    yield from _lists(spec, operation, at)
    yield from _bulk(spec, operation, at)
    yield from _children(spec, operation, at)
    yield from _documents(spec, operation, at)
    if mock.body and operation.body_schema() is not None and not operation.record_schema():
        yield f"{at}/body", f"{mock.body} names nothing in the request body's schema"


def _documents(spec: ApiSpec, operation: Operation, at: str) -> Problems:
    """Numbering, resolved records, outcomes and files: what they name exists, where it may be used."""
    api, mock = spec.mock, operation.mock
    pairs = (
        ("number", "create"),
        ("resolve", "create"),
        ("gather", "create"),
        ("outcomes", "update"),
        ("file", "read"),
    )
    for key, action in pairs:
        if getattr(mock, key) and mock.action != action:
            yield f"{at}/{key}", f"is for a {action} operation, not a {mock.action}"
    if mock.number is not None:
        yield from _resource(api, mock.number.counter.resource, f"{at}/number/counter/resource")
        yield from _fields(mock.number.counter.match, context.OPERATION, f"{at}/number/counter/match")
        yield from _fields(mock.number.set, context.NUMBERED, f"{at}/number/set")
    for name, write in mock.also.items():
        where = at + pointer("also", name)
        yield from _resource(api, write.resource, f"{where}/resource")
        for group in ("match", "set"):
            yield from _fields(getattr(write, group), context.OPERATION | {context.ALSO}, f"{where}/{group}")
        if write.when is not None:
            yield from _formulas({"when": write.when}, context.VALUE_ROOTS | {context.ALSO}, where)
    for name, resolve in mock.resolve.items():
        yield from _resource(api, resolve.resource, at + pointer("resolve", name, "resource"))
    if mock.gather is not None:
        gather = mock.gather
        yield from _resource(api, gather.resource, f"{at}/gather/resource")
        yield from _fields(gather.where, context.OPERATION, f"{at}/gather/where")
        yield from _fields(gather.item, context.OPERATION | {context.EACH_ITEM}, f"{at}/gather/item")
        yield from _reply(operation, gather.none, f"{at}/gather/none", context.OPERATION)
    yield from _set_children(spec, operation, mock.set_children, f"{at}/set_children", context.OPERATION)
    if mock.outcomes is not None:
        for name, case in mock.outcomes.cases.items():
            where = at + pointer("outcomes", "cases", name)
            yield from _reply(operation, case.response, f"{where}/response", context.OUTCOME)
            yield from _fields(case.set, context.OUTCOME, f"{where}/set")
            yield from _set_children(spec, operation, case.set_children, f"{where}/set_children", context.OUTCOME)
    if mock.file is not None:
        declared = mock.file
        if not declared.template and not declared.entries:
            yield f"{at}/file", "needs a template (or, for a zip, entries)"
        if declared.kind == "pdf" and not declared.pages:
            yield f"{at}/file", "a pdf needs pages: {<name>: [width_mm, height_mm]}"
        yield from _template(declared.filename, context.OPERATION, f"{at}/file/filename")
        yield from _reply(operation, declared.missing, f"{at}/file/missing", context.OPERATION)


def _set_children(
    spec: ApiSpec, operation: Operation, declared: Mapping[str, Mapping[str, Any]], at: str, roots: frozenset[str]
) -> Problems:
    """`set_children` names child lists the operation's resource declares."""
    resource = spec.mock.resources.get(operation.mock.resource or "")
    lists = resource.children if resource is not None else {}
    for name, fields in declared.items():
        if name not in lists:
            listed = ", ".join(lists) or "none"
            yield at + pointer(name), f"is not a child list of {operation.mock.resource} (its children: {listed})"
        yield from _fields(fields, roots, at + pointer(name))


def _record_fields(spec: ApiSpec, operation: Operation) -> set[str] | None:
    """The fields a create's or update's rules see: the body's record, plus what defaults and `set` add."""
    mock = operation.mock
    sent = _names(operation.record_schema())
    if mock.action not in _BODY_RECORDS or not sent:
        return None
    declared = spec.mock.resources.get(mock.resource or "")
    added = set(declared.defaults) if declared is not None else set()
    return sent | added | set(mock.defaults) | set(mock.set) | set(mock.compute)


def _children(spec: ApiSpec, operation: Operation, at: str) -> Problems:
    mock = operation.mock
    declared = spec.mock.resources.get(mock.resource or "")
    lists = declared.children if declared is not None else {}
    for name, child in mock.children.items():
        where = at + pointer("children", name)
        if name not in lists:
            yield (
                where,
                f"is not a child list of {mock.resource} (its x-mock.resources children: {', '.join(lists) or 'none'})",
            )
            continue
        items = operation.body_schema_at(parse_pointer(child.source))
        if items.get("type") != "array" and "items" not in items:
            yield where, f"{child.source} is not a list in the request body's schema"
            continue
        fields = _names(items.get("items") or {})
        yield from _rules(spec, operation, child.rules, fields or None, f"{where}/rules")


def _bulk(spec: ApiSpec, operation: Operation, at: str) -> Problems:
    """A bulk operation sends each element to a create of the same API; `bulk_of` belongs to bulk alone."""
    mock = operation.mock
    if (mock.action == "bulk") != (mock.bulk_of is not None):
        yield f"{at}/action", "a bulk operation names its `bulk_of` operation, and only a bulk operation does"
        return
    if mock.bulk_of is None:
        return
    target = next((op for op in spec.operations if op.operation_id == mock.bulk_of), None)
    if target is None or target.mock.action != "create":
        creates = ", ".join(sorted(op.operation_id for op in spec.operations if op.mock.action == "create")) or "none"
        yield f"{at}/bulk_of", f"{mock.bulk_of!r} is not a create operation of this API ({creates})"


def _lists(spec: ApiSpec, operation: Operation, at: str) -> Problems:
    """A union names declared resources and `none` answers a documented status; an update of `every` record
    takes no outcome and creates nothing (an upsert)."""
    mock = operation.mock
    for index, name in enumerate(mock.union):
        yield from _resource(spec.mock, name, f"{at}/union/{index}")
    if mock.none is not None:
        yield from _reply(operation, mock.none, f"{at}/none", context.OPERATION)
    if mock.every and mock.action == "update":
        for key in ("outcomes", "upsert"):
            if getattr(mock, key):
                yield f"{at}/{key}", "an update of every record the match names takes none"


def _query(operation: Operation, at: str) -> Problems:
    """Filters and paging read query parameters (or, where the operation takes a body, its fields): they must
    be ones the operation documents."""
    mock = operation.mock
    documented = operation.parameter_names("query") | set(merged_properties(operation.body_schema() or {}))
    wanted = [(at + pointer("filters", name), name) for name in mock.filters]
    if mock.sort is not None:
        wanted.append((f"{at}/sort/param", mock.sort.param))
        if mock.sort.direction is not None:
            wanted.append((f"{at}/sort/direction", mock.sort.direction))
    if mock.paging is not None:
        wanted.append((f"{at}/paging/page", mock.paging.page))
        if mock.paging.size_param is not None:
            wanted.append((f"{at}/paging/size_param", mock.paging.size_param))
    for where, name in wanted:
        if name not in documented:
            yield (
                where,
                f"query parameter {name!r} is not a parameter of the operation ({', '.join(sorted(documented)) or 'none'})",
            )


def _rules(
    spec: ApiSpec, operation: Operation, rules: Iterable[RuleDecl], fields: set[str] | None, at: str
) -> Problems:
    api = spec.mock
    for index, rule in enumerate(rules):
        where = f"{at}/{index}"
        named: list[tuple[str, str]] = [(f"{where}/unique/{i}", name) for i, name in enumerate(rule.unique)]
        if rule.exists is not None:
            yield from _resource(api, rule.exists.resource, f"{where}/exists/resource")
            named.append((f"{where}/exists/key", rule.exists.key))
            named += [(f"{where}/exists/when{pointer(name)}", name) for name in rule.exists.when]
        if rule.empty is not None:
            yield from _resource(api, rule.empty.resource, f"{where}/empty/resource")
        for i, relation in enumerate(rule.not_referenced_by):
            yield from _resource(api, relation.resource, f"{where}/not_referenced_by/{i}/resource")
        if fields is not None:  # where the record's fields are known (a body schema with properties)
            for place, name in named:
                if name not in fields:
                    yield place, f"{name!r} is not a field of the record ({', '.join(sorted(fields))})"
        if rule.respond is not None:
            yield from _reply(operation, rule.respond, f"{where}/respond", context.OPERATION)
            if rule.after:  # the framework's after-hooks add messages to the 422; an answer of its own is the action's
                yield (
                    f"{where}/after",
                    "an after-hook adds a validation `error`; a rule that `respond`s is the action's own check",
                )


def _reply(
    operation: Operation, reply: ReplyDecl, at: str, roots: frozenset[str], *, documented: bool = True
) -> Problems:
    """A reply answers a documented status (error envelopes may not), with a body or a documented example."""
    status = str(reply.status)
    if (documented or not reply.has_body) and status not in operation.responses:
        yield (
            f"{at}/status",
            f"{status} is not a documented response of the operation ({', '.join(operation.responses)})",
        )
        return
    if reply.has_body:
        yield from _template(reply.body, roots, f"{at}/body")
        return
    examples = operation.examples(status)
    if reply.example is not None and reply.example not in examples:
        yield (
            f"{at}/example",
            f"response {status} has no example named {reply.example!r} ({', '.join(examples) or 'none'})",
        )
    elif not examples:
        yield at, f"needs a body: response {status} documents no example to answer with"


def _resource(api: ApiMock, name: str, at: str) -> Problems:
    if name not in api.resources:
        yield at, f"unknown resource {name!r}; x-mock.resources declares {', '.join(api.resources) or 'none'}"


def _fields(templates: Mapping[str, Any], roots: frozenset[str], at: str) -> Problems:
    for name, template in templates.items():
        yield from _template(template, roots, at + pointer(name))


def _template(template: Any, roots: frozenset[str], at: str) -> Problems:
    for where, expression, in_item in context.placeholders(template, at):
        root, filter_name = context.expression_root(expression)
        allowed = roots | {context.EACH_ITEM} if in_item else roots
        if root not in allowed:
            yield (
                where,
                f"${{{expression}}} names {root!r}, which is not in the context here ({', '.join(sorted(allowed))})",
            )
        elif filter_name is not None and not context.known_filter(filter_name):
            yield (
                where,
                f"${{{expression}}} uses the filter {filter_name!r}; the filters are string and pad:N (N from 1 to 32)",
            )


def _formulas(formulas: Mapping[str, str], roots: frozenset[str], at: str) -> Problems:
    """Each formula parses, and each name it reads is one the context binds (a typo would read null).

    What a formula may do beyond that (its functions, its syntax) is checked where it is compiled.
    """
    for name, text in formulas.items():
        try:
            tree = ast.parse(text, mode="eval")
        except SyntaxError as exc:
            yield at + pointer(name), f"formula {text!r} does not parse: {exc.msg}"
            continue
        called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and id(node) not in called and node.id not in roots:
                known = ", ".join(sorted(roots))
                yield (
                    at + pointer(name),
                    f"formula {text!r} names {node.id!r}, which is not in the context here ({known})",
                )
                break


def _documented_fields(document: Any) -> set[str]:
    """Every property name any schema of the document declares, at any depth.

    One walk into one set: a set per node united upwards was a tenth of a second of each start.
    """
    found: set[str] = set()
    pending = [document]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            properties = node.get("properties")
            if isinstance(properties, dict):
                found.update(str(name) for name in properties)
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found


def _names(schema: Mapping[str, Any]) -> set[str]:
    return set(merged_properties(schema))
