"""A fixtures file: the seed records of one API, read the one way `serve` and `check` both read it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mockserver.errors import SpecError
from mockserver.spec.loader import load_yaml

_SHAPE = "fixtures must map each resource name to a list of records"


def _pointer(resource: Any, index: int | None = None) -> str:
    place = "/" + str(resource).replace("~", "~0").replace("/", "~1")
    return place if index is None else f"{place}/{index}"


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
