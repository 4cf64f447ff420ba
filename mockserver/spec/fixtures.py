"""A fixtures file: the seed records of one API, read the one way `serve` and `check` both read it.

A resource's records are a list of mappings, or a table, `{columns: [...],
rows: [[...], ...]}`, or `{file: name.json}`: the resource's entry (either
form) in a JSON file beside the fixtures file, which maps resources to
records as the fixtures file does. Large read-only data sets (a country's
ubigeo codes) go in such a file: JSON is read some hundred times faster than
YAML, which keeps start-up fast.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mockserver.errors import SpecError
from mockserver.spec.loader import load_yaml

_SHAPE = "fixtures must map each resource name to a list of records, a {columns, rows} table or a {file} to read"


def _records(resource: str, value: Any, folder: Path, path: Path, where: str) -> Any:
    """A resource's records, reading a `{file}` and expanding a `{columns, rows}` table."""
    if isinstance(value, Mapping) and set(value) == {"file"} and isinstance(value["file"], str):
        included = folder / value["file"]
        if included.suffix != ".json" or included.parent != folder:
            raise SpecError("a fixtures file names a .json file beside it", file=path, pointer=where + "/file")
        try:
            value = _read_json(included)[resource]
        except KeyError:
            raise SpecError(f"{value['file']} has no {resource}", file=path, pointer=where + "/file") from None
        except (OSError, ValueError) as exc:
            raise SpecError(f"{value['file']} does not load: {exc}", file=path, pointer=where + "/file") from None
        path = included
    if isinstance(value, Mapping) and set(value) == {"columns", "rows"}:
        columns, rows = value["columns"], value["rows"]
        if not isinstance(columns, list) or not isinstance(rows, list):
            raise SpecError(_SHAPE, file=path, pointer=where)
        for index, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != len(columns):
                raise SpecError(
                    f"a row must hold {len(columns)} values, one per column", file=path, pointer=f"{where}/rows/{index}"
                )
        return [dict(zip(columns, row, strict=True)) for row in rows]
    return value


def _pointer(resource: Any, index: int | None = None) -> str:
    place = "/" + str(resource).replace("~", "~0").replace("/", "~1")
    return place if index is None else f"{place}/{index}"


@functools.lru_cache(maxsize=8)
def _read_cached(path: Path, stamp: tuple[int, int]) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _read_json(path: Path) -> Any:
    """A JSON data file, read once however many resources name it (a changed file is read again)."""
    stat = path.stat()
    return _read_cached(path, (stat.st_mtime_ns, stat.st_size))


def load_seed(path: Path) -> dict[str, list[dict[str, Any]]]:
    """The records of a fixtures file by resource name; none when there is no file.

    A file that is not a mapping of lists of records, or that seeds one id twice
    in a resource, is refused with the place of the problem.
    """
    if not path.exists():
        return {}
    seed = load_yaml(path) or {}
    if not isinstance(seed, Mapping):
        raise SpecError(_SHAPE, file=path, pointer="")
    seed = {
        resource: _records(str(resource), value, path.parent, path, _pointer(resource))
        for resource, value in seed.items()
    }
    for resource, records in seed.items():
        if not isinstance(records, list):
            raise SpecError(_SHAPE, file=path, pointer=_pointer(resource))
        seen: dict[Any, int] = {}
        for index, record in enumerate(records):
            if not isinstance(record, Mapping):
                raise SpecError(_SHAPE, file=path, pointer=_pointer(resource, index))
            record_id = record.get("id")
            if record_id is None:
                continue
            try:
                first = seen.setdefault(record_id, index)
            except TypeError:
                raise SpecError(
                    f"a {resource} record's id must be a scalar, got {record_id!r}",
                    file=path,
                    pointer=_pointer(resource, index) + "/id",
                ) from None
            if first != index:
                raise SpecError(
                    f"duplicate {resource} id {record_id!r} (first at #{_pointer(resource, first)})",
                    file=path,
                    pointer=_pointer(resource, index),
                )
    return dict(seed)
