"""What a serving process leaves for a moment without requests: full garbage collections, and the
imports its start left out.

Both are work that, done in the middle of traffic, stalls every request in flight. A serving process
(`serve`, each of its `--workers`) tells it is idle by the HTTP requests it has had: none new for a
while. Whatever is still undone when a request needs it is done then, by that request.

The collector. A request leaves no cyclic garbage (tests/test_garbage.py), so what a collection
finds is what lives on: the records that creates store (a list each, walked with all its values) and
the journal's last entries. A generational schedule walks them again and again as they age: with the
previous one, (20,000, 4, 10), a create workload paused 4-8 ms for each young collection, 20-26 ms
for each gen-1 (every fourth) and 58 ms for a full one after some 30,000 creates, and at one
connection those pauses were the p99 (wrk counts every request a pause held up).
Here the automatic collector only ever collects the young generation: every 20,000 new objects it walks
those alone, and what survives is not walked again while requests keep coming. The older generations are
collected in full once a second passes without a request, so a cycle that outlived a young collection (a
rare path, a reload) is still freed, just not in the middle of traffic. What that leaves open: a process
never idle for a second keeps such cycles until it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
from collections.abc import Callable, Iterator

#: new objects between young collections. In-process, 80,000 creates: longest pause 6.7 ms at 20,000;
#: 10,000: 4.3 ms, with twice as many. In a server the young generation holds more than the threshold
#: (the journal's old entries freed meanwhile count against it), and smaller thresholds measured worse.
YOUNG_THRESHOLD = 20_000
#: a count the older generations never reach: only `collect_when_idle` collects them
NEVER = 1 << 30
#: no request for this long: idle enough for a full collection
COLLECT_AFTER_SECONDS = 1.0
#: no request for this long: idle enough to import what the start left out (~80 ms of CPU)
IMPORT_AFTER_SECONDS = 0.25
#: the thread that imports lets the event loop have the interpreter back this often (the default, 5 ms,
#: held each request waiting for it a millisecond and more)
IMPORT_SWITCH_SECONDS = 0.0002

#: the imports `import_when_idle` ran or is running: once a process (two apps setting and putting back
#: the one switch interval at once could leave it at 0.2 ms)
_IMPORTED: set[Callable[[], None]] = set()

#: how a serving process counts its requests: a function of no arguments that gives the number so far
Requests = Callable[[], int]


@contextlib.contextmanager
def serving() -> Iterator[None]:
    """Build a serving process's app inside: no collection runs while it is built, and what exists at
    the end (the modules, the app) is frozen, so no collection ever walks it; then the serving schedule.

    No collection runs before the freeze either: building the bundled specs' app leaves no cyclic
    garbage (a full collection found none, in ~95 ms of the start); what another spec's build might
    leave stays, once, for the life of the process.
    """
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()
        gc.set_threshold(YOUNG_THRESHOLD, NEVER, NEVER)


def is_serving() -> bool:
    """Whether the collector runs as `serving` sets it: the older generations are left to this module."""
    return gc.get_threshold()[1] >= NEVER


async def until_idle(requests: Requests, seconds: float) -> None:
    """Return once `seconds` pass in which no new request came."""
    seen = requests()
    while True:
        await asyncio.sleep(seconds)
        now = requests()
        if now == seen:
            return
        seen = now


async def collect_when_idle(requests: Requests, seconds: float = COLLECT_AFTER_SECONDS) -> None:
    """A full collection in each idle spell after requests that made a young collection run."""
    collected_at = requests()
    while True:
        await until_idle(requests, seconds)
        # young collections since the last full one (which sets the count back to 0)
        if requests() != collected_at and gc.get_count()[1]:
            gc.collect()
            collected_at = requests()


async def import_when_idle(
    requests: Requests, imports: Callable[[], None], seconds: float = IMPORT_AFTER_SECONDS
) -> None:
    """Run `imports`, once a process, in a thread at the first idle spell: a thread, so that a request
    arriving meanwhile shares the interpreter with it instead of waiting for all of it."""
    await until_idle(requests, seconds)
    if imports in _IMPORTED:  # another app of this process did (the switch interval is the process's)
        return
    _IMPORTED.add(imports)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(IMPORT_SWITCH_SECONDS)
    try:
        await asyncio.to_thread(imports)
    finally:
        sys.setswitchinterval(interval)
