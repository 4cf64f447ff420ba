"""`mockserver record`: a deployment's recorded answers (HAR) turned into a fixtures file for the mock.

Each successful answer of a read, list, create or update is matched to its
operation by the mock's router, and its records are taken from where that
operation's response template puts them: records per resource, by id, the
latest answer winning. A record's child lists (a document's lines, say)
become records of their own resource, each pointing back at its parent
through the child list's key, numbered after the recorded ones when the
answer shows no id. What the engine derives (relations, computed figures)
and every field whose name says it is a secret are dropped; each record is then checked against its resource's schema as
`mockserver check` checks fixtures, and one that does not fit is left out
and reported. Ids are kept as the deployment issued them, so references
between the recorded records stay as they were; the tables the traffic did
not show (credentials, their principals) come from a base fixtures file.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from mockserver.harness.model import ContractModel, RowsShape
from mockserver.pipeline.masking import secret_field
from mockserver.pipeline.routing import Match
from mockserver.server.journal import MASK
from mockserver.spec.check import fixture_problems
from mockserver.spec.fixtures import load_seed
from mockserver.spec.model import ResourceMock
from mockserver.spec.pointers import value_at

_RECORDED = ("read", "list", "create", "update")


@dataclass
class Recording:
    records: dict[str, dict[Any, dict[str, Any]]] = field(default_factory=dict)
    #: why an answer or a record was left out
    skipped: list[str] = field(default_factory=list)

    #: child records the answer gave no id: (resource, parent key, parent id, position) -> record, numbered at the end
    unnumbered: dict[tuple[str, str, Any, int], dict[str, Any]] = field(default_factory=dict)

    def keep(self, resources: Mapping[str, ResourceMock], resource: str, row: Mapping[str, Any]) -> None:
        """A recorded record, and each of its child lists as records of their own resource pointing back at it.

        The latest answer for a record wins, its child lists included: the
        children an earlier answer showed for it are replaced by these.
        """
        config = resources.get(resource)
        derived = {*config.computed, *config.relations, *config.children} if config is not None else set()
        kept = {k: v for k, v in row.items() if k not in derived and not secret_field(k) and v != MASK}
        if "id" not in kept:
            return
        self.records.setdefault(resource, {})[kept["id"]] = kept
        for name, child in (config.children if config is not None else {}).items():
            items = row.get(name)
            if not isinstance(items, list):
                continue  # the answer does not show this list: what was recorded of it stays
            self._forget_children(child.resource, child.key, kept["id"])
            for position, item in enumerate(items):
                if not isinstance(item, Mapping):
                    continue
                item = {**item, child.key: kept["id"]}  # the reference to its parent, whatever the answer said
                if item.get("id") is None:
                    self.unnumbered[child.resource, child.key, kept["id"], position] = dict(item)
                else:
                    self.keep(resources, child.resource, item)

    def _forget_children(self, resource: str, key: str, parent: Any) -> None:
        by_id = self.records.get(resource, {})
        for record_id in [i for i, record in by_id.items() if record.get(key) == parent]:
            del by_id[record_id]
        for where in [w for w in self.unnumbered if w[:3] == (resource, key, parent)]:
            del self.unnumbered[where]

    def number_children(self) -> None:
        """Ids for the child records the deployment did not show one for: after the largest recorded one."""
        for (resource, _, _, _), item in self.unnumbered.items():
            by_id = self.records.setdefault(resource, {})
            numbers = [i for i in by_id if isinstance(i, int) and not isinstance(i, bool)]
            item["id"] = max(numbers, default=0) + 1
            by_id[item["id"]] = item
        self.unnumbered.clear()

    def fixtures(self, base: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
        """The base's tables with the recorded resources' records in place of theirs, by id."""
        merged = {name: list(records) for name, records in base.items()}
        for resource, by_id in self.records.items():
            merged[resource] = sorted(by_id.values(), key=lambda record: str(record.get("id")).zfill(20))
        return merged


def entries(har: Path) -> list[dict[str, Any]]:
    data = json.loads(har.read_text(encoding="utf-8"))
    found = data.get("log", {}).get("entries") if isinstance(data, dict) else None
    if not isinstance(found, list):
        raise ValueError(f"{har} is not a HAR file (no log.entries)")
    return found


def record(model: ContractModel, har: Path) -> Recording:
    """The records of every recorded answer of the model's API."""
    recording = Recording()
    resources = model.spec.mock.resources
    for entry in entries(har):
        request, response = entry.get("request", {}), entry.get("response", {})
        status = int(response.get("status", 0))
        path = urlsplit(str(request.get("url", ""))).path
        found = model.api.router.match(str(request.get("method", "GET")).upper(), path)
        if not isinstance(found, Match) or not 200 <= status < 300:
            continue
        operation = found.target.operation
        resource = operation.mock.resource
        if operation.mock.action not in _RECORDED or resource is None:
            continue
        try:
            body = json.loads((response.get("content") or {}).get("text") or "null")
        except ValueError:
            recording.skipped.append(f"left out: {request.get('method')} {path}: the answer is not JSON")
            continue
        if operation.mock.action == "list":
            shape = model.rows_shape(operation)
            rows = shape.records(body) if isinstance(shape, RowsShape) else []
        else:
            where = model.record_pointer(operation)
            one = value_at(body, where) if where is not None else None
            rows = [one] if isinstance(one, dict) else []
        for row in rows:
            recording.keep(resources, resource, row)
    recording.number_children()
    return recording


def write(model: ContractModel, recording: Recording, to: Path, base: Path | None) -> list[str]:
    """Write the fixtures file; returns notes: what was left out (records that do not fit their schema), what dangles."""
    seed = load_seed(base) if base is not None else {}
    fixtures = recording.fixtures(seed)
    left_out = list(recording.skipped)
    with tempfile.TemporaryDirectory(prefix="mockserver-record-") as scratch:
        folder = Path(scratch)
        candidate = model.spec.fixtures_file(folder)
        candidate.write_text(yaml.safe_dump(fixtures, allow_unicode=True, sort_keys=False), encoding="utf-8")
        unfit: dict[tuple[str, int], list[str]] = {}
        for problem in fixture_problems(model.spec, folder):
            parts = (problem.pointer or "").strip("/").split("/")
            if len(parts) >= 2 and parts[1].isdigit():
                unfit.setdefault((parts[0], int(parts[1])), []).append(problem.reason.split(": ", 1)[-1])
    for (resource, index), reasons in unfit.items():
        shown = fixtures[resource][index].get("id")
        left_out.append(f"left out: {resource} record id {shown} does not fit its schema: {'; '.join(reasons)}")
    for resource in {resource for resource, _ in unfit}:
        fixtures[resource] = [r for i, r in enumerate(fixtures[resource]) if (resource, i) not in unfit]
        recording.records[resource] = {
            r["id"]: r for r in fixtures[resource] if r.get("id") in recording.records[resource]
        }
    left_out += dangling(model, fixtures, recording.records)
    to.parent.mkdir(parents=True, exist_ok=True)
    header = f"# Recorded from traffic by `mockserver record` for {model.name}.\n"
    to.write_text(header + yaml.safe_dump(fixtures, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return left_out


def dangling(
    model: ContractModel, fixtures: dict[str, list[dict[str, Any]]], recorded: Mapping[str, Mapping[Any, Any]]
) -> list[str]:
    """The references (a resource's declared relations) of the recorded records that name a record the fixtures do not hold.

    Only recorded records are looked at: what the base fixtures hold is theirs to answer for.
    """
    found = []
    for resource, config in model.spec.mock.resources.items():
        for relation in config.relations.values():
            held = {record.get("id") for record in fixtures.get(relation.resource, [])}
            for record in fixtures.get(resource, []):
                if record.get("id") not in recorded.get(resource, {}):
                    continue
                value = record.get(relation.key)
                if value is not None and value not in held:
                    found.append(
                        f"{resource} record id {record.get('id')}: {relation.key} {value!r} names no {relation.resource} record"
                    )
    return found
