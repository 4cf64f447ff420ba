"""The `x-mock` declarations as typed, frozen values.

`mockserver.spec.checks` validates a spec's raw `x-mock` against
`x-mock.schema.json` first, so the `parse_*` functions here read data whose
shape is known and only fill in defaults. The engine compiles from these
objects; nothing after loading reads raw `x-mock` dicts. Templates (JSON with
`${...}` placeholders) stay plain data: they are compiled by the pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

#: JSON with `${...}` placeholders, compiled by `mockserver.expressions.templates`
Template = Any
RuleKind = Literal["unique", "exists", "deny_if", "deny_when", "not_referenced_by", "empty", "balanced"]
RULE_KINDS: tuple[RuleKind, ...] = (
    "unique",
    "exists",
    "deny_if",
    "deny_when",
    "not_referenced_by",
    "empty",
    "balanced",
)


@dataclass(frozen=True, slots=True)
class ReplyDecl:
    """`{status, body?, example?, headers?}`: without a body, the documented example for the status."""

    status: int
    body: Template = None
    has_body: bool = False
    example: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Relation:
    """Records of `resource` linked through their (or our) field `key`."""

    resource: str
    key: str


@dataclass(frozen=True, slots=True)
class ExistsDecl:
    resource: str
    key: str
    where: Mapping[str, Any] = field(default_factory=dict)
    allow: tuple[Any, ...] = ()
    #: the rule applies only to a record whose fields hold these values (a polymorphic reference:
    #: `kind_id` names a record of one resource when `kind` holds that resource's name)
    when: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FieldErrorDecl:
    """A rule's validation error: the field it names and its wording (a message, or a locale rule)."""

    field: str
    rule: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class BalancedDecl:
    """`balanced`: over a list of the body, the sums of two fields are equal (to the cent)."""

    source: str
    fields: tuple[str, str]


@dataclass(frozen=True, slots=True)
class RuleDecl:
    """One business rule; exactly one of the kind fields is set, and `respond` or `error`."""

    kind: RuleKind
    unique: tuple[str, ...] = ()
    exists: ExistsDecl | None = None
    deny_if: Mapping[str, Any] = field(default_factory=dict)
    deny_when: str | None = None
    not_referenced_by: tuple[Relation, ...] = ()
    #: `empty`: the resource that must hold no record (matching `where`)
    empty: ExistsDecl | None = None
    balanced: BalancedDecl | None = None
    respond: ReplyDecl | None = None
    error: FieldErrorDecl | None = None


@dataclass(frozen=True, slots=True)
class ChildListDecl:
    """A child list a body carries: where it sits, and the rules each element must pass."""

    source: str
    rules: tuple[RuleDecl, ...] = ()


@dataclass(frozen=True, slots=True)
class FilterDecl:
    """A query filter on one field: equal to it, contained in one of several, a bound of a range, or a list it is in.

    `at_least` / `at_most` compare numbers as numbers and text by its leading part, so a date
    bound ("2026-01-15") takes in every time of that day.
    """

    equals: str | None = None
    contains: tuple[str, ...] = ()
    at_least: str | None = None
    at_most: str | None = None
    one_of: str | None = None


@dataclass(frozen=True, slots=True)
class SortDecl:
    """A list's order chosen by query parameters: the field named by `param`, `direction` asc or desc."""

    param: str = "sort"
    direction: str | None = None
    #: the fields a caller may sort by (any other value is ignored, as the documented order stays)
    fields: tuple[str, ...] = ()
    #: the direction when the caller names none
    descending: bool = False


@dataclass(frozen=True, slots=True)
class PagingDecl:
    page: str = "page"
    size: int = 20
    size_param: str | None = None


@dataclass(frozen=True, slots=True)
class ParentDecl:
    resource: str
    id: Template
    #: this operation's answer when the parent does not exist (None: the resource's own 404)
    missing: ReplyDecl | None = None


@dataclass(frozen=True, slots=True)
class CountDecl:
    """Records of `resource` matching `where`; with no resource, the records listed that match."""

    resource: str | None
    where: Mapping[str, Template]
    #: count the distinct values of this field among the records listed instead
    distinct: str | None = None


@dataclass(frozen=True, slots=True)
class EachDecl:
    """A create of every element of a body list (`x-mock.each`): where the list is, and a failed element's text."""

    source: str
    failure: Template


@dataclass(frozen=True, slots=True)
class QuirkDecl:
    """What an operation does instead under a realism profile: a merge patch of the operation, and its source."""

    profile: str
    source: str
    patch: Mapping[str, Any]
    description: str = ""


@dataclass(frozen=True, slots=True)
class CounterDecl:
    """A record of `resource` found by `match` (created at 0 when missing) whose `field` counts up."""

    resource: str
    match: Mapping[str, Template]
    field: str


@dataclass(frozen=True, slots=True)
class NumberDecl:
    """`number`: a create takes the counter's next value `n` and sets fields from it."""

    counter: CounterDecl
    set: Mapping[str, Template]


@dataclass(frozen=True, slots=True)
class ResolveDecl:
    """`resolve`: the id of a record of `resource` that has the `match` fields of the body part at `source`,
    created from that part when none has (first or create)."""

    resource: str
    source: str
    match: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AlsoDecl:
    """`also.<name>`: once the operation's own record is written, the record of `resource` matching `match`
    gets `set` (created from both when `upsert` and none matches), when the `when` formula holds."""

    resource: str
    match: Mapping[str, Template]
    set: Mapping[str, Template]
    upsert: bool = False
    when: str | None = None


@dataclass(frozen=True, slots=True)
class GatherDecl:
    """`gather`: a create collects the records of `resource` matching `where` into its field `into`
    (one `item` each, which sees the record as `item`) and links them to itself (`link`); none is `none`."""

    resource: str
    where: Mapping[str, Template]
    link: str
    into: str
    item: Mapping[str, Template]
    none: ReplyDecl


@dataclass(frozen=True, slots=True)
class OutcomeCase:
    """One alternative answer of an update: its changes, its reply, its wait and its texts."""

    response: ReplyDecl
    set: Mapping[str, Template] = field(default_factory=dict)
    #: child list -> fields set on each of the record's children in it
    set_children: Mapping[str, Mapping[str, Template]] = field(default_factory=dict)
    delay_ms: int = 0
    argument: str | None = None
    messages: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OutcomesDecl:
    """`outcomes`: cases a caller picks with `Prefer: <prefer>=<case>[:<argument>]` or a control."""

    prefer: str
    cases: Mapping[str, OutcomeCase]

    def refusal(self, operation_id: str, requested: str) -> str | None:
        """Why `requested` (`case[:argument]`) names no case of this operation; None when it names one."""
        name = requested.partition(":")[0].strip()
        if name in self.cases:
            return None
        return f"{operation_id} has no outcome {name!r}; declared: {', '.join(self.cases)}"


@dataclass(frozen=True, slots=True)
class FileDecl:
    """`file`: a read answers a file rendered from templates that live beside the spec."""

    kind: Literal["text", "zip", "pdf"]
    filename: Template
    content_type: str
    requires: str
    missing: ReplyDecl
    template: str | None = None
    entries: Mapping[str, str] = field(default_factory=dict)
    page: Template | None = None
    pages: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    #: `attachment` (a download) or `inline` (a page or document a browser shows)
    disposition: Literal["attachment", "inline"] = "attachment"


@dataclass(frozen=True, slots=True)
class OperationMock:
    """An operation's `x-mock`."""

    action: str
    response: ReplyDecl
    resource: str | None = None
    id: Template | None = None
    match: Mapping[str, Template] = field(default_factory=dict)
    body: str = ""
    defaults: Mapping[str, Template] = field(default_factory=dict)
    set: Mapping[str, Template] = field(default_factory=dict)
    #: `update`: child list -> fields set on each of the record's children in it
    set_children: Mapping[str, Mapping[str, Template]] = field(default_factory=dict)
    soft: Mapping[str, Template] = field(default_factory=dict)
    compute: Mapping[str, str] = field(default_factory=dict)
    #: formulas over the counts and the context, bound as `values` in the response
    values: Mapping[str, str] = field(default_factory=dict)
    #: `update` by `match`: a record with the match's values is created when none matches
    upsert: bool = False
    #: `update`: the body's fields are written onto the record (else only `set` and `compute` change it)
    merge_body: bool = True
    #: `delete`: every record `match` names goes, none is no 404 (a null match value matches any)
    every: bool = False
    each: EachDecl | None = None
    rules: tuple[RuleDecl, ...] = ()
    quirks: tuple[QuirkDecl, ...] = ()
    children: Mapping[str, ChildListDecl] = field(default_factory=dict)
    where: Mapping[str, Template] = field(default_factory=dict)
    filters: Mapping[str, FilterDecl] = field(default_factory=dict)
    order: tuple[str, ...] = ("id",)
    sort: SortDecl | None = None
    #: `bulk`: the operation each element of the body's list is answered by
    bulk_of: str | None = None
    paging: PagingDecl | None = None
    limit: int | None = None
    parent: ParentDecl | None = None
    counts: Mapping[str, CountDecl] = field(default_factory=dict)
    not_found: ReplyDecl | None = None
    #: the record the request names, missing, as this field's validation error (instead of a 404)
    not_found_error: FieldErrorDecl | None = None
    invalid_path: ReplyDecl | None = None
    errors: Mapping[str, ReplyDecl] = field(default_factory=dict)
    # login
    identity: Mapping[str, Template] = field(default_factory=dict)
    secret: Mapping[str, Template] = field(default_factory=dict)
    failure: ReplyDecl | None = None
    credential: str | None = None
    issue: Mapping[str, Template] = field(default_factory=dict)
    # documents: numbering, records a body names, alternative answers and files
    number: NumberDecl | None = None
    resolve: Mapping[str, ResolveDecl] = field(default_factory=dict)
    gather: GatherDecl | None = None
    also: Mapping[str, AlsoDecl] = field(default_factory=dict)
    outcomes: OutcomesDecl | None = None
    file: FileDecl | None = None


@dataclass(frozen=True, slots=True)
class ResourceMock:
    """`x-mock.resources.<name>`."""

    timestamps: Mapping[str, str] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    sequences: Mapping[str, Template] = field(default_factory=dict)
    relations: Mapping[str, Relation] = field(default_factory=dict)
    children: Mapping[str, Relation] = field(default_factory=dict)
    computed: Mapping[str, str] = field(default_factory=dict)
    not_found: ReplyDecl | None = None


@dataclass(frozen=True, slots=True)
class SchemeMock:
    """A security scheme's `x-mock`: where its credentials are stored and how a login issues one."""

    credentials: str
    key: str
    principal: Relation | None = None
    issue: Mapping[str, Template] = field(default_factory=dict)
    reject_headers: tuple[str, ...] = ()
    scopes: str = "scopes"
    #: the credential's field holding when it stops working (a timestamp); past it, it is refused as unknown
    expires: str | None = None


@dataclass(frozen=True, slots=True)
class LocaleDecl:
    messages: Mapping[str, str] = field(default_factory=dict)
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MethodOverrideDecl:
    """A POST routed as another method: named by a field of the input or by a header."""

    field: str | None = None
    header: str | None = None
    methods: tuple[str, ...] = ("PUT", "PATCH", "DELETE")


@dataclass(frozen=True, slots=True)
class CoercionDecl:
    """How the service reads a value whose type differs from the schema's (before validation)."""

    #: "5" or "12.50" read as the integer or number the schema wants
    numeric_strings: bool = False
    #: JSON numbers read as the string the schema wants ("password": 1234)
    numbers_as_strings: bool = False
    #: forms read as true / false where the schema wants a boolean (besides the booleans themselves)
    true_values: tuple[Any, ...] = ()
    false_values: tuple[Any, ...] = ()
    #: "" read as null where the schema wants a number, an integer or a boolean and allows null
    blank_as_null: bool = False
    #: one object where the schema wants a list of objects read as a list of it
    single_as_list: bool = False


@dataclass(frozen=True, slots=True)
class InputLimitsDecl:
    """`x-mock.input.limits`: how much one body may nest or carry (the engine's bounds unless declared)."""

    #: how deeply a JSON body may nest (the reader itself stops at 1024)
    json_depth: int = 512
    #: how deeply a form's bracket keys may nest
    form_depth: int = 64
    #: how many fields (and files) one form may carry
    form_fields: int = 1000


@dataclass(frozen=True, slots=True)
class InputDecl:
    """`x-mock.input`: how the service reads a request's input before it validates it."""

    trim_strings: bool = False
    #: the characters `trim_strings` strips; None for any whitespace
    trim_characters: str | None = None
    empty_strings_to_null: bool = False
    limits: InputLimitsDecl = field(default_factory=InputLimitsDecl)
    #: the body encodings read: json, form (urlencoded), multipart
    bodies: tuple[str, ...] = ("json",)
    #: the query string's parameters are part of the body's input (the body wins)
    merge_query: bool = False
    method_override: MethodOverrideDecl | None = None
    #: the only methods whose multipart body is read (empty: every method)
    multipart_methods: tuple[str, ...] = ()
    coerce: CoercionDecl = field(default_factory=CoercionDecl)


@dataclass(frozen=True, slots=True)
class DriftDecl:
    """`x-mock.drift`: what differs between any two honest servers, so `mockserver drift` leaves it uncompared."""

    #: field names (at any depth of an answer) whose values are not compared; their presence and type are
    volatile: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ApiMock:
    """The document-level `x-mock`."""

    name: str
    prefix: str = ""
    #: further path prefixes it owns outside `prefix` (an OAuth token endpoint at the root, say)
    also_owns: tuple[str, ...] = ()
    fixtures: str | None = None
    path_suffixes: tuple[str, ...] = ()
    timestamp_format: str = "%Y-%m-%dT%H:%M:%SZ"
    input: InputDecl = field(default_factory=InputDecl)
    unknown_parameters: str | None = None
    locale: str | None = None
    locales: Mapping[str, LocaleDecl] = field(default_factory=dict)
    validation_errors: str = "list"
    errors: Mapping[str, ReplyDecl] = field(default_factory=dict)
    resources: Mapping[str, ResourceMock] = field(default_factory=dict)
    drift: DriftDecl = field(default_factory=DriftDecl)
    #: realism profile name -> what it reproduces
    profiles: Mapping[str, str] = field(default_factory=dict)
    #: the records the path names are looked up before validation (Laravel's route-model binding)
    bind_before_validation: bool = False


@dataclass(frozen=True, slots=True)
class CertificationCheck:
    """One schemathesis check's settings under `x-certification`, with the reason they differ."""

    reason: str
    settings: Mapping[str, Any] = field(default_factory=dict)


# -- parsing validated data --------------------------------------------------


def parse_reply(data: Mapping[str, Any], default_status: int | None = None) -> ReplyDecl:
    return ReplyDecl(
        status=int(data.get("status", default_status)),
        body=data.get("body"),
        has_body="body" in data,
        example=data.get("example"),
        headers={str(k): str(v) for k, v in (data.get("headers") or {}).items()},
    )


def _field_error(data: Mapping[str, Any] | None) -> FieldErrorDecl | None:
    return FieldErrorDecl(data["field"], data.get("rule"), data.get("message")) if data is not None else None


def _optional_reply(data: Mapping[str, Any] | None) -> ReplyDecl | None:
    return parse_reply(data) if data is not None else None


def parse_relation(data: Mapping[str, Any]) -> Relation:
    return Relation(resource=data["resource"], key=data["key"])


def parse_rule(data: Mapping[str, Any]) -> RuleDecl:
    kind = next(k for k in RULE_KINDS if k in data)
    exists = data.get("exists")
    error = data.get("error")
    return RuleDecl(
        kind=kind,
        unique=tuple(data.get("unique") or ()),
        exists=ExistsDecl(
            exists["resource"],
            exists["key"],
            dict(exists.get("where") or {}),
            tuple(exists.get("allow") or ()),
            dict(exists.get("when") or {}),
        )
        if exists is not None
        else None,
        deny_if=dict(data.get("deny_if") or {}),
        deny_when=data.get("deny_when"),
        empty=ExistsDecl(data["empty"]["resource"], "", dict(data["empty"].get("where") or {}))
        if data.get("empty") is not None
        else None,
        not_referenced_by=tuple(parse_relation(r) for r in data.get("not_referenced_by") or ()),
        balanced=BalancedDecl(data["balanced"]["from"], tuple(data["balanced"]["fields"]))
        if "balanced" in data
        else None,
        respond=_optional_reply(data.get("respond")),
        error=_field_error(error),
    )


def parse_rules(data: Any) -> tuple[RuleDecl, ...]:
    return tuple(parse_rule(rule) for rule in data or ())


def _child_list(data: str | Mapping[str, Any]) -> ChildListDecl:
    if isinstance(data, str):
        return ChildListDecl(source=data)
    return ChildListDecl(source=data["from"], rules=parse_rules(data.get("rules")))


def _count(data: Mapping[str, Any]) -> CountDecl:
    if "resource" in data:
        return CountDecl(resource=data["resource"], where=dict(data.get("where") or {}))
    if "$distinct" in data:
        return CountDecl(resource=None, where={}, distinct=data["$distinct"])
    return CountDecl(resource=None, where=dict(data))


def parse_operation(data: Mapping[str, Any]) -> OperationMock:
    paging = data.get("paging")
    sort = data.get("sort")
    parent = data.get("parent")
    each = data.get("each")
    return OperationMock(
        action=data["action"],
        response=parse_reply(data["response"], default_status=200),
        resource=data.get("resource"),
        id=data.get("id"),
        match=dict(data.get("match") or {}),
        body=data.get("body") or "",
        defaults=dict(data.get("defaults") or {}),
        set=dict(data.get("set") or {}),
        set_children=_set_children(data.get("set_children")),
        soft=dict(data.get("soft") or {}),
        compute=dict(data.get("compute") or {}),
        values=dict(data.get("values") or {}),
        upsert=bool(data.get("upsert")),
        merge_body=bool(data.get("merge_body", True)),
        every=bool(data.get("every")),
        each=EachDecl(each["from"], each["failure"]) if each is not None else None,
        rules=parse_rules(data.get("rules")),
        quirks=tuple(
            QuirkDecl(q["profile"], q["source"], dict(q["patch"]), q.get("description", ""))
            for q in data.get("quirks") or ()
        ),
        children={name: _child_list(value) for name, value in (data.get("children") or {}).items()},
        where=dict(data.get("where") or {}),
        filters={
            name: FilterDecl(
                value.get("equals"),
                tuple(value.get("contains") or ()),
                value.get("at_least"),
                value.get("at_most"),
                value.get("one_of"),
            )
            for name, value in (data.get("filters") or {}).items()
        },
        order=tuple(data.get("order") or ("id",)),
        bulk_of=data.get("bulk_of"),
        sort=SortDecl(
            sort.get("param", "sort"),
            sort.get("direction"),
            tuple(sort.get("fields") or ()),
            sort.get("default") == "desc",
        )
        if sort is not None
        else None,
        paging=PagingDecl(paging.get("page", "page"), int(paging.get("size", 20)), paging.get("size_param"))
        if paging is not None
        else None,
        limit=data.get("limit"),
        parent=ParentDecl(parent["resource"], parent["id"], _optional_reply(parent.get("missing")))
        if parent is not None
        else None,
        counts={name: _count(value) for name, value in (data.get("counts") or {}).items()},
        not_found=_optional_reply(data.get("not_found")),
        not_found_error=_field_error(data.get("not_found_error")),
        invalid_path=_optional_reply(data.get("invalid_path")),
        errors={name: parse_reply(value) for name, value in (data.get("errors") or {}).items()},
        identity=dict(data.get("identity") or {}),
        secret=dict(data.get("secret") or {}),
        failure=_optional_reply(data.get("failure")),
        credential=data.get("credential"),
        issue=dict(data.get("issue") or {}),
        number=_number(data.get("number")),
        resolve={
            name: ResolveDecl(value["resource"], value["from"], tuple(value["match"]))
            for name, value in (data.get("resolve") or {}).items()
        },
        gather=_gather(data.get("gather")),
        also={
            name: AlsoDecl(
                value["resource"],
                dict(value["match"]),
                dict(value["set"]),
                bool(value.get("upsert")),
                value.get("when"),
            )
            for name, value in (data.get("also") or {}).items()
        },
        outcomes=_outcomes(data.get("outcomes")),
        file=_file(data.get("file")),
    )


def _number(data: Mapping[str, Any] | None) -> NumberDecl | None:
    if data is None:
        return None
    counter = data["counter"]
    return NumberDecl(CounterDecl(counter["resource"], dict(counter["match"]), counter["field"]), dict(data["set"]))


def _set_children(data: Mapping[str, Any] | None) -> dict[str, Mapping[str, Template]]:
    return {name: dict(fields) for name, fields in (data or {}).items()}


def _gather(data: Mapping[str, Any] | None) -> GatherDecl | None:
    if data is None:
        return None
    return GatherDecl(
        data["resource"], dict(data["where"]), data["link"], data["into"], dict(data["item"]), parse_reply(data["none"])
    )


def _outcomes(data: Mapping[str, Any] | None) -> OutcomesDecl | None:
    if data is None:
        return None
    cases = {
        name: OutcomeCase(
            response=parse_reply(case["response"], default_status=200),
            set=dict(case.get("set") or {}),
            set_children=_set_children(case.get("set_children")),
            delay_ms=int(case.get("delay", 0)),
            argument=case.get("argument"),
            messages=dict(case.get("messages") or {}),
        )
        for name, case in data["cases"].items()
    }
    return OutcomesDecl(data["prefer"], cases)


def _file(data: Mapping[str, Any] | None) -> FileDecl | None:
    if data is None:
        return None
    return FileDecl(
        kind=data["kind"],
        filename=data["filename"],
        content_type=data["content_type"],
        requires=data["requires"],
        missing=parse_reply(data["missing"]),
        template=data.get("template"),
        entries=dict(data.get("entries") or {}),
        page=data.get("page"),
        pages={name: (float(size[0]), float(size[1])) for name, size in (data.get("pages") or {}).items()},
        disposition=data.get("disposition", "attachment"),
    )


def parse_resource(data: Mapping[str, Any]) -> ResourceMock:
    return ResourceMock(
        timestamps=dict(data.get("timestamps") or {}),
        defaults=dict(data.get("defaults") or {}),
        sequences=dict(data.get("sequences") or {}),
        relations={name: parse_relation(value) for name, value in (data.get("relations") or {}).items()},
        children={name: parse_relation(value) for name, value in (data.get("children") or {}).items()},
        computed=dict(data.get("computed") or {}),
        not_found=_optional_reply(data.get("not_found")),
    )


def parse_scheme(data: Mapping[str, Any]) -> SchemeMock:
    principal = data.get("principal")
    return SchemeMock(
        credentials=data["credentials"],
        key=data["key"],
        principal=parse_relation(principal) if principal is not None else None,
        issue=dict(data.get("issue") or {}),
        reject_headers=tuple(data.get("reject_headers") or ()),
        scopes=data.get("scopes", "scopes"),
        expires=data.get("expires"),
    )


def parse_input(data: Mapping[str, Any]) -> InputDecl:
    override = data.get("method_override")
    coerce = data.get("coerce") or {}
    return InputDecl(
        trim_strings=bool(data.get("trim_strings")),
        trim_characters=data.get("trim_characters"),
        empty_strings_to_null=bool(data.get("empty_strings_to_null")),
        limits=InputLimitsDecl(**(data.get("limits") or {})),
        bodies=tuple(data.get("bodies") or ("json",)),
        merge_query=bool(data.get("merge_query")),
        method_override=MethodOverrideDecl(
            field=override.get("field"),
            header=override.get("header"),
            methods=tuple(m.upper() for m in override.get("methods") or ("PUT", "PATCH", "DELETE")),
        )
        if override is not None
        else None,
        multipart_methods=tuple(data.get("multipart_methods") or ()),
        coerce=CoercionDecl(
            numeric_strings=bool(coerce.get("numeric_strings")),
            numbers_as_strings=bool(coerce.get("numbers_as_strings")),
            true_values=tuple(coerce.get("true_values") or ()),
            false_values=tuple(coerce.get("false_values") or ()),
            blank_as_null=bool(coerce.get("blank_as_null")),
            single_as_list=bool(coerce.get("single_as_list")),
        ),
    )


def parse_api(data: Mapping[str, Any], default_name: str) -> ApiMock:
    return ApiMock(
        name=data.get("name") or default_name,
        prefix=data.get("prefix", ""),
        also_owns=tuple(data.get("also_owns") or ()),
        fixtures=data.get("fixtures"),
        path_suffixes=tuple(data.get("path_suffixes") or ()),
        timestamp_format=data.get("timestamp_format", "%Y-%m-%dT%H:%M:%SZ"),
        input=parse_input(data.get("input") or {}),
        unknown_parameters=data.get("unknown_parameters"),
        locale=data.get("locale"),
        locales={
            name: LocaleDecl(dict(value.get("messages") or {}), dict(value.get("attributes") or {}))
            for name, value in (data.get("locales") or {}).items()
        },
        validation_errors=data.get("validation_errors", "list"),
        errors={name: parse_reply(value) for name, value in (data.get("errors") or {}).items()},
        resources={name: parse_resource(value or {}) for name, value in (data.get("resources") or {}).items()},
        drift=DriftDecl(
            tuple((data.get("drift") or {}).get("volatile") or ()), (data.get("drift") or {}).get("reason", "")
        ),
        profiles={name: value["description"] for name, value in (data.get("profiles") or {}).items()},
        bind_before_validation=bool(data.get("bind_before_validation")),
    )


def parse_certification(data: Mapping[str, Any] | None) -> dict[str, CertificationCheck]:
    checks = {}
    for name, declared in ((data or {}).get("checks") or {}).items():
        settings = dict(declared)
        checks[name] = CertificationCheck(reason=str(settings.pop("reason")), settings=settings)
    return checks
