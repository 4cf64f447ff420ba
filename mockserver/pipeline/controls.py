"""Latency and faults: how slow or how broken an answer should be.

A `Rule` can be set for every request (CLI, config file), per operation
(admin API) and per request (`Prefer: delay=…, fault=…`); the most specific
one wins, separately for the delay and for the fault.

Delays: `250` (fixed, ms), `100-400` (uniform), `lognormal:200:0.5` (median
in ms, sigma). Faults: `reset` (TCP reset), `empty` (connection closed with
no answer), `malformed` (a chunked body cut off mid-chunk), or an HTTP
status the operation documents, answered with its documented example.
"""

from __future__ import annotations

import asyncio
import math
import random
import re
import socket
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.errors import ControlError
from mockserver.state.shared import SharedDocument

TRANSPORT_FAULTS = ("reset", "empty", "malformed")
STATUS_CODE = re.compile(r"^[1-5][0-9][0-9]$")
_NUMBER = r"([0-9]+(?:\.[0-9]+)?)"
_DELAYS = {
    "fixed": re.compile(rf"^(?:fixed:)?{_NUMBER}$"),
    "uniform": re.compile(rf"^(?:uniform:{_NUMBER}:{_NUMBER}|{_NUMBER}-{_NUMBER})$"),
    "lognormal": re.compile(rf"^lognormal:{_NUMBER}:{_NUMBER}$"),
}
#: no delay may hold a connection longer than this
MAX_DELAY_MS = 60_000


@dataclass(frozen=True)
class Delay:
    text: str
    kind: str
    low: float
    high: float

    @classmethod
    def parse(cls, text: str) -> Delay:
        text = str(text).strip()
        for kind, pattern in _DELAYS.items():
            found = pattern.match(text)
            if found:
                numbers = [float(n) for n in found.groups() if n is not None]
                low, high = (numbers[0], numbers[0]) if kind == "fixed" else (numbers[0], numbers[1])
                if kind == "uniform" and low > high:
                    raise ControlError(f"delay {text!r}: the lower bound is above the upper one")
                if max(low, high if kind != "lognormal" else low) > MAX_DELAY_MS:
                    raise ControlError(f"delay {text!r}: at most {MAX_DELAY_MS} ms")
                return cls(text, kind, low, high)
        raise ControlError(
            f"delay {text!r} not understood; use milliseconds: '250', '100-400' or 'lognormal:MEDIAN:SIGMA'"
        )

    def seconds(self, rng: random.Random) -> float:
        if self.kind == "fixed":
            ms = self.low
        elif self.kind == "uniform":
            ms = rng.uniform(self.low, self.high)
        else:  # the median of a lognormal distribution is exp(mu)
            ms = rng.lognormvariate(math.log(max(self.low, 0.001)), self.high)
        return min(ms, MAX_DELAY_MS) / 1000


def parse_fault(text: str) -> str:
    text = str(text).strip().lower()
    if text in TRANSPORT_FAULTS or STATUS_CODE.match(text):
        return text
    raise ControlError(f"fault {text!r} not understood; use {', '.join(TRANSPORT_FAULTS)} or an HTTP status")


@dataclass(frozen=True)
class Rule:
    delay: Delay | None = None
    fault: str | None = None
    #: the share of requests the fault hits, 0 to 1
    rate: float = 1.0
    #: an outcome the operation declares (`x-mock.outcomes`), e.g. `reject:2800`; per operation only
    outcome: str | None = None

    @classmethod
    def parse(
        cls, delay: str | None = None, fault: str | None = None, rate: Any = 1.0, outcome: str | None = None
    ) -> Rule:
        try:
            share = float(rate)
        except (TypeError, ValueError):
            raise ControlError(f"rate {rate!r} must be a number from 0 to 1") from None
        if not 0 <= share <= 1:
            raise ControlError(f"rate {rate!r} must be a number from 0 to 1")
        return cls(
            Delay.parse(delay) if delay not in (None, "") else None,
            parse_fault(fault) if fault not in (None, "") else None,
            share,
            str(outcome).strip() if outcome not in (None, "") else None,
        )

    @classmethod
    def from_data(cls, data: Any) -> Rule:
        if not isinstance(data, Mapping) or set(data) - {"delay", "fault", "rate", "outcome"}:
            raise ControlError("a rule is an object with 'delay', 'fault', 'rate' and 'outcome' (all optional)")
        return cls.parse(data.get("delay"), data.get("fault"), data.get("rate", 1.0), data.get("outcome"))

    def to_data(self) -> dict[str, Any]:
        data = {"delay": self.delay.text if self.delay else None, "fault": self.fault, "rate": self.rate}
        return {**data, "outcome": self.outcome} if self.outcome is not None else data


@dataclass(frozen=True)
class Decision:
    delay_seconds: float = 0.0
    fault: str | None = None
    #: the outcome the operation's control names, if any
    outcome: str | None = None


class Controls:
    """The rules in force, and the seeded dice that apply them."""

    def __init__(self, everywhere: Rule = Rule(), seed: int = 0) -> None:
        self.everywhere = everywhere
        self.per_operation: dict[tuple[str, str], Rule] = {}
        self.rng = random.Random(seed)
        #: on shared state, the rules every replica follows; None: this process's own
        self.shared: SharedDocument | None = None
        self.version = 0

    def set_everywhere(self, rule: Rule) -> None:
        self.sync()
        self.everywhere = rule
        self._publish()

    def set_operation(self, api: str, operation: str, rule: Rule | None) -> None:
        self.sync()
        if rule is None:
            self.per_operation.pop((api, operation), None)
        else:
            self.per_operation[(api, operation)] = rule
        self._publish()

    def _publish(self) -> None:
        if self.shared is not None:
            self.version = self.shared.write(self.to_data())

    def sync(self) -> None:
        """On shared state: take the rules another replica set, if they changed since the last look."""
        if self.shared is None or self.shared.version() == self.version:
            return
        self.version, data = self.shared.read()
        if data is not None:
            self.everywhere = Rule.from_data(data["everywhere"])
            self.per_operation = {
                (item["api"], item["operation"]): Rule.from_data(
                    {key: value for key, value in item.items() if key not in ("api", "operation")}
                )
                for item in data["operations"]
            }

    def decide(self, api: str, operation: str, requested: Rule = Rule()) -> Decision:
        rules = (requested, self.per_operation.get((api, operation), Rule()), self.everywhere)
        delay = next((rule.delay for rule in rules if rule.delay is not None), None)
        faulty = next((rule for rule in rules if rule.fault is not None), None)
        fault = faulty.fault if faulty is not None and (faulty.rate >= 1 or self.rng.random() < faulty.rate) else None
        outcome = self.per_operation.get((api, operation), Rule()).outcome
        return Decision(delay.seconds(self.rng) if delay else 0.0, fault, outcome)

    def to_data(self) -> dict[str, Any]:
        return {
            "everywhere": self.everywhere.to_data(),
            "operations": [
                {"api": api, "operation": op, **rule.to_data()} for (api, op), rule in self.per_operation.items()
            ],
        }


# -- executing transport faults ------------------------------------------------

SCOPE_KEY = "mockserver.fault"


def request_transport_fault(scope: Scope, fault: str) -> None:
    """Ask `TransportFaults` to break this request's connection instead of answering."""
    scope[SCOPE_KEY] = fault


class TransportFaults:
    """Outermost ASGI layer: it holds the server's own `send`, so it can reach the socket.

    uvicorn's `send` is a method of its request cycle, which owns the
    transport; a broken connection cannot be expressed in ASGI messages.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold_if_faulty(message: Message) -> None:
            if SCOPE_KEY in scope:
                held.append(message)
            else:
                await send(message)

        await self.app(scope, receive, hold_if_faulty)
        fault = scope.get(SCOPE_KEY)
        if fault is None:
            return
        transport = getattr(getattr(send, "__self__", None), "transport", None)
        if transport is None:  # not served by uvicorn (an in-process test harness): the held answer goes out
            for message in held:
                await send(message)
            return
        if fault == "reset":
            sock = transport.get_extra_info("socket")
            if sock is not None:  # linger 0: close() sends RST instead of FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        elif fault == "malformed":
            transport.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
                b'40\r\n{"truncated": tr'
            )
            transport.close()
        else:
            transport.close()
        # let the server see the connection go, so it does not try to answer it
        for _ in range(3):
            await asyncio.sleep(0)
