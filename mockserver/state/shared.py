"""State in Redis (`--store redis://HOST:PORT/DB`): many processes and replicas, one mock.

Each process keeps a local `Store` per session as a cache, and every request
first brings it up to date (one Lua script: nothing new, the commits since,
or the whole state). The behaviour then runs on that store as it does in
memory, and what it wrote (`Store.changes`) goes to Redis in one Lua script
that applies it only if nobody committed since the state was read (a
compare-and-set on the session's revision). When another process won, the
writes are undone locally and the pipeline runs the behaviour again on the
newer state. So every write is serialized across all processes: a unique key
checked, a sequence number taken and a record with its child records stored
are one atomic step, as on the single event loop in memory.

Keys, under `mockserver:<api>:<session as hex>` (the default session is
empty): `:head` (epoch, rev), `:meta` (per table: next id and sequence
counters), `:t:<table>` (id -> record, JSON), `:log` (the last commits, for
other processes to catch up). A replaced state (reset, restore, fixture load)
gets a new epoch, so every process reloads it whole. Named sessions are
listed in `mockserver:<api>:sessions` by last use.

Redis not answering within the socket timeout becomes `StoreUnavailable`
(503 in the API's envelope); the connection pool reconnects by itself on the
next request once Redis is back.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

import orjson

from mockserver.errors import StoreUnavailable
from mockserver.state.sessions import check_name
from mockserver.state.store import Changes, Record, Store, Stored

log = logging.getLogger("mockserver")

#: seconds a Redis call may take (connecting included) before a request gets its 503
SOCKET_TIMEOUT = 0.5
#: commits kept for other processes to catch up from; one further behind reloads the whole state
LOG_LENGTH = 1000
NAMESPACE = "mockserver"

_LUA_HELPERS = """
local function hex(s) return (string.gsub(s, '.', function(c) return string.format('%02x', string.byte(c)) end)) end
local function drop(p)
  for _, t in ipairs(redis.call('HKEYS', p .. ':meta')) do redis.call('DEL', p .. ':t:' .. t) end
  redis.call('DEL', p .. ':head', p .. ':meta', p .. ':log')
end
"""

# what a process holding a session's state at (epoch, rev) lacks: {} (no such session), {epoch, rev}
# (nothing), {epoch, rev, 'log', commits since} or {epoch, rev, 'full', meta, table, records, ...}
_CATCH_UP = """
local function catch_up(p, epoch, rev)
  local head = redis.call('HMGET', p .. ':head', 'epoch', 'rev')
  if not head[1] then return {} end
  if head[1] == epoch then
    local behind = tonumber(head[2]) - tonumber(rev)
    if behind == 0 then return {head[1], head[2]} end
    if behind > 0 then
      local entries = redis.call('LRANGE', p .. ':log', -behind, -1)
      if #entries == behind then return {head[1], head[2], 'log', entries} end
    end
  end
  local out = {head[1], head[2], 'full', redis.call('HGETALL', p .. ':meta')}
  for _, t in ipairs(redis.call('HKEYS', p .. ':meta')) do
    out[#out + 1] = t
    out[#out + 1] = redis.call('HGETALL', p .. ':t:' .. t)
  end
  return out
end
"""

# ARGV: base, session name, cached epoch, cached rev, now, idle seconds, touch ('1'/'0')
_REFRESH = (
    _LUA_HELPERS
    + _CATCH_UP
    + """
local function refresh()
local base, name = ARGV[1], ARGV[2]
local p = base .. ':' .. hex(name)
if name ~= '' then
  local registry = base .. ':sessions'
  local last = redis.call('ZSCORE', registry, name)
  if last then
    if tonumber(ARGV[5]) - tonumber(last) > tonumber(ARGV[6]) then
      drop(p)
      redis.call('ZREM', registry, name)
    elseif ARGV[7] == '1' then
      redis.call('ZADD', registry, ARGV[5], name)
    end
  end
end
return catch_up(p, ARGV[3], ARGV[4])
end
-- the version of a watched document (the controls), read in the same round trip
local watched = '0'
if ARGV[8] ~= '' then watched = redis.call('HGET', ARGV[8], 'version') or '0' end
return {watched, refresh()}
"""
)

# ARGV: base, session name, new epoch, only if absent ('1'/'0'), now, session limit, payload JSON
_REPLACE = (
    _LUA_HELPERS
    + """
local base, name = ARGV[1], ARGV[2]
local p = base .. ':' .. hex(name)
if ARGV[4] == '1' and redis.call('EXISTS', p .. ':head') == 1 then return 0 end
drop(p)
local data = cjson.decode(ARGV[7])
for t, meta in pairs(data.meta) do redis.call('HSET', p .. ':meta', t, meta) end
for t, records in pairs(data.tables) do
  local args = {}
  for field, value in pairs(records) do
    args[#args + 1] = field
    args[#args + 1] = value
    if #args >= 1000 then
      redis.call('HSET', p .. ':t:' .. t, unpack(args))
      args = {}
    end
  end
  if #args > 0 then redis.call('HSET', p .. ':t:' .. t, unpack(args)) end
end
redis.call('HSET', p .. ':head', 'epoch', ARGV[3], 'rev', 0)
if name ~= '' then
  local registry = base .. ':sessions'
  redis.call('ZADD', registry, ARGV[5], name)
  while redis.call('ZCARD', registry) > tonumber(ARGV[6]) do
    local oldest = redis.call('ZPOPMIN', registry)
    drop(base .. ':' .. hex(oldest[1]))
  end
end
return 1
"""
)

# ARGV: session prefix, epoch, rev, log length, log entry, number of records,
# then (table, id, record or '' for deleted) per record, then (table, meta) per table
# -> the new rev; or, when the state is no longer (epoch, rev), what the writer lacks (see _CATCH_UP),
# so that it runs the write again without another round trip to catch up
_COMMIT = (
    _CATCH_UP
    + """
local p = ARGV[1]
local head = redis.call('HMGET', p .. ':head', 'epoch', 'rev')
if head[1] ~= ARGV[2] or head[2] ~= ARGV[3] then return catch_up(p, ARGV[2], ARGV[3]) end
local i = 7
for _ = 1, tonumber(ARGV[6]) do
  local key = p .. ':t:' .. ARGV[i]
  if ARGV[i + 2] == '' then redis.call('HDEL', key, ARGV[i + 1]) else redis.call('HSET', key, ARGV[i + 1], ARGV[i + 2]) end
  i = i + 3
end
while i <= #ARGV do
  redis.call('HSET', p .. ':meta', ARGV[i], ARGV[i + 1])
  i = i + 2
end
local rev = redis.call('HINCRBY', p .. ':head', 'rev', 1)
redis.call('RPUSH', p .. ':log', rev .. '\\n' .. ARGV[5])
redis.call('LTRIM', p .. ':log', -tonumber(ARGV[4]), -1)
return rev
"""
)

# ARGV: base, session name
_DROP = (
    _LUA_HELPERS
    + """
local base, name = ARGV[1], ARGV[2]
local listed = redis.call('ZREM', base .. ':sessions', name)
local p = base .. ':' .. hex(name)
local existed = redis.call('EXISTS', p .. ':head')
drop(p)
return listed + existed
"""
)

# ARGV: base, now, idle seconds -> name, last use, records, ... (idle ones dropped on the way)
_DESCRIBE = (
    _LUA_HELPERS
    + """
local base, now, idle = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local registry = base .. ':sessions'
local out = {}
local all = redis.call('ZRANGE', registry, 0, -1, 'WITHSCORES')
for i = 1, #all, 2 do
  local name, last = all[i], tonumber(all[i + 1])
  local p = base .. ':' .. hex(name)
  if now - last > idle then
    drop(p)
    redis.call('ZREM', registry, name)
  else
    local count = 0
    for _, t in ipairs(redis.call('HKEYS', p .. ':meta')) do count = count + redis.call('HLEN', p .. ':t:' .. t) end
    out[#out + 1] = name
    out[#out + 1] = all[i + 1]
    out[#out + 1] = count
  end
end
return out
"""
)

# KEYS: list, id counter; ARGV: entry, limit -> the entry's id
_PUSH = """
local id = redis.call('INCR', KEYS[2])
redis.call('LPUSH', KEYS[1], id .. '\\n' .. ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
return id
"""


def dumps(value: Any) -> str:
    try:
        return orjson.dumps(value, default=_plain).decode()
    except TypeError:  # an integer beyond 64 bits: the standard library writes it
        return json.dumps(value, default=_plain)


def _plain(value: Any) -> Any:
    """A stored record's view (`Stored`) as the object it is written as; a dataclass as its fields
    (orjson writes one itself; this is for the standard library's writer)."""
    if isinstance(value, Stored):
        return value.plain()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    raise TypeError(f"{type(value).__name__} is not JSON")


def loads(text: bytes | str) -> Any:
    # the standard library's reader: orjson would read an integer beyond 64 bits as a float
    return json.loads(text)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisConnection:
    """One connection pool per process, with short timeouts: a Redis that does not answer is a 503, never a hang."""

    def __init__(self, url: str, timeout: float = SOCKET_TIMEOUT) -> None:
        # imported here: redis-py (asyncio support and all) is a third of a second of a start-up that
        # serves the in-memory state, which never needs it
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.url = url
        #: what a failed command raises, and which of those mean Redis is unreachable (see guard)
        self.failure: type[Exception] = redis.RedisError
        self.unreachable: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError)
        self.no_script: type[Exception] = redis.exceptions.NoScriptError
        # one retry, no backoff: a connection broken by a Redis restart is replaced at once,
        # and a Redis that is down costs at most two timeouts
        self.redis = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 1)
        )
        self.refresh = self.redis.register_script(_REFRESH)
        #: a document (`SharedDocument`) whose version every state refresh reads too, saving a round trip
        #: per request; and that version with when it was read
        self.watched: str | None = None
        self.seen_version: tuple[int, float] | None = None
        #: the connection the request path's scripts go over (see `run`), and who may use it now
        self.own: Any = None
        self.own_lock = threading.Lock()
        os.register_at_fork(after_in_child=self._forget_own)
        self.replace = self.redis.register_script(_REPLACE)
        self.commit = self.redis.register_script(_COMMIT)
        self.drop = self.redis.register_script(_DROP)
        self.describe = self.redis.register_script(_DESCRIBE)
        self.push = self.redis.register_script(_PUSH)

    def run(self, script: Any, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """A script of the request path (a state refresh, a commit, a journal entry) run on this
        process's own connection.

        redis-py's pool, retry wrapper and `Script` object cost two thirds of a round trip's CPU
        here (115 of 165 µs; a request makes two or three). What they do for these calls is done
        here: a script Redis does not hold yet is loaded, a broken connection is replaced once at
        once (as `Retry(NoBackoff(), 1)` does), and a call cut short drops the connection so no
        reply is ever read as another's. The event loop's thread is the usual caller; an admin
        request in a worker thread waits for the lock.
        """
        with self.own_lock:
            for attempt in range(3):
                connection = self.own
                if connection is None:
                    connection = self.own = self.redis.connection_pool.make_connection()
                try:
                    connection.send_command("EVALSHA", script.sha, len(keys), *keys, *args)
                    return connection.read_response()
                except self.no_script:
                    connection.send_command("SCRIPT", "LOAD", script.script)
                    connection.read_response()
                except self.unreachable:
                    connection.disconnect()
                    if attempt:
                        raise
                except BaseException:
                    connection.disconnect()
                    raise
            raise self.failure("the script was not loaded")

    def _forget_own(self) -> None:
        """A forked child shares the parent's socket: it opens its own."""
        self.own = None
        self.own_lock = threading.Lock()

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        """Redis errors become the one refusal the pipeline renders as a 503."""
        try:
            yield
        except self.failure as exc:
            if not isinstance(exc, self.unreachable):
                log.error("the state store refused a command: %s", exc)
            raise StoreUnavailable(f"the state store did not answer ({type(exc).__name__})") from None


class StoreFactory(Protocol):
    """A state holding the fixtures, or the given records (kept as they are when `owned`: see Store.load)."""

    def __call__(self, records: Mapping[str, list[Record]] | None = None, *, owned: bool = False) -> Store: ...


class RedisSessions:
    """The `StateBackend` of one API on Redis (see the module's docstring)."""

    def __init__(
        self,
        connection: RedisConnection,
        api_name: str,
        fresh: StoreFactory,
        limit: int = 100,
        idle_seconds: float = 1800,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.connection = connection
        self.base = f"{NAMESPACE}:{api_name}"
        self.fresh = fresh
        self.limit = limit
        self.idle_seconds = idle_seconds
        # wall-clock time: every replica judges idleness by the same clock
        self.clock = clock
        #: session ("" the default) -> (epoch, rev, store, when it was last brought up to date: perf_counter),
        #: as last read or committed by this process
        self.cache: OrderedDict[str, tuple[str, int, Store, float]] = OrderedDict()

    def _prefix(self, key: str) -> str:
        return f"{self.base}:{key.encode().hex()}"

    # -- reading -----------------------------------------------------------
    def get(self, name: str | None) -> Store:
        key = name or ""
        if key:
            check_name(key)
        store = self._current(key, touch=True)
        if store is None:  # first use: made from the fixtures, unless another process just did
            self._write(key, self.fresh(None), only_if_absent=True)
            store = self._current(key, touch=True)
            if store is None:
                raise StoreUnavailable("the session was dropped as it was made")
        return store

    @property
    def default(self) -> Store:
        return self.get(None)

    def peek(self, name: str | None) -> Store | None:
        if not name:
            return self.get(None)
        return self._current(name, touch=False)

    def _current(self, key: str, touch: bool) -> Store | None:
        cached = self.cache.get(key)
        epoch, rev = (cached[0], cached[1]) if cached is not None else ("", -1)
        connection = self.connection
        with connection.guard():
            watched, answer = connection.run(
                connection.refresh,
                (),
                [
                    self.base,
                    key,
                    epoch,
                    rev,
                    self.clock(),
                    self.idle_seconds,
                    "1" if touch else "0",
                    connection.watched or "",
                ],
            )
        if connection.watched is not None:
            connection.seen_version = (int(watched), time.perf_counter())
        return self._caught_up(key, cached, answer)

    def _caught_up(self, key: str, cached: tuple[str, int, Store, float] | None, answer: list[Any]) -> Store | None:
        """The session's state with what Redis answered it lacks (see _CATCH_UP) taken in."""
        if not answer:
            self.cache.pop(key, None)
            return None
        new_epoch, new_rev = _text(answer[0]), int(answer[1])
        if len(answer) == 2 and cached is not None:
            store = cached[2]
        elif _text(answer[2]) == "log" and cached is not None:
            store = cached[2]
            for entry in answer[3]:
                self._apply(store, loads(_text(entry).partition("\n")[2]))
        else:
            store = self._load(answer[3], answer[4:])
        self.cache[key] = (new_epoch, new_rev, store, time.perf_counter())
        self.cache.move_to_end(key)
        while len(self.cache) > self.limit + 1:  # the default and the named sessions kept
            self.cache.popitem(last=False)
        return store

    def _load(self, meta: list[bytes], tables: list[Any]) -> Store:
        records = {_text(tables[i]): [loads(value) for value in tables[i + 1][1::2]] for i in range(0, len(tables), 2)}
        store = self.fresh(records, owned=True)  # decoded for this store alone: no copy
        for i in range(0, len(meta), 2):
            self._set_counters(store, _text(meta[i]), loads(meta[i + 1]))
        store.changes = Changes()
        return store

    @staticmethod
    def _set_counters(store: Store, name: str, meta: Mapping[str, Any]) -> None:
        table = store.table(name)
        table.next_id = meta["next_id"]
        table.counters = dict(meta["counters"])

    def _apply(self, store: Store, entry: Mapping[str, Any]) -> None:
        """Another process's commit, copied into this process's store."""
        for name, record_id, value in entry["r"]:
            if value:
                store.table(name).put(loads(value))
            else:
                store.table(name).remove(loads(record_id))
        for name, meta in entry["m"].items():
            self._set_counters(store, name, loads(meta))
        store.generation += 1

    def resume(self, name: str | None, store: Store) -> Store:
        """No round trip when this process still holds `store` as the session's state.

        Whatever another process committed since it was read, the commit finds (the
        revision it is made on is no longer the head) and refuses, bringing back what
        it lacked: the pipeline then runs the behaviour again on that store, brought up
        to date. A reset or restore in this process replaced the cached store (and one
        elsewhere makes the commit bring back a whole new state): that is read anew.
        So is a state read longer ago than `FRESH_SECONDS` (an outcome's delay
        since): a read, which commits nothing, then answers from the state after the
        wait, as in memory.
        """
        key = name or ""
        cached = self.cache.get(key)
        if cached is not None and cached[2] is store and time.perf_counter() - cached[3] < FRESH_SECONDS:
            return store
        return self.get(name)

    # -- writing -----------------------------------------------------------
    def commit(self, name: str | None, store: Store) -> bool:
        changes = store.changes
        if not changes:
            return True
        assert changes is not None
        key = name or ""
        store.changes = Changes()
        cached = self.cache.get(key)
        if cached is None or cached[2] is not store:  # replaced meanwhile: the writes went to an old state
            store.undo(changes)
            return False
        records: list[str] = []
        for table_name, record_id in changes.records:
            current = store.table(table_name).get(record_id)
            records += [table_name, dumps(record_id), dumps(current) if current is not None else ""]
        counters = {
            table_name: dumps(
                {"next_id": store.table(table_name).next_id, "counters": store.table(table_name).counters}
            )
            for table_name in changes.counters
        }
        meta = [item for pair in counters.items() for item in pair]
        entry = dumps({"r": [records[i : i + 3] for i in range(0, len(records), 3)], "m": counters})
        epoch, rev, _, read_at = cached
        try:
            with self.connection.guard():
                committed = self.connection.run(
                    self.connection.commit,
                    (),
                    [self._prefix(key), epoch, rev, LOG_LENGTH, entry, len(records) // 3, *records, *meta],
                )
        except StoreUnavailable:
            store.undo(changes)  # if Redis did apply it, the next read catches up from its log
            raise
        if isinstance(committed, list):  # another process committed first: what it wrote is taken in now
            store.undo(changes)
            self._caught_up(key, cached, committed)
            return False
        self.cache[key] = (epoch, int(committed), store, read_at)
        return True

    def _write(self, key: str, store: Store, only_if_absent: bool = False) -> str:
        epoch = uuid.uuid4().hex
        payload = {
            "meta": {
                name: dumps({"next_id": table.next_id, "counters": table.counters})
                for name, table in store.tables.items()
            },
            "tables": {
                name: {dumps(record["id"]): dumps(record) for record in table}
                for name, table in store.tables.items()
                if len(table)
            },
        }
        with self.connection.guard():
            self.connection.replace(
                args=[self.base, key, epoch, "1" if only_if_absent else "0", self.clock(), self.limit, dumps(payload)]
            )
        return epoch

    def replace(self, name: str | None, store: Store) -> None:
        key = name or ""
        epoch = self._write(key, store)
        store.changes = Changes()
        self.cache[key] = (epoch, 0, store, time.perf_counter())

    def reset(self, name: str | None = None) -> None:
        if name:
            self.drop(name)
        else:
            self.replace(None, self.fresh(None))

    def drop(self, name: str) -> bool:
        self.cache.pop(name, None)
        with self.connection.guard():
            return bool(self.connection.drop(args=[self.base, name]))

    def describe(self) -> list[dict[str, Any]]:
        now = self.clock()
        with self.connection.guard():
            flat = self.connection.describe(args=[self.base, now, self.idle_seconds])
        return [
            {"name": _text(flat[i]), "idle_seconds": round(now - float(flat[i + 1]), 3), "records": int(flat[i + 2])}
            for i in range(0, len(flat), 3)
        ]

    def stores(self) -> list[tuple[str | None, Store]]:
        named = [entry["name"] for entry in self.describe()]
        found = [(name, self.peek(name)) for name in named]
        return [(None, self.get(None)), *((name, store) for name, store in found if store is not None)]


class SharedList:
    """A bounded list in Redis, newest first, each entry with an id (the journal of every replica)."""

    def __init__(self, connection: RedisConnection, key: str, limit: int) -> None:
        self.connection = connection
        self.key = key
        self.limit = limit

    def push(self, text: str) -> int:
        with self.connection.guard():
            connection = self.connection
            return int(connection.run(connection.push, (self.key, f"{self.key}:id"), (text, self.limit)))

    def newest(self) -> list[tuple[int, str]]:
        with self.connection.guard():
            raw = self.connection.redis.lrange(self.key, 0, -1)
        entries = []
        for item in raw:
            number, _, text = _text(item).partition("\n")
            entries.append((int(number), text))
        return entries

    def clear(self) -> None:
        with self.connection.guard():
            self.connection.redis.delete(self.key)


#: how long ago something read from Redis still stands for a fresh read within the same request: the
#: state a request writes on or answers from (see RedisSessions.resume), and a document's version read
#: with a state refresh (SharedDocument.version). A request that nothing suspends takes well under a
#: millisecond from its first look to its write; a wait (an outcome's delay) longer than this reads the
#: state again, so a read answers from the state after it
FRESH_SECONDS = 0.005


class SharedDocument:
    """A JSON document in Redis with a version, so a process rereads it only when it changed."""

    def __init__(self, connection: RedisConnection, key: str) -> None:
        self.connection = connection
        self.key = key

    def watch(self) -> None:
        """Have every state refresh read this document's version too (in the same round trip)."""
        self.connection.watched = self.key

    def version(self) -> int:
        seen = self.connection.seen_version
        if self.connection.watched == self.key and seen is not None:
            self.connection.seen_version = None  # used once
            # read by the state refresh of this same request, with no await since; an older reading is not used
            if time.perf_counter() - seen[1] < FRESH_SECONDS:
                return seen[0]
        with self.connection.guard():
            return int(self.connection.redis.hget(self.key, "version") or 0)

    def read(self) -> tuple[int, Any]:
        with self.connection.guard():
            version, data = self.connection.redis.hmget(self.key, ["version", "data"])
        return int(version or 0), loads(data) if data else None

    def write(self, data: Any) -> int:
        with self.connection.guard():
            pipe = self.connection.redis.pipeline(transaction=True)
            pipe.hset(self.key, "data", dumps(data))
            pipe.hincrby(self.key, "version", 1)
            return int(pipe.execute()[1])
