"""Response templates: JSON-shaped data with `${...}` placeholders.

A spec writes the envelope an operation answers with as data, for example::

    body: {success: true, data: "${record}", meta: {total: "${page.total}"}}

Rules, kept deliberately small:

* A string that is exactly one placeholder is replaced by the value itself,
  keeping its JSON type (`"${page.total}"` renders as a number).
* Placeholders inside longer strings are interpolated as text.
* `path.to.value|string` renders the value as a string; `|pad:6` as text
  left-padded with zeros to six characters (`000042`).
* `{$each: "${records}", item: <template>}` renders one item per element,
  with the element bound to `item`.
* `{$only: <template>, keys: [...]}` renders the template's object with only
  the keys listed: a name, or a placeholder whose object lends its keys
  (`keys: ["${body}", id]`: the fields the request sent, and the id).
* `{$text: <template>, keep: [names]}` renders the template with every number
  and boolean in it as text (`5` -> `"5"`, `100.0` -> `"100"`, `true` -> `"1"`),
  as a PHP app's database rows come out; fields named in `keep` stay as they are.
* `{$merge: [<template>, ...]}` renders each template and joins the objects,
  later keys winning (`["${record}", {url: "${request.origin}/x/${record.id}"}]`:
  a record with links that need the request).

Templates are compiled once, next to the response schema at the same place.
Where a record lands on an object schema, the record is *projected* onto that
schema: only the declared properties are rendered, related records are
embedded where a property names a relation, and write-only fields never leak.
So the response schema decides what a record looks like in each response.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mockserver.spec.context import PLACEHOLDER as _PLACEHOLDER
from mockserver.spec.schemas import merged_properties

Context = Mapping[str, Any]
Render = Callable[[Context], Any]
MISSING = object()


@dataclass(frozen=True)
class View:
    """Which properties of a record a response shows (None = everything stored)."""

    fields: tuple[tuple[str, View | None], ...] | None = None
    items: View | None = None
    #: the names of `fields`, for a record that reads them all at once (`values_of`)
    names: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(name for name, _ in self.fields or ()))


#: views already worked out, by the schema's id (with the schema, so an id is not taken for another's)
_VIEWS: dict[int, tuple[Mapping[str, Any], View | None]] = {}
_VIEWS_KEPT = 20_000


def view_for(schema: Mapping[str, Any] | None) -> View | None:
    """The view a schema asks for; a resolved spec shares its components' schemas between responses,
    and working each one's view out again for every template was a tenth of the start-up."""
    if not isinstance(schema, Mapping):
        return None
    known = _VIEWS.get(id(schema))
    if known is not None and known[0] is schema:
        return known[1]
    view = _view_for(schema)
    if len(_VIEWS) >= _VIEWS_KEPT:  # a process that builds many apps (the tests) starts over
        _VIEWS.clear()
    _VIEWS[id(schema)] = (schema, view)
    return view


#: each schema's merged properties, by id as _VIEWS: read only, and the same sub-schemas each time, so
#: their views are worked out once too
_PROPERTIES: dict[int, tuple[Mapping[str, Any], dict[str, Any]]] = {}


def _properties(schema: Mapping[str, Any]) -> dict[str, Any]:
    known = _PROPERTIES.get(id(schema))
    if known is not None and known[0] is schema:
        return known[1]
    properties = merged_properties(schema)
    if len(_PROPERTIES) >= _VIEWS_KEPT:
        _PROPERTIES.clear()
    _PROPERTIES[id(schema)] = (schema, properties)
    return properties


def _view_for(schema: Mapping[str, Any]) -> View | None:
    properties = _properties(schema)
    if properties:
        return View(fields=tuple((name, view_for(sub)) for name, sub in properties.items() if not sub.get("writeOnly")))
    # a value may be any alternative's: it shows what any of them declares (the first alone would drop
    # an error's fields from a list that mixes successes and refusals)
    alternatives = [view for option in schema.get("oneOf", []) + schema.get("anyOf", []) if (view := view_for(option))]
    declared = [view.fields for view in alternatives if view.fields is not None]
    if declared:
        merged: dict[str, View | None] = {}
        for fields in declared:
            for name, sub in fields:
                merged.setdefault(name, sub)
        return View(fields=tuple(merged.items()))
    if alternatives:
        return alternatives[0]
    if isinstance(schema.get("items"), Mapping):
        return View(items=view_for(schema["items"]))
    return None


#: the types of JSON's leaves, which every view renders as they are
_LEAVES = frozenset({str, int, float, bool, type(None)})


def shape(value: Any, view: View | None) -> Any:
    """Render a value for JSON through a view (records become plain dicts).

    A leaf (most of a record's fields) is taken as it is without a call of its own, and found by its exact
    type before the `Mapping` check (an ABC's, much slower): a create's answer made 21 calls, a list page
    of 20 records over 400; this roughly halved the rendering's time.
    """
    if type(value) in _LEAVES:
        return value
    if isinstance(value, Mapping):
        if view is None or view.fields is None:
            return {key: item if type(item) in _LEAVES else shape(item, None) for key, item in value.items()}
        out = {}
        if type(value) is dict:
            get = value.get
            for name, sub in view.fields:
                item = get(name, MISSING)
                if item is not MISSING:
                    out[name] = item if type(item) in _LEAVES else shape(item, sub)
            return out
        # a stored record's view reads every field in one call (see `Row.values_of`)
        values_of = getattr(value, "values_of", None)
        items = values_of(view.names, MISSING) if values_of is not None else [value.get(n, MISSING) for n in view.names]
        for (name, sub), item in zip(view.fields, items, strict=True):
            if item is not MISSING:
                out[name] = item if type(item) in _LEAVES else shape(item, sub)
        return out
    if isinstance(value, (list, tuple)):
        item_view = view.items if view is not None else None
        return [item if type(item) in _LEAVES else shape(item, item_view) for item in value]
    return value


def compile_expression(expression: str) -> Render:
    path, _, filter_text = expression.strip().partition("|")
    head, *rest = path.strip().split(".")
    filter_name, _, argument = filter_text.strip().partition(":")
    to_string = filter_name == "string"
    pad_width = int(argument) if filter_name == "pad" and argument.isdigit() else None

    def lookup(context: Context) -> Any:
        value = context.get(head)
        for part in rest:
            if value is None:
                return None
            value = value.get(part) if isinstance(value, Mapping) else None
        if to_string and value is not None:
            return as_text(value)
        if pad_width is not None and value is not None:
            return as_text(value).rjust(pad_width, "0")
        return value

    return lookup


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)


def compile_template(template: Any, schema: Mapping[str, Any] | None = None) -> Render:
    """Compile a template; `schema` is the response schema at the same place."""
    if isinstance(template, str):
        return _compile_string(template, schema)
    if isinstance(template, Mapping):
        if "$each" in template:
            # the raw values, not rendered yet: each item is shaped by its own schema
            whole = _PLACEHOLDER.fullmatch(template["$each"])
            source = compile_expression(whole.group(1)) if whole else _compile_string(template["$each"], None)
            items_schema = schema.get("items") if isinstance(schema, Mapping) else None
            item = compile_template(template.get("item", "${item}"), items_schema)

            def each(context: Context) -> list[Any]:
                return [item({**context, "item": element}) for element in source(context) or ()]

            return each
        if "$only" in template:
            return _only(compile_template(template["$only"], schema), template.get("keys") or [])
        if "$merge" in template:
            return _merge([compile_template(part, schema) for part in template["$merge"] or ()])
        if "$text" in template:
            return _as_text_values(compile_template(template["$text"], schema), frozenset(template.get("keep") or ()))
        properties = _properties(schema) if isinstance(schema, Mapping) else {}
        parts = [(key, compile_template(value, properties.get(key))) for key, value in template.items()]
        return lambda context: {key: render(context) for key, render in parts}
    if isinstance(template, list):
        items_schema = schema.get("items") if isinstance(schema, Mapping) else None
        parts_list = [compile_template(value, items_schema) for value in template]
        return lambda context: [render(context) for render in parts_list]
    return lambda context: template


def _only(render: Render, keys: list[Any]) -> Render:
    key_renders = [compile_template(key) for key in keys]

    def only(context: Context) -> Any:
        rendered = render(context)
        if not isinstance(rendered, Mapping):
            return rendered
        allowed: set[str] = set()
        for key_render in key_renders:
            named = key_render(context)
            allowed |= set(named) if isinstance(named, Mapping) else {as_text(named)}
        return {key: value for key, value in rendered.items() if key in allowed}

    return only


def _merge(parts: list[Render]) -> Render:
    def merge(context: Context) -> Any:
        merged: dict[str, Any] = {}
        for render in parts:
            rendered = render(context)
            if isinstance(rendered, Mapping):
                merged.update(rendered)
        return merged

    return merge


def _as_text_values(render: Render, keep: frozenset[str]) -> Render:
    return lambda context: _texts(render(context), keep)


def _texts(value: Any, keep: frozenset[str]) -> Any:
    """Numbers and booleans as the text a PHP database row carries them in ("5", "100", "1"); null stays null."""
    if isinstance(value, Mapping):
        return {key: item if key in keep else _texts(item, keep) for key, item in value.items()}
    if isinstance(value, list):
        return [_texts(item, keep) for item in value]
    if value is True or value is False:
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _compile_string(text: str, schema: Mapping[str, Any] | None) -> Render:
    whole = _PLACEHOLDER.fullmatch(text)
    if whole:
        lookup = compile_expression(whole.group(1))
        view = view_for(schema)
        return lambda context: shape(lookup(context), view)
    return _text_template(text)


@functools.lru_cache(maxsize=4096)
def _text_template(text: str) -> Render:
    """`text` with each placeholder's value as text in its place."""
    pieces = _PLACEHOLDER.split(text)
    if len(pieces) == 1:
        return lambda context: text
    # split() alternates literal text and expressions.
    renderers = [
        (lambda context, literal=piece: literal) if index % 2 == 0 else _text_of(compile_expression(piece))
        for index, piece in enumerate(pieces)
    ]
    return lambda context: "".join(render(context) for render in renderers)


def _text_of(lookup: Render) -> Render:
    return lambda context: as_text(lookup(context))


def render_text(text: str, context: Context) -> str:
    """Interpolate a message template: a validation message, chosen per failure from the API's locale table.

    Compiled once per text: compiling it at every use took 7.5 µs a message against 3.3, and a 422
    renders several (five in the bench's invalid create).
    """
    return str(_text_template(text)(context))
