"""A serving process leaves full collections for a moment without requests (mockserver/server/idle.py)."""

from __future__ import annotations

import asyncio
import gc
import weakref

from mockserver.server import idle


class Node:
    """An object that can be in a cycle and be watched through a weak reference."""

    me: Node


async def watch(cycle: weakref.ref[Node], busy_seconds: float, idle_seconds: float) -> tuple[bool, bool]:
    """Whether the cycle was still there after `busy_seconds` of requests, and after `idle_seconds` without."""
    requests = 0
    collector = asyncio.create_task(idle.collect_when_idle(lambda: requests, seconds=0.05))
    try:
        for _ in range(int(busy_seconds / 0.01)):
            requests += 1
            await asyncio.sleep(0.01)
        alive_while_busy = cycle() is not None
        await asyncio.sleep(idle_seconds)
        return alive_while_busy, cycle() is not None
    finally:
        collector.cancel()


def test_a_cycle_that_outlived_a_young_collection_is_freed_in_an_idle_spell_not_during_requests():
    thresholds = gc.get_threshold()
    try:
        with idle.serving():
            pass
        assert idle.is_serving()
        node = Node()
        node.me = node
        cycle = weakref.ref(node)
        gc.collect(0)  # it survives a young collection (it is still in use), so it moves on
        del node  # garbage now, where only a full collection looks
        alive_while_busy, alive_after = asyncio.run(watch(cycle, busy_seconds=0.4, idle_seconds=0.3))
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
    assert alive_while_busy, "a full collection ran while requests kept coming"
    assert not alive_after, "the idle spell did not free the cycle"
