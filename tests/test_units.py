"""Unit tests of the engine's parts, each on small data of its own."""

from __future__ import annotations

import copy
import json
import pickle

import pytest

from mockserver.errors import BadPreference, FieldError, SpecError
from mockserver.expressions.templates import compile_template, render_text
from mockserver.pipeline.inputs import normalise, parse_json
from mockserver.pipeline.messages import Messages
from mockserver.pipeline.preferences import read_preference
from mockserver.pipeline.routing import Match, Miss, Router
from mockserver.pipeline.rules import beside as rules_beside
from mockserver.pipeline.rules import compile_rules
from mockserver.pipeline.validation import RequestValidator, scalar_coercer
from mockserver.spec.model import (
    CoercionDecl,
    OperationMock,
    Relation,
    ReplyDecl,
    ResourceMock,
    parse_api,
    parse_resource,
    parse_rule,
)
from mockserver.spec.openapi import Operation
from mockserver.state.shared import dumps as shared_dumps
from mockserver.state.store import ResourceConfig, Row, Store, sort_key


# -- templates ---------------------------------------------------------------
def test_whole_placeholder_keeps_type_and_text_interpolates():
    render = compile_template(
        {"total": "${page.total}", "label": "page ${page.number} of ${page.last}", "id": "${x|string}"}
    )
    assert render({"page": {"total": 3, "number": 1, "last": 2}, "x": 7}) == {
        "total": 3,
        "label": "page 1 of 2",
        "id": "7",
    }


def test_missing_values_render_as_null_or_empty_text():
    assert compile_template({"a": "${nope.deeper}", "b": "x${nope}y"})({}) == {"a": None, "b": "xy"}


def test_records_are_projected_onto_the_response_schema_with_relations():
    store = Store(
        {"things": ResourceConfig("things", ResourceMock(relations={"owner": Relation("people", "owner_id")}))}
    )
    store.load(
        {"people": [{"id": 1, "name": "Ana", "secret": "x"}], "things": [{"id": 5, "owner_id": 1, "hidden": True}]}, {}
    )
    schema = {
        "type": "object",
        "properties": {
            "data": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "owner": {
                        "oneOf": [{"type": "object", "properties": {"name": {"type": "string"}}}, {"type": "null"}]
                    },
                    "password": {"type": "string", "writeOnly": True},
                },
            }
        },
    }
    render = compile_template({"data": "${record}"}, schema)
    record = {**store.table("things").get(5), "password": "pw"}
    assert render({"record": Row(store.table("things"), record)}) == {"data": {"id": 5, "owner": {"name": "Ana"}}}


def test_each_wraps_every_item():
    render = compile_template({"$each": "${rows}", "item": {"Row": "${item}"}})
    assert render({"rows": [1, 2]}) == [{"Row": 1}, {"Row": 2}]


def test_render_text():
    assert (
        render_text("The ${field} must be at least ${limit}.", {"field": "age", "limit": 18})
        == "The age must be at least 18."
    )


# -- routing -----------------------------------------------------------------
def test_router_prefers_literal_segments_and_strips_suffixes():
    router: Router[str] = Router(suffixes=(".json",))
    router.add("GET", "/things/{id}", "show")
    router.add("POST", "/things/search", "search")
    router.add("GET", "/things", "list")
    assert router.match("POST", "/things/search") == Match("search", {})
    assert router.match("GET", "/things/7.json") == Match("show", {"id": "7"})
    assert router.match("GET", "/things.json") == Match("list", {})
    assert router.match("HEAD", "/things") == Match("list", {})
    assert router.match("DELETE", "/things/7") == Miss(allowed=["GET", "HEAD"])
    assert router.match("GET", "/other") == Miss(allowed=[])


def test_router_reads_each_templates_own_parameters_among_templates_of_one_length():
    router: Router[str] = Router()
    router.add("GET", "/orders/{order}/lines/{line}", "line")
    router.add("GET", "/orders/{order}/notes/{note}", "note")
    router.add("GET", "/{kind}/{id}/files/{name}", "file")
    router.add("GET", "/orders/{order}/lines/first", "first line")
    assert router.match("GET", "/orders/5/notes/9") == Match("note", {"order": "5", "note": "9"})
    assert router.match("GET", "/orders/5/lines/7") == Match("line", {"order": "5", "line": "7"})
    assert router.match("GET", "/orders/5/lines/first") == Match("first line", {"order": "5"})
    assert router.match("GET", "/invoices/3/files/a.pdf") == Match(
        "file", {"kind": "invoices", "id": "3", "name": "a.pdf"}
    )
    assert router.match("GET", "/orders/5/other/7") == Miss(allowed=[])


# -- state -------------------------------------------------------------------
def test_indexes_follow_inserts_updates_and_deletes():
    store = Store({})
    store.load({"t": [{"id": 1, "k": "a"}, {"id": 2, "k": "b"}]}, {"t": {("k",)}})
    table = store.table("t")
    assert [r["id"] for r in table.find({"k": "a"})] == [1]
    table.update(1, {"k": "b"})
    assert [r["id"] for r in table.find({"k": "b"})] == [1, 2] and list(table.find({"k": "a"})) == []
    table.delete(2)
    new = table.insert({"k": "b"})
    assert new["id"] == 3 and [r["id"] for r in table.find({"k": "b"})] == [1, 3]
    table.update(3, {"k": "a"})
    assert [r["id"] for r in table.find({"k": "a"})] == [3] and [r["id"] for r in table.find({"k": "b"})] == [1]
    table.delete(1)
    table.delete(3)
    assert list(table.find({"k": "a"})) == [] and list(table.find({"k": "b"})) == []


def test_a_stored_record_reads_and_copies_as_the_dict_it_was_written_as():
    store = Store({})
    store.load({"t": [{"id": 1, "k": "a", "tags": ["x"]}, {"k": None, "id": 2}]}, {"t": {("k",)}})
    table = store.table("t")
    first, second = table.get(1), table.get(2)
    assert first == {"id": 1, "k": "a", "tags": ["x"]} and list(second) == ["k", "id"]  # each its own key order
    table.update(1, {"extra": True, "k": "b"})  # a known key keeps its place, a new one goes last
    assert list(first.items()) == [("id", 1), ("k", "b"), ("tags", ["x"]), ("extra", True)]
    copied = copy.deepcopy(first)
    assert type(copied) is dict and copied == first and copied["tags"] is not first["tags"]
    assert json.loads(shared_dumps({"r": first})) == {"r": copied} and pickle.loads(pickle.dumps(first)) == copied
    # a record with no indexed field set is found all the same, in id order
    table.insert({"id": 0, "k": None})
    assert [r["id"] for r in table.find({"k": None})] == [0, 2]
    del first["extra"]
    first["k"] = "c"  # written on the view itself: the record changes, as a stored dict did
    assert table.get(1) == {"id": 1, "k": "c", "tags": ["x"]}
    table.delete(1)
    assert first["k"] == "c" and table.get(1) is None  # a view of a deleted record still reads it


def test_seed_is_copied_so_reset_restores_it():
    seed = {"t": [{"id": 1, "k": "a"}]}
    store = Store({})
    store.load(seed, {})
    store.table("t").update(1, {"k": "changed"})
    store.load(seed, {})
    assert store.table("t").get(1)["k"] == "a" and seed["t"][0]["k"] == "a"


def test_a_copied_store_is_private_to_its_session():
    store = Store({})
    store.load({"t": [{"id": 1, "k": "a", "tags": ["x"]}, {"id": 2, "k": "b"}]}, {"t": {("k",)}})
    original = store.table("t")
    assert original.next_in_sequence("k") == 1
    session = store.copy()  # a table lives as long as its store does (a session holds the store)
    copied = session.table("t")
    copied.update(1, {"k": "b"})
    copied.get(1)["tags"].append("y")  # a list value changed in place, as a behaviour may
    copied.delete(2)
    assert copied.insert({"k": "c"})["id"] == 3 and copied.next_in_sequence("k") == 2
    assert original.get(1) == {"id": 1, "k": "a", "tags": ["x"]} and original.get(2) == {"id": 2, "k": "b"}
    assert [r["id"] for r in original.find({"k": "b"})] == [2] and list(original.find({"k": "c"})) == []
    assert [r["id"] for r in copied.find({"k": "b"})] == [1]
    assert original.insert({"k": "z"})["id"] == 3 and original.next_in_sequence("k") == 2


def test_sequences_continue_after_the_largest_stored_number():
    store = Store({})
    store.load({"t": [{"id": 1, "n": "000041"}, {"id": 2, "n": ""}]}, {})
    assert store.table("t").next_in_sequence("n") == 42


def test_rules_beside_a_failed_schema_skip_failed_fields_and_what_cannot_be_judged():
    store = Store({})
    store.load({"owners": [{"id": 1}], "things": []}, {})

    def rule(data):
        mock = OperationMock(action="create", response=ReplyDecl(201), resource="things")
        return compile_rules([parse_rule(data)], Operation("op", "POST", "/x", [], None, {}, [], mock))[0]

    unknown = rule({"exists": {"resource": "owners", "key": "owner_id"}, "error": {"field": "owner_id"}})
    hook = rule({"exists": {"resource": "owners", "key": "owner_id"}, "error": {"field": "owner_id"}, "after": True})
    judged = rule({"deny_when": "size > 2", "error": {"field": "size"}})
    raising = rule({"deny_when": "size > 2", "error": {"field": "size", "rule": "never"}})
    raising.formula = lambda record: 1 / 0  # what a formula over an ill-typed body could do
    everything = [unknown, hook, judged, raising]

    def beside(candidate, failed):
        errors, hooks = rules_beside(everything, store, store.table("things"), candidate, None, {}, failed)
        return [(e.field, e.rule) for e in errors], [(e.field, e.rule) for e in hooks]

    assert beside({"owner_id": 9, "size": 5}, set()) == (
        [("owner_id", "exists"), ("size", "deny_when")],
        [("owner_id", "exists")],
    )
    # a field that failed its schema is looked up by no rule but the after-hook, which also finds no absent owner
    assert beside({"size": 5}, {"owner_id", "size"}) == ([], [("owner_id", "exists")])
    assert beside({"owner_id": 1, "size": 1}, set()) == ([], [])


# -- validation and messages -------------------------------------------------
def _validator(schema, body="", **api_input):
    op = Operation(
        "op",
        "POST",
        "/x",
        [],
        {"required": True, "content": {"application/json": {"schema": schema}}},
        {},
        [],
        OperationMock(action="create", response=ReplyDecl(201), resource="things", body=body),
    )
    return RequestValidator(op, **api_input)


def test_errors_follow_schema_order_and_rule_order():
    schema = {
        "type": "object",
        "required": ["b", "a"],
        "properties": {
            "a": {"type": "string"},
            "b": {"type": "string", "maxLength": 2, "pattern": "^x"},
            "c": {"type": "integer"},
        },
    }
    errors = _validator(schema).body({"b": "yyy", "c": "no"})
    assert [(e.field, e.rule) for e in errors] == [
        ("a", "required"),
        ("b", "maxLength"),
        ("b", "pattern"),
        ("c", "type.integer"),
    ]


def test_null_for_a_required_field_is_missing_and_strings_are_normalised():
    schema = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
    validator = _validator(schema)
    # as `InputReader` reads a body for an API that trims strings and makes "" null
    body = normalise(parse_json(b'{"name": "   "}'), trim=None, empty_to_null=True)
    assert body == {"name": None}
    assert [(e.field, e.rule) for e in validator.body(body)] == [("name", "required")]


def test_wrapped_records_report_fields_without_the_wrapper():
    schema = {
        "type": "object",
        "required": ["Thing"],
        "properties": {"Thing": {"type": "object", "properties": {"n": {"type": "integer"}}}},
    }
    validator = _validator(schema, body="/Thing")
    assert [(e.field, e.rule) for e in validator.body({"Thing": {"n": "x"}})] == [("n", "type.integer")]
    assert validator.record({"Thing": {"n": 1}}) == {"n": 1}


def coerce(text, schema):
    """A path or query string as `RequestValidator` reads it for its parameter's schema."""
    read = scalar_coercer(schema, CoercionDecl(), text=True)
    return read(text) if read is not None else text


def test_query_strings_are_read_as_their_declared_type():
    assert coerce("12", {"type": "integer"}) == 12
    assert coerce("1e3", {"type": "number"}) == 1000.0
    assert coerce("12", {"type": "string"}) == "12"
    assert coerce("9" * 40, {"type": "integer"}) == int("9" * 40)
    assert coerce("9" * 5000, {"type": "integer"}) == "9" * 5000  # too long for Python to parse: stays text


def test_messages_use_locale_overrides_and_shape():
    mock = parse_api(
        {
            "locale": "en",
            "validation_errors": "string",
            "locales": {
                "en": {"messages": {"required": "${field} is needed", "invalid": "${field} is odd"}},
                "es": {"attributes": {"email": "correo"}, "messages": {"required": "Falta ${attribute}"}},
            },
        },
        "api",
    )
    errors = [
        FieldError("email", "required"),
        FieldError("age", "minimum", {"limit": 1}, {"minimum": {"en": "too young"}}),
    ]
    assert Messages(mock).render(errors) == {"email": "email is needed", "age": "too young"}
    assert Messages(mock, "es").text(FieldError("email", "required")) == "Falta correo"
    assert Messages(mock).text(FieldError("x", "weird")) == "x is odd"


def test_summary_counts_the_other_messages():
    mock = parse_api({"locales": {"en": {"messages": {"required": "r", "more_many": "${first} (+${count})"}}}}, "api")
    assert Messages(mock).summary({"a": ["one", "two"], "b": ["three"]}) == "one (+2)"


# -- preferences -------------------------------------------------------------
def test_prefer_header_wins_over_query_and_is_checked():
    assert read_preference("code=404, example=gone", {"__code": "500"}).code == "404"
    assert read_preference(None, {"__code": "500"}).code == "500"
    assert read_preference(None, {}) is None
    with pytest.raises(BadPreference):
        read_preference("code=20", {})


def test_computed_fields_follow_children_and_win_over_stored_values():
    store = Store(
        {
            "docs": ResourceConfig.from_spec(
                "docs",
                parse_resource(
                    {
                        "children": {"Line": {"resource": "lines", "key": "doc_id"}},
                        "computed": {
                            "total": "round(sum(Line, 'subtotal') - discount, 2)",
                            "status": "2 if paid >= total else (1 if paid > 0 else 0)",
                        },
                    }
                ),
            ),
            "lines": ResourceConfig.from_spec(
                "lines", parse_resource({"computed": {"subtotal": "quantity * unit_price"}})
            ),
        }
    )
    doc = store.table("docs").insert({"discount": "1.5", "paid": None, "total": 999})
    store.table("lines").insert({"doc_id": doc["id"], "quantity": 2, "unit_price": "10.25"})
    store.table("lines").insert({"doc_id": doc["id"], "quantity": 1, "unit_price": 5})
    row = Row(store.table("docs"), doc)
    assert [line["subtotal"] for line in row["Line"]] == [20.5, 5]
    assert row["total"] == 24.0 and row["status"] == 0
    doc["paid"] = 30
    assert row["status"] == 2


@pytest.mark.parametrize("formula", ["__import__('os')", "open('x')", "a.__class__", "[x for x in y]", "lambda: 1"])
def test_formulas_cannot_run_code(formula):
    from mockserver.expressions.formulas import compile_formula

    with pytest.raises(SpecError):
        compile_formula(formula, "test")


def test_deleting_a_record_deletes_its_own_child_lists_only():
    store = Store(
        {
            "docs": ResourceConfig.from_spec(
                "docs", parse_resource({"children": {"Line": {"resource": "lines", "key": "doc_id"}}})
            ),
        }
    )
    kept, gone = store.table("docs").insert({}), store.table("docs").insert({})
    lines = store.table("lines")
    for doc in (kept, gone, gone):
        lines.insert({"doc_id": doc["id"]})
    store.table("docs").delete(gone["id"])
    assert [line["doc_id"] for line in lines] == [kept["id"]]


def test_fixtures_whose_records_are_not_objects_are_refused(tmp_path):
    from mockserver.pipeline.api import load_seed

    fixtures = tmp_path / "api.yaml"
    fixtures.write_text("companies: [1]\n")
    with pytest.raises(SpecError, match="must map each resource name to a list of records"):
        load_seed(fixtures)


def test_path_parameters_need_not_be_python_identifiers():
    router: Router[str] = Router()
    router.add("GET", "/t/{thing-id}/{a.b}", "read")
    router.add("GET", "/t/{id}", "one")
    found = router.match("GET", "/t/7/x.y")
    assert isinstance(found, Match)
    assert (found.target, found.params) == ("read", {"thing-id": "7", "a.b": "x.y"})
    one = router.match("GET", "/t/7")
    assert isinstance(one, Match)
    assert one.params == {"id": "7"}


def test_records_of_mixed_types_sort_and_odd_digits_are_no_numbers():
    store = Store({"things": ResourceConfig("things")})
    store.load({"things": [{"id": "b", "n": "²"}, {"id": 2, "n": "7"}, {"id": None}, {"id": 1.5, "n": 3}]}, {})
    table = store.table("things")
    assert [r["id"] for r in table] == [1.5, 2, "b", 3]  # numbers, then text; the id-less record numbered last
    assert sorted([None, "B", 2, "a", True, 1.5, [1]], key=sort_key) == [True, 1.5, 2, "a", "B", [1], None]
    table.ensure_index(("kind",))
    table.update("b", {"kind": "x"})
    table.update(2, {"kind": "x"})
    assert [r["id"] for r in table.find({"kind": "x"})] == [2, "b"]
    assert table.next_in_sequence("n") == 8  # "²" is not a number, though str.isdigit says it is


def test_dynamic_answers_compile_each_schema_once_and_merge_all_of_as_the_engine_does(monkeypatch):
    import jsonschema

    from mockserver.pipeline import dynamic

    compiled = []
    real = jsonschema.Draft202012Validator

    def counting(schema: dict[str, object]) -> object:
        compiled.append(schema)
        return real(schema)

    monkeypatch.setattr(jsonschema, "Draft202012Validator", counting)  # imported at the first compile
    schema = {
        "allOf": [
            {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]},
            {"properties": {"id": {"minimum": 5}, "name": {"type": "string"}}, "required": ["name"]},
        ]
    }
    generator = dynamic.DataGenerator("seed")
    for _ in range(3):
        value = generator.generate(schema)
        assert {"id", "name"} <= set(value) and value["id"] >= 5
    assert compiled == [schema]


def test_fixtures_may_be_tables_and_json_files_beside_them(tmp_path):
    from mockserver.spec.fixtures import load_seed

    (tmp_path / "api-data.json").write_text('{"places": {"columns": ["id", "name"], "rows": [["01", "Lima"]]}}')
    seed = tmp_path / "api.yaml"
    seed.write_text("places: {file: api-data.json}\nkinds: {columns: [id, label], rows: [[1, a], [2, b]]}\n")
    assert load_seed(seed) == {
        "places": [{"id": "01", "name": "Lima"}],
        "kinds": [{"id": 1, "label": "a"}, {"id": 2, "label": "b"}],
    }
    seed.write_text("kinds: {columns: [id, label], rows: [[1]]}\n")
    with pytest.raises(SpecError, match="a row must hold 2 values") as short:
        load_seed(seed)
    assert short.value.pointer == "/kinds/rows/0"
    seed.write_text("missing: {file: api-data.json}\n")
    with pytest.raises(SpecError, match="api-data.json has no missing"):
        load_seed(seed)
    seed.write_text("places: {file: ../elsewhere.json}\n")
    with pytest.raises(SpecError, match="names a .json file beside it"):
        load_seed(seed)


def test_document_formulas_spell_amounts_count_days_and_fix_any_size():
    from datetime import date, timedelta

    from mockserver.expressions.formulas import compile_formula

    def value(text: str, **record: object) -> object:
        return compile_formula(text, "test")(record)

    assert value("upper(spelled(236.29, 'es'))") == "DOSCIENTOS TREINTA Y SEIS"
    assert value("fixed(x)", x=9.5e307).endswith(".00") and value("fixed(x)", x=2.675) == "2.68"
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    assert value("days_ago(d, 'UTC')", d=yesterday) == 1 and value("days_ago(d, 'UTC')", d="nope") is None
    # `+` joins two lists, and still adds what it reads as numbers
    assert value("['common'] + compact([a, None])", a="own") == ["common", "own"]
    assert value("a + b", a="2", b=None) == 2


def test_in_looks_inside_literal_lists_and_list_fields_but_not_inside_text():
    from mockserver.expressions.formulas import compile_formula

    def value(text: str, **record: object) -> object:
        return compile_formula(text, "test")(record)

    assert value("'M1L' in flags", flags=["M1L", "X"]) is True and value("'M1L' not in flags", flags=[]) is True
    assert value("'M1L' in flags", flags=None) is False and value("'M1L' not in flags", flags=None) is True
    assert value("code in ('01', '03')", code="03") is True
    assert value("'M1' in words", words="M1L") is False  # text is no list: no substring match


def test_a_formula_call_its_function_cannot_take_is_refused_where_it_is_written():
    from mockserver.expressions.formulas import compile_formula

    # the language of the words is the spec's to name: the engine assumes none
    assert compile_formula("spelled(236, 'en')", "/x")({}) == "two hundred and thirty-six"
    with pytest.raises(
        SpecError, match=r"calls spelled\(\) wrongly: missing a required argument: 'language'"
    ) as raised:
        compile_formula("spelled(total)", "/x-mock/resources/notes/computed/words")
    assert raised.value.pointer == "/x-mock/resources/notes/computed/words"
    with pytest.raises(SpecError, match=r"calls round\(\) wrongly: too many positional arguments"):
        compile_formula("round(total, 2, 3)", "/x")
