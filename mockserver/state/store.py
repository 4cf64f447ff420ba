"""In-memory state: one table of records per resource, with indexes.

Every write happens synchronously inside one request handler, with no await
between the checks and the write, so on the single event loop a check-then-
insert is atomic: two concurrent creates of the same unique key cannot both
pass. A shared backend (state.redis) keeps such a store as its local copy and
sets `Store.changes`, so the writes of one request can be sent as one atomic
commit, or undone when another process wrote first.

Records are kept compact: a table keeps each distinct key order once (a `Shape`), and a record is a
list of its shape and its values, so 100,000 records of 22 fields hold no dict each (a dict of 22 keys
is some 1.2 KB, the list about 240 bytes). Readers get `Stored`, a live read view of one: it follows
every later write to its record, as the record dict it replaces did.
"""

from __future__ import annotations

import copy
import functools
import itertools
import unicodedata
import weakref
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from mockserver.errors import StateError
from mockserver.expressions.formulas import Formula, compile_formula
from mockserver.expressions.templates import Render, compile_template
from mockserver.spec.model import ResourceMock
from mockserver.spec.pointers import pointer

#: a record as written: a draft, a fixture, a record read from a snapshot
Record = dict[str, Any]
#: what Row.get answers for a field a record does not have
_ABSENT = object()


_STORE_NUMBERS = itertools.count(1)


def check_tables(tables: Any) -> None:
    """Tables as fixtures, snapshots and state files hold them: resource name -> list of records."""
    if not isinstance(tables, Mapping) or not all(
        isinstance(records, list) and all(isinstance(r, Mapping) for r in records) for records in tables.values()
    ):
        raise StateError("each resource must hold a list of records")


@functools.lru_cache(maxsize=65536)
def _without_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def sort_key(value: Any) -> tuple[Any, ...]:
    """An order for values of any types: by kind (numbers, then text, ...), null last.

    Text is compared as a Unicode collation such as MySQL's utf8mb4_unicode_ci
    does first, ignoring case and accents ("Áncash" right after "Amazonas"),
    then by case and by the text itself, so equal-looking values keep one order.

    Records are sorted by it wherever their values may be of mixed types
    (ids read from fixtures, a list's `order` fields), which plain
    comparison would refuse with a TypeError.
    """
    if value is None:
        return (4,)
    if isinstance(value, bool):
        return (0, value)
    if isinstance(value, (int, float)):
        return (1, value)
    if isinstance(value, str):
        return (2, _without_accents(value.casefold()), value.casefold(), value)
    return (3, type(value).__name__, repr(value))


def whole_number(text: str) -> int | None:
    """The number ASCII digits spell, else None: `"²".isdigit()` is true but int() refuses it."""
    if not (text.isascii() and text.isdigit()):
        return None
    try:
        return int(text)
    except ValueError:  # beyond Python's 4300 digits
        return None


#: values stored as they are; any other (a list, an object) is copied from a seed another store may share
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _stored_values(record: Record, shared: dict[str, str], *, copy_values: bool) -> Record:
    """A loaded record as it is stored: its texts and whole numbers in memory of their own, equal texts one
    object (a city, a currency, a date repeat a lot), and with `copy_values` a list or object value a copy.

    Why copies of values that cannot change: a large load arrives as one parsed document, whose dicts and
    repeated texts go once it is stored. The texts kept would otherwise sit scattered among them and keep
    nearly all of the parser's memory from going back to the system (100,000 records of 22 fields: 214 MB
    resident after the load, with 70 MB of it live). A copy made while the document is still whole lands
    in fresh memory, and the parser's goes back whole. Nothing can tell a copy from its original.
    """
    values: list[Any] = []
    keep = values.append
    for value in record.values():
        kind = type(value)
        if kind is str:
            known = shared.get(value)
            if known is None:
                known = shared[value] = value.join(_SURROUND)
            keep(known)
        elif kind is int:
            keep(value + 0)  # a new object (below 257 the shared small one: it lives elsewhere anyway)
        elif copy_values and kind not in _SCALARS:
            keep(copy.deepcopy(value))
        else:
            keep(value)
    return dict(zip(record, values, strict=True))


_is_scalar = _SCALARS.__contains__


def _deep_cell(cell: Cell) -> Cell:
    """A copy of a cell with copies of its values, and the same shape."""
    return copy.deepcopy(cell, {id(cell[0]): cell[0]})


#: `text.join(_SURROUND)` is a new string equal to `text` (str() and slices hand back the same object)
_SURROUND = ("", "")


def _hashable(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return repr(value)
    return value


class Shape:
    """The keys of records that have the same keys in the same order, and where each value is in a record's cell."""

    __slots__ = ("names", "position", "family")

    def __init__(self, names: tuple[str, ...], family: dict[tuple[str, ...], Shape]) -> None:
        self.names = names
        #: key -> index into the cell (the cell's first item is its shape)
        self.position = {name: index for index, name in enumerate(names, 1)}
        #: every shape of the table, this one included: a record whose keys change takes one of them
        self.family = family

    def of(self, names: tuple[str, ...]) -> Shape:
        """The table's shape of these keys."""
        return shape_in(self.family, names)


def shape_in(family: dict[tuple[str, ...], Shape], names: tuple[str, ...]) -> Shape:
    """The shape of these keys among a table's shapes, added when it is new."""
    shape = family.get(names)
    if shape is None:
        shape = family[names] = Shape(names, family)
    return shape


#: a stored record: its shape, then its values in the shape's order
Cell = list[Any]


class Stored(MutableMapping[str, Any]):
    """A view of a stored record that follows every write to it. Writes go through its table
    (`Table.update`), which keeps the indexes and a shared store's change list; a write to the view
    itself changes the record and nothing else, as a write to the record dict it replaces did.

    Copied (copy, deepcopy, pickle) it is a plain dict, as the stored record was; `plain()` is that dict
    without copying the values.
    """

    __slots__ = ("cell",)

    def __init__(self, cell: Cell) -> None:
        self.cell = cell

    def get(self, key: str, default: Any = None) -> Any:
        cell = self.cell
        index = cell[0].position.get(key)
        return default if index is None else cell[index]

    def __getitem__(self, key: str) -> Any:
        cell = self.cell
        index = cell[0].position.get(key)
        if index is None:
            raise KeyError(key)
        return cell[index]

    def __contains__(self, key: object) -> bool:
        return key in self.cell[0].position

    def __setitem__(self, key: str, value: Any) -> None:
        cell = self.cell
        shape: Shape = cell[0]
        index = shape.position.get(key)
        if index is None:  # a new key goes last, as in a dict
            cell[0] = shape.of((*shape.names, key))
            cell.append(value)
        else:
            cell[index] = value

    def __delitem__(self, key: str) -> None:
        cell = self.cell
        shape: Shape = cell[0]
        index = shape.position.get(key)
        if index is None:
            raise KeyError(key)
        del cell[index]
        cell[0] = shape.of(tuple(name for name in shape.names if name != key))

    def __iter__(self) -> Iterator[str]:
        return iter(self.cell[0].names)

    def __len__(self) -> int:
        return len(self.cell[0].names)

    def plain(self) -> Record:
        cell = self.cell
        return dict(zip(cell[0].names, itertools.islice(cell, 1, None), strict=True))

    def __repr__(self) -> str:
        return repr(self.plain())

    def __copy__(self) -> Record:
        return self.plain()

    def __deepcopy__(self, memo: dict[int, Any]) -> Record:
        return copy.deepcopy(self.plain(), memo)

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (self.plain(),))


@dataclass
class ResourceConfig:
    """A resource as the store runs it: what its `x-mock.resources.<name>` declares, and what is compiled from it."""

    name: str
    #: relations, timestamps, defaults, children (lists of records of another resource that point at this one)
    declared: ResourceMock = field(default_factory=ResourceMock)
    #: numbered fields: a template of `n`, compiled once
    sequences: dict[str, Render] = field(default_factory=dict)
    #: read-only figures computed from the record whenever it is read
    computed: dict[str, Formula] = field(default_factory=dict)

    @classmethod
    def from_spec(cls, name: str, declared: ResourceMock) -> ResourceConfig:
        return cls(
            name=name,
            declared=declared,
            sequences={key: compile_template(text) for key, text in declared.sequences.items()},
            computed={
                key: compile_formula(text, pointer("x-mock", "resources", name, "computed", key))
                for key, text in declared.computed.items()
            },
        )


class Row(Mapping[str, Any]):
    """A read view of a stored record that also resolves relations, children and computed fields.

    Computed fields win over stored values, so a request cannot overwrite them.
    """

    __slots__ = ("table", "data")

    def __init__(self, table: Table, data: Mapping[str, Any]) -> None:
        self.table = table
        #: the stored record (`Stored`), or a draft not yet stored
        self.data = data

    def __getitem__(self, key: str) -> Any:
        value = self.get(key, _ABSENT)
        if value is _ABSENT:
            raise KeyError(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        # Mapping.get would go through __getitem__ and catch a KeyError for
        # every field a record lacks; responses ask for many such fields, and
        # the raise and catch showed up in the profile (bench/results.md).
        config = self.table.config
        formula = config.computed.get(key)
        if formula is not None:  # a formula naming its own field reads the stored value (it reformats it)
            return formula(_OwnFieldStored(self, key))
        data = self.data
        if type(data) is Stored:  # the stored record's view, read in place: a response reads every field
            cell = data.cell
            index = cell[0].position.get(key)
            if index is not None:
                return cell[index]
        else:
            value = data.get(key, _ABSENT)
            if value is not _ABSENT:
                return value
        relation = config.declared.relations.get(key)
        if relation is not None:
            return self.table.store.table(relation.resource).row(self.data.get(relation.key))
        children = config.declared.children.get(key)
        if children is not None:
            table = self.table.store.table(children.resource)
            return [Row(table, record) for record in table.find({children.key: self.data.get("id")})]
        return default

    def values_of(self, names: tuple[str, ...], default: Any) -> list[Any]:
        """`get(name, default)` of each name, with what every look-up shares looked up once: a response
        projects each record onto a dozen or more fields (a list page of 20, hundreds of look-ups)."""
        data = self.data
        if type(data) is not Stored:
            return [self.get(name, default) for name in names]
        computed = self.table.config.computed
        cell = data.cell
        position = cell[0].position
        values = []
        for name in names:
            index = position.get(name)
            # a stored value, unless a formula names the field (it wins, as in `get`)
            values.append(cell[index] if index is not None and name not in computed else self.get(name, default))
        return values

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key, _ABSENT) is not _ABSENT

    def __iter__(self) -> Iterator[str]:
        yield from self.data
        yield from (key for key in self.table.config.computed if key not in self.data)

    def __len__(self) -> int:
        return len(set(self.data) | set(self.table.config.computed))


class Changes:
    """What one request's writes touched: the first prior version of each record and table counter.

    Enough to send just those records to a shared store, or to put them back
    when the commit loses a race.
    """

    __slots__ = ("records", "counters")

    def __init__(self) -> None:
        #: (table, id) -> the record before the first write to it (None: it did not exist)
        self.records: dict[tuple[str, Any], Record | None] = {}
        #: table -> (next_id, counters) before the first write to it
        self.counters: dict[str, tuple[int, dict[str, int]]] = {}

    def touch(self, table: Table, record_id: Any, before: Stored | None) -> None:
        key = (table.config.name, record_id)
        if key not in self.records:
            self.records[key] = copy.deepcopy(before.plain()) if before is not None else None
        if table.config.name not in self.counters:
            self.counters[table.config.name] = (table.next_id, dict(table.counters))

    def touch_counters(self, table: Table) -> None:
        if table.config.name not in self.counters:
            self.counters[table.config.name] = (table.next_id, dict(table.counters))

    def __bool__(self) -> bool:
        return bool(self.records or self.counters)


class _OwnFieldStored(Mapping[str, Any]):
    """A row as one of its computed fields sees it: that field's own name reads the stored value."""

    __slots__ = ("row", "key")

    def __init__(self, row: Row, key: str) -> None:
        self.row = row
        self.key = key

    def get(self, key: str, default: Any = None) -> Any:
        return self.row.data.get(key, default) if key == self.key else self.row.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self.row.data[key] if key == self.key else self.row[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.row)

    def __len__(self) -> int:
        return len(self.row)


class Table:
    """The records of one resource, keyed by id, in id order."""

    def __init__(self, store: Store, config: ResourceConfig) -> None:
        # weak: a store and its tables pointing at each other made every dropped state (an evicted
        # session, a reset) garbage only the cyclic collector frees, and a serving process leaves that
        # to its idle spells (server/idle.py): a soak of evicted sessions grew 11 KB a request
        self._store = weakref.ref(store)
        self.config = config
        #: id -> cell (see Stored)
        self.records: dict[Any, Cell] = {}
        #: each key order of this table's records, once
        self.shapes: dict[tuple[str, ...], Shape] = {}
        self.next_id = 1
        self.counters: dict[str, int] = {}
        # fields tuple -> value tuple -> ids (see `_index`); kept current on every write.
        self.indexes: dict[tuple[str, ...], dict[tuple[Any, ...], Any]] = {}

    @property
    def store(self) -> Store:
        store = self._store()
        if store is None:  # nothing holds the store: a table kept beyond its state's life (a bug)
            raise ReferenceError(f"{self.config.name}: the state this table belonged to is gone")
        return store

    # -- reading -----------------------------------------------------------
    def get(self, record_id: Any) -> Stored | None:
        try:
            cell = self.records.get(record_id)
        except TypeError:  # an unhashable id names nothing
            return None
        return Stored(cell) if cell is not None else None

    def row(self, record_id: Any) -> Row | None:
        record = self.get(record_id)
        return Row(self, record) if record is not None else None

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[Stored]:
        return map(Stored, self.records.values())

    def find(self, criteria: Mapping[str, Any]) -> list[Stored]:
        """Records whose fields equal the criteria, through an index when one fits."""
        if not criteria:
            return list(self)
        index = self.indexes.get(tuple(criteria))
        if index is not None:
            key = tuple(map(_hashable, criteria.values()))
            if not _unset(key):
                bucket = index.get(key, _NO_BUCKET)
                if type(bucket) is set:
                    return [Stored(self.records[i]) for i in sorted(bucket, key=sort_key)]
                # a unique key's look-up mostly finds nothing, or its one record (see `_index`)
                return [] if bucket is _NO_BUCKET else [Stored(self.records[bucket])]
        wanted = list(criteria.items())
        matching = [
            (record_id, cell)
            for record_id, cell in self.records.items()
            if all(_value(cell, name) == value for name, value in wanted)
        ]
        if index is None:
            return [Stored(cell) for _, cell in matching]
        # records none of whose indexed fields is set are not in the index: in the index's order
        return [Stored(cell) for _, cell in sorted(matching, key=lambda item: sort_key(item[0]))]

    def values(self, name: str) -> Iterator[Any]:
        """Each record's value of one field (None where it has none), in id order."""
        for cell in self.records.values():
            yield _value(cell, name)

    def ensure_index(self, fields: Iterable[str]) -> None:
        fields = tuple(fields)
        if fields in self.indexes:
            return
        index: dict[tuple[Any, ...], Any] = {}
        for record_id, cell in self.records.items():
            _index(index, tuple(_hashable(_value(cell, name)) for name in fields), record_id)
        self.indexes[fields] = index

    # -- writing -----------------------------------------------------------
    def insert(self, record: Record) -> Stored:
        """Store a new record (an `id` of None becomes the next one, in `record` too); its view."""
        if record.get("id") is None:
            record["id"] = self.next_id
        record_id = record["id"]
        if record_id in self.records:
            raise ValueError(f"{self.config.name}: duplicate id {record_id!r}")
        changes = self.store.changes
        if changes is not None:
            changes.touch(self, record_id, None)
        if isinstance(record_id, int):
            self.next_id = max(self.next_id, record_id + 1)
        cell = self._cell(record)
        self.records[record_id] = cell
        self.store.generation += 1
        stored = Stored(cell)
        for fields, index in self.indexes.items():
            _index(index, self._key(fields, stored), record_id)
        return stored

    def update(self, record_id: Any, changes: Mapping[str, Any]) -> Stored:
        cell = self.records[record_id]
        stored = Stored(cell)
        tracked = self.store.changes
        if tracked is not None:
            tracked.touch(self, record_id, stored)
        touched = [f for f in self.indexes if any(name in changes for name in f)]
        for fields in touched:
            self._unindex(fields, stored)
        shape: Shape = cell[0]
        added = []
        for name, value in changes.items():  # as dict.update: a known key keeps its place, a new one goes last
            index = shape.position.get(name)
            if index is None:
                added.append(name)
            else:
                cell[index] = value
        if added:
            cell[0] = shape.of((*shape.names, *added))
            cell.extend(changes[name] for name in added)
        self.store.generation += 1
        for fields in touched:
            _index(self.indexes[fields], self._key(fields, stored), record_id)
        return stored

    def delete(self, record_id: Any) -> None:
        changes = self.store.changes
        if changes is not None:
            changes.touch(self, record_id, Stored(self.records[record_id]))
        record = Stored(self.records.pop(record_id))
        self.store.generation += 1
        for fields in self.indexes:
            self._unindex(fields, record)
        # a record's own child lists (its line items, say) go with it
        for child in self.config.declared.children.values():
            table = self.store.table(child.resource)
            for item in list(table.find({child.key: record_id})):
                table.delete(item["id"])

    def next_in_sequence(self, name: str) -> int:
        """Next number of a per-table sequence, starting after the largest stored one."""
        changes = self.store.changes
        if changes is not None:
            changes.touch_counters(self)
        if name not in self.counters:
            numbers = (whole_number(str(value or "")) for value in self.values(name))
            self.counters[name] = max((n for n in numbers if n is not None), default=0)
        self.counters[name] += 1
        return self.counters[name]

    # -- copying another process's writes (no cascades, no change tracking) --
    def put(self, record: Mapping[str, Any]) -> None:
        """Store a record as another process wrote it: a new one, or the new version of one."""
        record_id = record["id"]
        old = self.records.get(record_id)
        if old is not None:
            for fields in self.indexes:
                self._unindex(fields, Stored(old))
        cell = self._cell(record)
        self.records[record_id] = cell
        for fields, index in self.indexes.items():
            _index(index, self._key(fields, Stored(cell)), record_id)

    def remove(self, record_id: Any) -> None:
        old = self.records.pop(record_id, None)
        if old is not None:
            for fields in self.indexes:
                self._unindex(fields, Stored(old))

    def sort(self) -> None:
        """Back into id order (a record put back after a lost race went to the end)."""
        self.records = dict(sorted(self.records.items(), key=lambda item: sort_key(item[0])))

    def copy_into(self, store: Store) -> Table:
        """This table as a private table of `store`: what `Store.copy` makes of each."""
        table = Table(store, self.config)
        # A cell is copied as a list; only a value that could be changed in place (a list, an object)
        # needs a copy of its own. Shapes are shared: each is the immutable key order of records.
        table.records = {
            record_id: cell.copy() if all(map(_is_scalar, map(type, cell[1:]))) else _deep_cell(cell)
            for record_id, cell in self.records.items()
        }
        table.shapes = self.shapes
        table.next_id = self.next_id
        table.counters = dict(self.counters)
        # a key's one id is kept as it is (`_index`); only a set of ids is the index's own to change
        table.indexes = {
            fields: {key: set(ids) if type(ids) is set else ids for key, ids in index.items()}
            for fields, index in self.indexes.items()
        }
        return table

    # -- the compact form ----------------------------------------------------
    def _cell(self, record: Mapping[str, Any]) -> Cell:
        return [shape_in(self.shapes, tuple(record)), *record.values()]

    @staticmethod
    def _key(fields: tuple[str, ...], record: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(_hashable(record.get(f)) for f in fields)

    def _unindex(self, fields: tuple[str, ...], record: Mapping[str, Any]) -> None:
        index, key, record_id = self.indexes[fields], self._key(fields, record), record["id"]
        bucket = index.get(key, _NO_BUCKET)
        if type(bucket) is set:
            bucket.discard(record_id)
            if not bucket:
                del index[key]
        elif bucket is not _NO_BUCKET and bucket == record_id:
            del index[key]


def _unset(key: tuple[Any, ...]) -> bool:
    """No field of the key is set (in C: a key holds JSON values, and only None equals None)."""
    return key.count(None) == len(key)


#: what an index holds under a key no record has (an id is never this object)
_NO_BUCKET: Any = object()


def _index(index: dict[tuple[Any, ...], Any], key: tuple[Any, ...], record_id: Any) -> None:
    """Index a record under its key, unless none of the fields is set: then it is found by a scan.

    Most records leave most indexed fields unset, and one bucket holding every id was 4 MB of
    100,000 loaded records that never set the field. A key most often names one record (a unique
    document, an email): it holds that id itself, and a set only once a second record shares it. A set
    per record was two of the five containers a create left for the garbage collector to walk, and
    216 bytes each.
    """
    if _unset(key):
        return
    bucket = index.get(key, _NO_BUCKET)
    if bucket is _NO_BUCKET:
        index[key] = record_id
    elif type(bucket) is set:
        bucket.add(record_id)
    elif bucket != record_id:
        index[key] = {bucket, record_id}


def _value(cell: Cell, name: str) -> Any:
    index = cell[0].position.get(name)
    return None if index is None else cell[index]


class Store:
    """All tables of one API."""

    def __init__(self, resources: Mapping[str, ResourceConfig]) -> None:
        self.resources = resources
        self.tables: dict[str, Table] = {}
        #: which store this is, and how many writes it has seen: a saver can tell whether anything changed
        self.number = next(_STORE_NUMBERS)
        self.generation = 0
        #: set by a shared backend: what the current request wrote (None: nobody asks, nothing is kept)
        self.changes: Changes | None = None

    def table(self, name: str) -> Table:
        table = self.tables.get(name)
        if table is None:
            config = self.resources.get(name) or ResourceConfig(name=name)
            table = self.tables[name] = Table(self, config)
        return table

    def load(
        self, seed: Mapping[str, list[Record]], indexes: Mapping[str, set[tuple[str, ...]]], *, owned: bool = False
    ) -> None:
        """Replace every table with a private copy of the seed records.

        `owned`: the records are the store's to keep and change (parsed for it, nobody else holds them),
        so they are not copied; 100,000 records are ~100 MB, and their copy was as much again.
        """
        self.tables = {}
        shared: dict[str, str] = {}
        for name, records in seed.items():
            table = self.table(name)
            for record in sorted(records, key=lambda r: sort_key(r.get("id"))):
                # the cell is the copy: only a value that could be changed in place needs one of its own
                table.insert(_stored_values(record, shared, copy_values=not owned))
        for name, field_sets in indexes.items():
            for fields in field_sets:
                self.table(name).ensure_index(fields)
        self.generation += 1

    def copy(self) -> Store:
        """A private copy of every table, with its indexes and counters.

        Loading the seed again for each new session was 70 ms of CPU with the Facturación fixtures (2,000
        records, each inserted, its texts interned and every index rebuilt); copying the loaded store's
        cells and indexes is a few milliseconds.
        """
        store = Store(self.resources)
        store.tables = {name: table.copy_into(store) for name, table in self.tables.items()}
        store.generation = 1
        return store

    def undo(self, changes: Changes) -> None:
        """Put back what `changes` recorded: the store is as it was before the request wrote."""
        resorted = set()
        for (name, record_id), before in changes.records.items():
            table = self.table(name)
            if before is None:
                table.remove(record_id)
            else:
                resorted.add(name)
                table.put(before)
        for name, (next_id, counters) in changes.counters.items():
            table = self.table(name)
            table.next_id, table.counters = next_id, counters
        for name in resorted:
            self.table(name).sort()
        self.generation += 1

    def dump(self, *, copy_records: bool = True) -> dict[str, list[Record]]:
        """Every record of every table, as plain data (snapshots, the state file).

        `copy_records=False` hands out the stored records themselves, for a caller that only serializes
        them before anything can change them.
        """
        return {
            name: [copy.deepcopy(record.plain()) if copy_records else record.plain() for record in table]
            for name, table in self.tables.items()
            if len(table)
        }
