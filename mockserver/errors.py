"""Every error the mock raises on purpose, in one hierarchy.

    MockError
    ├── SpecError        a spec, fixture or declaration the engine cannot serve:
    │   │                the file, the JSON pointer inside it, and the reason
    │   └── SpecErrors       every problem found in one spec, reported together
    ├── Refusal          a request the API refuses; `kind` names the envelope in
    │   │                the spec's `x-mock.errors` that answers it, `values` fill
    │   │                that envelope's template
    │   ├── AuthFailure      unauthenticated or forbidden
    │   ├── BadPreference    a `Prefer`, a `__` query control or a session name
    │   │                    that cannot be honoured
    │   ├── TooLarge         a request over a size bound (413, 414, 431)
    │   ├── StoreUnavailable the shared state store (Redis) cannot be reached or
    │   │                    is too contended: 503 in the API's envelope
    │   └── Invalid          field errors, from the schemas or from a rule
    ├── BodyError        a request body that cannot be read at all; validation
    │                    turns it into a field error beside the others
    ├── StateError       records that cannot become a state (a restore, a state
    │                    file, loaded fixtures)
    ├── ControlError     a delay or fault that cannot be understood
    └── AdminError       an admin API call that cannot be carried out

The request pipeline turns a `Refusal` into its API's envelope in one place
(`pipeline.api.MockApi.handle`); the server surface turns `AdminError`,
`StateError` and `ControlError` into the admin API's own answers, and the
CLI turns `SpecError` into a message and exit status 2.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any


@dataclasses.dataclass
class FieldError:
    """One failed check of one field: the rule it broke and the values its message needs."""

    field: str
    rule: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: wording that wins over the locale table (from `x-messages` or a rule)
    overrides: Mapping[str, Any] | str | None = None


class MockError(Exception):
    """The root: anything the mock refuses on purpose, never a bug."""


class SpecError(MockError):
    """A spec or fixture the engine cannot serve.

    `file`, `line` and `pointer` (an RFC 6901 JSON pointer into that file)
    say where; the message is the reason, written for the person who edits
    the file. Located, it reads `FILE:LINE: #POINTER: reason`.
    """

    def __init__(
        self, reason: str, *, file: object = None, pointer: str | None = None, line: int | None = None
    ) -> None:
        self.reason = reason
        self.file = str(file) if file is not None else None
        self.pointer = pointer
        self.line = line
        super().__init__(self.located())

    def located(self) -> str:
        file = f"{self.file}:{self.line}" if self.file and self.line is not None else self.file
        where = ": ".join(part for part in (file, f"#{self.pointer}" if self.pointer is not None else None) if part)
        return f"{where}: {self.reason}" if where else self.reason

    def at(self, file: object = None, pointer: str | None = None) -> SpecError:
        """The same reason, placed (what is already known about the place wins)."""
        return SpecError(
            self.reason,
            file=self.file or file,
            pointer=self.pointer if self.pointer is not None else pointer,
            line=self.line,
        )

    @property
    def problems(self) -> list[SpecError]:
        """Each problem on its own (one, unless this is a `SpecErrors`)."""
        return [self]


class SpecErrors(SpecError):
    """Several problems of one spec: a reader fixes them all in one go rather than one per start-up."""

    def __init__(self, problems: list[SpecError]) -> None:
        self._problems = list(problems)
        first = self._problems[0]
        super().__init__(first.reason, file=first.file, pointer=first.pointer)

    def located(self) -> str:
        return "\n".join(problem.located() for problem in self._problems)

    def at(self, file: object = None, pointer: str | None = None) -> SpecErrors:
        return SpecErrors([problem.at(file, pointer) for problem in self._problems])

    @property
    def problems(self) -> list[SpecError]:
        return list(self._problems)


class Refusal(MockError):
    """A request the API answers with one of its error envelopes."""

    kind = "internal"

    def __init__(self, message: str = "", **values: Any) -> None:
        super().__init__(message or self.kind)
        self.values: Mapping[str, Any] = values


class AuthFailure(Refusal):
    def __init__(self, kind: str) -> None:  # "unauthenticated" or "forbidden"
        super().__init__(kind)
        self.kind = kind


class BadPreference(Refusal):
    """A preference or session name that cannot be honoured; the message says what exists instead."""

    kind = "bad_preference"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, detail=detail)


class TooLarge(Refusal):
    """A request over one of the bounds; `kind` names the API's error envelope."""

    def __init__(self, kind: str, limit: int) -> None:
        super().__init__(kind, limit=limit)
        self.kind = kind
        self.limit = limit


class StoreUnavailable(Refusal):
    """The shared state store did not answer in time (or kept losing a write race): try again later."""

    kind = "unavailable"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, detail=detail)


class Invalid(Refusal):
    """Field errors: the API's validation envelope lists them."""

    kind = "validation"

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("invalid")
        self.errors = errors


class BodyError(MockError):
    """The body cannot be read as JSON at all."""

    def __init__(self, rule: str, detail: str = "", limit: int | None = None) -> None:
        super().__init__(rule)
        self.rule = rule
        self.detail = detail
        self.limit = limit


class StateError(MockError):
    """Records that cannot become a state (a restore, a state file, loaded fixtures)."""


class ControlError(MockError):
    """A delay or fault that cannot be understood; the message shows the syntax."""


class AdminError(MockError):
    """An admin API call that cannot be carried out, with the status it answers."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
