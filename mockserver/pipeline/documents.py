"""What issuing documents needs beyond plain records: numbers, linked records, outcomes and files.

* `Numbering` (`x-mock.number`): a create takes the next value of a counter
  record (found by its match fields, created at 0 on first use) and sets
  fields from it, e.g. `numero_completo: "${body.serie}-${n|pad:6}"`.
* `Resolver` (`x-mock.resolve`): a field gets the id of the record of another
  resource that has the same match fields as a part of the body, created from
  that part when none has (a "first or create").
* `Gatherer` (`x-mock.gather`): a create collects the records of another
  resource that match, one element of a list field each, and links them to
  the new record (a day's report of the entries still open).
* `FurtherWrites` (`x-mock.also`): once its own record is written, an
  operation writes (or creates) records of other resources too, e.g. a
  first-run setup that registers an organisation, its head office and the caller's link to it.
* `ChildUpdates` (`x-mock.set_children`): an update also sets fields on the
  record's children of a list (the lines of an order that ships).
* `Outcomes` (`x-mock.outcomes`): an update answers one of several declared
  cases when a caller asks for it with `Prefer: <key>=<case>[:<argument>]` or
  an operation's control names it.
* `FileRenderer` (`x-mock.file`): a read answers a file rendered from
  templates that live beside the spec: text (XML), a zip of rendered entries,
  or a PDF whose page size the request names.
"""

from __future__ import annotations

import functools
import io
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mockserver.errors import BadPreference
from mockserver.expressions.formulas import Formula, compile_formula
from mockserver.expressions.templates import Render, compile_template, shape
from mockserver.pipeline.responses import Reply, ReplyTemplate, reply_template
from mockserver.spec import cache
from mockserver.spec.context import ALSO, VALUE_ROOTS
from mockserver.spec.model import AlsoDecl, FileDecl, GatherDecl, NumberDecl, OutcomesDecl, ResolveDecl
from mockserver.spec.openapi import Operation
from mockserver.spec.pointers import parse_pointer, value_at
from mockserver.spec.schemas import merged_properties
from mockserver.state.store import Record, ResourceConfig, Row, Store, Stored, Table

if TYPE_CHECKING:
    import jinja2

#: how a behaviour stores a new record (sequences, timestamps, a fresh id)
Insert = Callable[[Table, Record, str], Stored]
#: how a behaviour changes a stored record (its update timestamp too): table, record, changes, now
Change = Callable[[Table, Mapping[str, Any], Record, str], None]


class Numbering:
    def __init__(self, declared: NumberDecl) -> None:
        self.resource = declared.counter.resource
        self.match = {name: compile_template(value) for name, value in declared.counter.match.items()}
        self.field = declared.counter.field
        self.set = {name: compile_template(value) for name, value in declared.set.items()}

    def __call__(self, store: Store, context: dict[str, Any], insert: Insert) -> dict[str, Any]:
        table = store.table(self.resource)
        criteria = {name: render(context) for name, render in self.match.items()}
        counter: Stored | None = next(iter(table.find(criteria)), None)
        if counter is None:  # created on first use, as having taken no number yet
            counter = insert(table, {**table.config.declared.defaults, **criteria, self.field: 0}, context["now"])
        n = int(counter.get(self.field) or 0) + 1
        table.update(counter["id"], {self.field: n})
        numbered = {**context, "n": n}
        return {name: render(numbered) for name, render in self.set.items()}


class Resolver:
    def __init__(self, field: str, declared: ResolveDecl, operation: Operation) -> None:
        self.field = field
        self.resource = declared.resource
        self.pointer = parse_pointer(declared.source)
        self.match = declared.match
        # a new record has every field the body part declares, null where it was not sent
        self.fields = list(merged_properties(operation.body_schema_at(self.pointer)))

    def __call__(self, store: Store, context: Mapping[str, Any], insert: Insert) -> Any:
        part = value_at(context.get("body"), self.pointer)
        if not isinstance(part, Mapping):
            return None
        table = store.table(self.resource)
        found = next(iter(table.find({name: part.get(name) for name in self.match})), None)
        if found is not None:  # reused as stored: what the body says about it now is not written
            return found["id"]
        sent = {name: part.get(name) for name in self.fields or part if not isinstance(part.get(name), dict)}
        record = {**table.config.declared.defaults, **sent}
        return insert(table, record, context["now"])["id"]


class Gatherer:
    def __init__(self, declared: GatherDecl, operation: Operation) -> None:
        self.resource = declared.resource
        self.where = {name: compile_template(value) for name, value in declared.where.items()}
        self.link = declared.link
        self.into = declared.into
        self.item = compile_template(dict(declared.item))
        self.none = reply_template(declared.none, operation)

    def find(self, store: Store, context: Mapping[str, Any]) -> list[Row]:
        """The records to gather, in id order; the `none` answer when there are none."""
        table = store.table(self.resource)
        rows = [
            Row(table, record) for record in table.find({name: render(context) for name, render in self.where.items()})
        ]
        if not rows:
            raise self.none(context)
        return rows

    def items(self, rows: list[Row], context: Mapping[str, Any]) -> list[Any]:
        return [self.item({**context, "item": row}) for row in rows]

    def link_to(self, store: Store, rows: list[Row], record_id: Any) -> None:
        table = store.table(self.resource)
        for row in rows:
            table.update(row["id"], {self.link: record_id})


@dataclass(frozen=True)
class _Write:
    name: str
    resource: str
    match: dict[str, Render]
    set: dict[str, Render]
    upsert: bool
    when: Formula | None


class FurtherWrites:
    """Records of other resources an operation writes once its own is written (`also`), in order.

    Each is bound as `also.<name>` (the record written, or null when its `when` does not hold or, without
    `upsert`, nothing matches), so the next writes and the response can name it.
    """

    def __init__(self, declared: Mapping[str, AlsoDecl], pointer: str) -> None:
        self.writes = [
            _Write(
                name,
                write.resource,
                {key: compile_template(value) for key, value in write.match.items()},
                {key: compile_template(value) for key, value in write.set.items()},
                write.upsert,
                compile_formula(write.when, f"{pointer}/also/{name}/when") if write.when is not None else None,
            )
            for name, write in declared.items()
        ]

    def index_fields(self) -> dict[str, set[tuple[str, ...]]]:
        """The fields the writes look records up by, by resource."""
        fields: dict[str, set[tuple[str, ...]]] = {}
        for write in self.writes:
            fields.setdefault(write.resource, set()).add(tuple(write.match))
        return fields

    def __call__(self, store: Store, context: dict[str, Any], insert: Insert, change: Change) -> None:
        written: dict[str, Row | None] = {}
        context[ALSO] = written
        for write in self.writes:
            written[write.name] = self._write(write, store, context, insert, change)

    def _write(
        self, write: _Write, store: Store, context: dict[str, Any], insert: Insert, change: Change
    ) -> Row | None:
        if write.when is not None:
            names = {key: context.get(key) for key in VALUE_ROOTS} | {ALSO: context[ALSO]}
            if not write.when(names):
                return None
        table = store.table(write.resource)
        criteria = {key: render(context) for key, render in write.match.items()}
        changes = {key: render(context) for key, render in write.set.items()}
        found = next(iter(table.find(criteria)), None)
        if found is None:
            if not write.upsert:
                return None
            return Row(table, insert(table, {**table.config.declared.defaults, **criteria, **changes}, context["now"]))
        change(table, found, changes, context["now"])
        return Row(table, found)


class ChildUpdates:
    """Fields an update sets on the record's children of the lists it names (`set_children`)."""

    def __init__(self, declared: Mapping[str, Mapping[str, Any]], config: ResourceConfig) -> None:
        self.lists = [
            (config.declared.children[name], {field: compile_template(value) for field, value in fields.items()})
            for name, fields in declared.items()
        ]

    def __call__(self, store: Store, record_id: Any, context: Mapping[str, Any]) -> None:
        for relation, fields in self.lists:
            table = store.table(relation.resource)
            changes = {name: render(context) for name, render in fields.items()}
            for child in list(table.find({relation.key: record_id})):
                table.update(child["id"], changes)


@dataclass
class Case:
    response: ReplyTemplate
    set: dict[str, Render]
    delay_seconds: float
    children: ChildUpdates


class Outcomes:
    def __init__(self, declared: OutcomesDecl, operation: Operation, config: ResourceConfig) -> None:
        self.prefer = declared.prefer
        self.operation = operation.operation_id
        self.declared = declared
        self.cases = {
            name: Case(
                reply_template(case.response, operation),
                {key: compile_template(value) for key, value in case.set.items()},
                case.delay_ms / 1000,
                ChildUpdates(case.set_children, config),
            )
            for name, case in declared.cases.items()
        }

    def _parse(self, requested: str) -> tuple[str, str | None]:
        refusal = self.declared.refusal(self.operation, requested)
        if refusal is not None:
            raise BadPreference(f"{self.prefer}={requested!r}: {refusal}")
        name, colon, argument = requested.partition(":")
        return name.strip(), argument.strip() if colon and argument.strip() else None

    def delay(self, requested: str | None) -> float:
        """How long the requested case waits before answering (a tax authority that times out)."""
        return self.cases[self._parse(requested)[0]].delay_seconds if requested else 0.0

    def pick(self, requested: str | None, context: dict[str, Any]) -> Case | None:
        """The case asked for, with `outcome` bound in the context; None for the ordinary answer."""
        if not requested:
            return None
        name, argument = self._parse(requested)
        declared = self.declared.cases[name]
        argument = argument or declared.argument
        message = declared.messages.get(argument or "", declared.messages.get("default", ""))
        context["outcome"] = {"name": name, "argument": argument, "message": message}
        return self.cases[name]


class FileRenderer:
    """Files rendered with Jinja2 (sandboxed: a template can read the record, never run code)."""

    def __init__(self, declared: FileDecl, operation: Operation, folder: Path) -> None:
        self.declared = declared
        self.folder = str(folder)
        self.entries = [(compile_template(name), file) for name, file in declared.entries.items()]
        for file in [*([declared.template] if declared.template else []), *declared.entries.values()]:
            key = _compiled_key(folder / file)
            # a template that compiled in an earlier start is compiled when first rendered; one that
            # does not compile fails the start, and is never marked
            if key is None or cache.read(COMPILED, key) is None:
                self.template_named(file)
                if key is not None:
                    cache.write(COMPILED, key, b"")
        self.filename = compile_template(declared.filename)
        self.page = compile_template(declared.page) if declared.page is not None else None
        self.missing = reply_template(declared.missing, operation)

    def template_named(self, file: str) -> jinja2.Template:
        """The compiled template (the environment keeps it; its loader notices an edited file)."""
        return _environment(self.folder).get_template(file)

    def __call__(self, context: dict[str, Any]) -> Reply:
        record = context["record"]
        if record.get(self.declared.requires) in (None, ""):
            raise self.missing(context)
        data = {**context, "record": shape(record, None) | _linked(record)}
        content = self._render(data, context)
        filename = str(self.filename(context))
        headers = {
            "Content-Type": self.declared.content_type,
            "Content-Disposition": f"{self.declared.disposition}; filename={filename}",
        }
        return Reply(200, content, headers)

    def _render(self, data: dict[str, Any], context: dict[str, Any]) -> bytes:
        kind = self.declared.kind
        if kind == "zip":
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for name, file in self.entries:
                    archive.writestr(str(name(context)), self.template_named(file).render(data))
            return buffer.getvalue()
        assert self.declared.template is not None  # the loader asks every text and pdf file for a template
        text = self.template_named(self.declared.template).render(data)
        if kind == "text":
            return text.encode()
        pages = self.declared.pages
        size_name = str(self.page(context)) if self.page is not None else ""
        return _pdf(text, pages.get(size_name) or next(iter(pages.values())))


@functools.lru_cache(maxsize=8)
def _environment(folder: str) -> jinja2.Environment:
    """One environment per templates folder, shared by every app of the process: a template is
    compiled once (its loader still notices an edited file, for hot reload).

    Compiled templates are also kept in the on-disk cache (`mockserver.spec.cache`): compiling the
    bundled ones was a fifth of the start-up. Jinja keys each by its source's checksum and its own
    and Python's versions, and a template that does not compile is never kept.

    Jinja2 is imported here, by the first template a process compiles or renders: a start whose
    templates all compiled in an earlier start does not import it (some 40 ms of CPU)."""
    import jinja2
    import jinja2.sandbox

    where = cache.folder("templates")
    return jinja2.sandbox.SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(folder),
        bytecode_cache=jinja2.FileSystemBytecodeCache(str(where)) if where is not None else None,
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("xml", "xml.j2", "html", "html.j2"), default_for_string=False
        ),
        undefined=jinja2.ChainableUndefined,
        keep_trailing_newline=True,
    )


#: the on-disk cache's kind for the marks of templates that compiled
COMPILED = "compiled-templates"


def _compiled_key(path: Path) -> str | None:
    """A template's key: its bytes and Jinja2's release (read without importing it)."""
    try:
        text = path.read_bytes()
    except OSError:
        return None
    return cache.document_key(text, COMPILED, cache.package_release("jinja2"))


def _linked(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record's relations and child lists, which a plain copy of its stored fields lacks."""
    config = getattr(getattr(record, "table", None), "config", None)
    if config is None:
        return {}
    names = [*config.declared.relations, *config.declared.children]
    return {name: shape(record.get(name), None) for name in names}


def _pdf(text: str, size: tuple[float, float]) -> bytes:
    """Lay the rendered text onto pages of the given size (mm): one line per line, long ones wrapped."""
    width, height = size
    margin = 5.0 if width < 100 else 12.0
    # imported on first use: fpdf2 brings fontTools and Pillow, over a second of the start-up on a busy machine
    from fpdf import FPDF

    pdf = FPDF(unit="mm", format=(width, height))
    pdf.set_margins(margin, margin, margin)
    pdf.set_auto_page_break(True, margin)
    pdf.add_page()
    font_size = 7 if width < 100 else 10
    for line in text.splitlines():
        bold = line.startswith("# ")
        pdf.set_font("Helvetica", "B" if bold else "", font_size + (2 if bold else 0))
        # the core fonts are Latin-1: Spanish letters are, anything beyond becomes "?"
        printable = (line[2:] if bold else line).encode("latin-1", "replace").decode("latin-1")
        pdf.multi_cell(0, font_size * 0.5, printable or " ", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
