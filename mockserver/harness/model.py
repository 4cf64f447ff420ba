"""The contract harness's read-only view of an API as the engine compiles it.

What the suites expect (a refusal's status, the header a credential goes in,
where a login's answer carries the new credential, where a list's answer
keeps its rows) is read from the same `MockApi` the mock serves, so the
harness and the engine cannot drift apart. Building one needs only the spec
(and the fixtures, for seeded credentials): no server runs, and a deployment
is checked against the very model the mock would answer from.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mockserver.config import ServerConfig
from mockserver.errors import SpecError
from mockserver.pipeline.api import CompiledOperation, MockApi
from mockserver.pipeline.auth import Scheme
from mockserver.pipeline.behaviours import Login
from mockserver.pipeline.controls import Controls
from mockserver.pipeline.limits import SIZE_REFUSALS, Limits
from mockserver.spec.openapi import ApiSpec, Operation
from mockserver.spec.pointers import pointer as pointer_of
from mockserver.spec.pointers import value_at
from mockserver.state.store import Record

#: a value no spec writes, rendered through a compiled template to see where it lands in the answer
_PROBE = "\0contract-probe\0"
Pointer = tuple[str | int, ...]


@dataclass(frozen=True)
class LoginRoute:
    """The spec's login operation, the scheme whose credential it issues, and where its answer carries it."""

    operation: Operation
    scheme: Scheme
    #: the JSON pointer of the issued credential in the answer
    selector: str
    #: the body field the login reads for each field of the principal it compares (identity and secret)
    body_fields: Mapping[str, str]


@dataclass(frozen=True)
class RowsShape:
    """Where a list answer keeps its rows, and the keys that wrap each record inside a row."""

    rows: Pointer
    record: Pointer

    def records(self, body: Any) -> list[Mapping[str, Any]]:
        rows = value_at(body, self.rows)
        found = [value_at(row, self.record) for row in rows] if isinstance(rows, list) else []
        return [record for record in found if isinstance(record, Mapping)]


class ContractModel:
    """One API's compiled model, as the contract harness reads it."""

    def __init__(self, api: MockApi) -> None:
        self.api = api

    @classmethod
    def build(cls, spec: ApiSpec, fixtures_dir: Path) -> ContractModel:
        """The model of a spec, with its fixtures if `fixtures_dir` holds any (a spec without them is fine)."""
        config = ServerConfig()
        return cls(MockApi(spec, fixtures_dir, config, Controls(), Limits(max_body_bytes=config.max_body_bytes)))

    @property
    def spec(self) -> ApiSpec:
        return self.api.spec

    @property
    def name(self) -> str:
        return self.api.name

    @property
    def seed(self) -> Mapping[str, list[Record]]:
        """The fixtures the mock starts from (empty when the spec has none)."""
        return self.api.seed

    def compiled(self, operation: Operation) -> CompiledOperation:
        return self.api.operations[operation.operation_id]

    def validation_status(self, operation: Operation) -> int:
        """The status of the operation's validation envelope (its own, else the API's, else the engine's)."""
        return self.compiled(operation).errors["validation"].status

    def size_refusals(self, operation: Operation) -> set[int]:
        """The size-limit statuses the operation documents: a valid or invalid request alike gets one when too large."""
        errors = self.compiled(operation).errors
        return {
            status for status in (errors[name].status for name in SIZE_REFUSALS) if str(status) in operation.responses
        }

    def schemes_of(self, operation: Operation) -> list[Scheme]:
        """The schemes the operation's security requirements name."""
        names = dict.fromkeys(name for requirement in operation.security for name in requirement)
        return [self.api.auth.schemes[name] for name in names]

    def scheme(self) -> Scheme | None:
        """The scheme the suite authenticates with: the API's first (the login, when it has one, issues it)."""
        return next(iter(self.api.auth.schemes.values()), None)

    def login(self) -> LoginRoute | None:
        """The login that issues the suite's scheme, if the spec has one (its `x-mock.credential` names the scheme).

        A login for another scheme (Daftra's OAuth token, next to its API key) is tested as any
        operation; the suite keeps to the API's first scheme and its fixtures' credentials.
        """
        operation = next((op for op in self.spec.operations if op.mock.action == "login"), None)
        if operation is None or operation.mock.credential is None:
            return None
        scheme = self.api.auth.schemes[operation.mock.credential]
        if scheme is not self.scheme():
            return None
        behaviour = self.compiled(operation).behaviour
        assert isinstance(behaviour, Login)  # the action says so
        answer = behaviour.response({"credential": {scheme.key: _PROBE}, "record": {}})
        pointer = _find(answer.body, _PROBE)
        if pointer is None:
            reason = f"{operation.operation_id}: the answer does not carry the issued {scheme.key}"
            raise SpecError(reason, file=self.spec.source, pointer=operation.pointer)
        # each compared field rendered against a body that answers every field with its own name
        echo = {"body": _FieldNames()}
        body_fields = {stored: render(echo) for stored, render in {**behaviour.identity, **behaviour.secret}.items()}
        return LoginRoute(operation, scheme, pointer_of(*pointer), body_fields)

    def rows_shape(self, operation: Operation) -> RowsShape | None:
        """Where the list operation's answer puts its records, from its compiled response template."""
        answer = self.compiled(operation).behaviour.response({"records": [{"id": _PROBE}]})
        pointer = _find(answer.body, _PROBE)
        if pointer is None or 0 not in pointer:
            return None
        index = pointer.index(0)
        return RowsShape(rows=pointer[:index], record=pointer[index + 1 : -1])

    def record_pointer(self, operation: Operation) -> Pointer | None:
        """Where a read, create or update answer puts its record, from its compiled response template."""
        try:
            answer = self.compiled(operation).behaviour.response({"record": {"id": _PROBE}, "principal": {}})
        except (KeyError, TypeError, ValueError):  # a template that needs more than the record
            return None
        found = _find(answer.body, _PROBE)
        return found[:-1] if found else None

    def total_pointer(self, operation: Operation) -> Pointer | None:
        """Where the list operation's answer gives the number of records listed, if it does."""
        page = {"number": 1, "size": 1, "total": _PROBE, "last": 1, "prev_url": None, "next_url": None}
        answer = self.compiled(operation).behaviour.response({"records": [], "page": page})
        return _find(answer.body, _PROBE)


class _FieldNames(Mapping[str, str]):
    """A request body whose every field holds the field's name."""

    def __getitem__(self, name: str) -> str:
        return name

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _find(value: Any, wanted: Any) -> Pointer | None:
    """The path to the first place `wanted` appears in a rendered answer."""
    if value == wanted:
        return ()
    items: Any = value.items() if isinstance(value, Mapping) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _find(item, wanted)
        if found is not None:
            return (key, *found)
    return None
