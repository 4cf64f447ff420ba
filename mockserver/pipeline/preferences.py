"""What a caller asks of one answer: `Prefer: code=500, example=name, dynamic=true, delay=300, fault=reset`.

The code, example and dynamic forms follow Prism. The query forms
(`__code`, `__example`, `__dynamic`, `__delay`, `__fault`) do the same; when
a `Prefer` header is present the query forms are ignored, as in Prism.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from mockserver.errors import BadPreference, ControlError
from mockserver.pipeline.controls import STATUS_CODE, Rule

_KEYS = ("code", "example", "dynamic", "delay", "fault")


@dataclass(frozen=True)
class Preference:
    code: str | None = None
    example: str | None = None
    dynamic: bool = False
    control: Rule = Rule()
    #: every `key=value` of the header, for the keys a spec declares (`x-mock.outcomes.prefer`)
    values: Mapping[str, str] = field(default_factory=dict)

    @property
    def forces_answer(self) -> bool:
        return self.code is not None or self.example is not None or self.dynamic


def _parse_header(header: str) -> dict[str, str]:
    values = {}
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key:
            values[key.strip().lower()] = value.strip().strip('"')
    return values


def read_preference(header: str | None, query: Mapping[str, str]) -> Preference | None:
    if header is not None:
        values = _parse_header(header)
    else:
        values = {key[2:]: value for key, value in query.items() if key[2:] in _KEYS and key.startswith("__")}
    if not any(key in values for key in _KEYS):
        return Preference(values=values) if values else None
    code = values.get("code")
    if code is not None and not STATUS_CODE.match(code):
        raise BadPreference(f"code must be a three-digit HTTP status, got {code!r}")
    dynamic = values.get("dynamic", "false").lower()
    if dynamic not in ("true", "false"):
        raise BadPreference(f"dynamic must be true or false, got {dynamic!r}")
    try:
        control = Rule.parse(values.get("delay"), values.get("fault"))
    except ControlError as exc:
        raise BadPreference(str(exc)) from None
    return Preference(
        code=code, example=values.get("example"), dynamic=dynamic == "true", control=control, values=values
    )
