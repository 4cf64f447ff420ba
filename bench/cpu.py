"""Per-request CPU time of the ASGI app itself, in-process: no sockets, no HTTP parser.

Each workload of the bench is sent straight to the app's `__call__` in a
loop on one event loop; the figure is the process's CPU time per request.
On a shared machine this is steadier than requests/s over the network (the
other processes' load changes the wall clock, hardly one process's CPU time),
so it is what a change to the request path is judged by.

    python bench/cpu.py [--requests 3000] [--workload NAME ...] [--store redis://HOST:PORT/DB] [--gc]

The collector runs as under `mockserver serve` (everything built frozen, the
same young generation). With `--gc` each line also says what the garbage
collector did on that workload's requests: collections per 1,000 requests by
generation, their pause (median and longest), and the wall time of a request
(p50, p99, longest), where a pause shows as a tail.

With `--store redis://…` the app runs on the shared state (that database is
flushed first), and each workload's line also says what a request costs
Redis: the commands it ran (scripts counted once, as one round trip each)
and redis-server's CPU time.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mockserver.config import ServerConfig
from mockserver.server.app import serving_app

FACTURACION = [(b"authorization", b"Bearer 1|sunat_demo_admin_token")]
DAFTRA = [(b"apikey", b"demo-daftra-api-key")]
JSON = [(b"content-type", b"application/json"), (b"accept", b"application/json")]
numbers = itertools.count(1)


@dataclass(frozen=True)
class Workload:
    name: str
    method: str
    path: str
    credential: list[tuple[bytes, bytes]]
    status: int
    body: Callable[[], bytes] | None = None
    query: bytes = b""


def _facturacion_client() -> bytes:
    return json.dumps(
        {
            "company_id": 1,
            "tipo_documento": "6",
            "numero_documento": f"9{next(numbers):010d}",
            "razon_social": "EMPRESA DEMO S.A.C.",
            "nombre_comercial": "Empresa Demo",
            "direccion": "Av. Los Comerciantes 123",
            "ubigeo": "150101",
            "distrito": "Lima",
            "provincia": "Lima",
            "departamento": "Lima",
            "telefono": "01-2345678",
            "email": "contacto@empresademo.pe",
            "activo": True,
        }
    ).encode()


DAFTRA_CLIENT = json.dumps(
    {
        "Client": {
            "is_offline": True,
            "staff_id": 1,
            "business_name": "Mock Business",
            "first_name": "John",
            "last_name": "Doe",
            "email": "mock@example.com",
            "address1": "123 Mock Street",
            "city": "Mock City",
            "state": "Mock State",
            "postal_code": "12345",
            "phone1": "123-456-7890",
            "country_code": "US",
            "default_currency_code": "USD",
            "category": "Mock Category",
            "type": 2,
        }
    }
).encode()
DUPLICATE = (
    b'{"company_id": 1, "tipo_documento": "6", "numero_documento": "20100047218", '
    b'"razon_social": "COMERCIAL ANDINA S.A.C.", "email": "compras@andina.pe"}'
)
INVALID = b'{"company_id": 1, "email": "not-an-address", "ubigeo": "15"}'

WORKLOADS = {
    w.name: w
    for w in [
        Workload("facturacion_create", "POST", "/api/v1/clients", FACTURACION, 201, _facturacion_client),
        Workload("daftra_create", "POST", "/api2/clients", DAFTRA, 202, lambda: DAFTRA_CLIENT),
        Workload("show", "GET", "/api/v1/clients/1", FACTURACION, 200),
        Workload("list", "GET", "/api/v1/clients", FACTURACION, 200),
        Workload("duplicate", "POST", "/api/v1/clients", FACTURACION, 400, lambda: DUPLICATE),
        Workload("invalid", "POST", "/api/v1/clients", FACTURACION, 422, lambda: INVALID),
        Workload("daftra_list", "GET", "/api2/clients", DAFTRA, 200),
    ]
}


def scope(workload: Workload, body: bytes | None) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1:8000"), *workload.credential, *JSON]
    if body is not None:
        headers.append((b"content-length", str(len(body)).encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": workload.method,
        "root_path": "",
        "path": workload.path,
        "raw_path": workload.path.encode(),
        "query_string": workload.query,
        "headers": headers,
        "state": {},
    }


async def one(app: Any, workload: Workload) -> int:
    body = workload.body() if workload.body else None
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body or b"", "more_body": False}

    status = 0

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope(workload, body), receive, send)
    return status


async def measure(app: Any, workload: Workload, requests: int, batches: int = 5) -> float:
    """CPU µs per request after a warm-up: the least of `batches` batches (the others were disturbed more)."""
    await warm_up(app, workload)
    costs = []
    for _ in range(batches):
        started = time.process_time()
        for _ in range(requests // batches):
            await one(app, workload)
        costs.append((time.process_time() - started) / (requests // batches) * 1e6)
    return min(costs)


class Collections:
    """Every garbage collection while it is installed: its generation and how long it paused the process."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float]] = []
        self.started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started = time.perf_counter()
        else:
            self.pauses.append((info["generation"], time.perf_counter() - self.started))

    def __enter__(self) -> Collections:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *_: object) -> None:
        gc.callbacks.remove(self)


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f}"


async def measure_gc(app: Any, workload: Workload, requests: int) -> str:
    """The collections `requests` requests caused and the wall time of each request, as one line."""
    await warm_up(app, workload)
    walls = []
    with Collections() as collections:
        for _ in range(requests):
            started = time.perf_counter()
            await one(app, workload)
            walls.append(time.perf_counter() - started)
    walls.sort()
    wall = f"wall p50 {ms(walls[len(walls) // 2])} p99 {ms(walls[len(walls) * 99 // 100])} max {ms(walls[-1])} ms"
    by_generation = []
    for generation in range(3):
        pauses = sorted(pause for g, pause in collections.pauses if g == generation)
        if pauses:
            by_generation.append(
                f"gen{generation} {len(pauses) * 1000 / requests:.2f}/1000 "
                f"(pause median {ms(pauses[len(pauses) // 2])}, max {ms(pauses[-1])} ms)"
            )
    return f"{wall}; GC {', '.join(by_generation) or 'none'}"


async def warm_up(app: Any, workload: Workload) -> None:
    for _ in range(200):
        status = await one(app, workload)
        assert status == workload.status, (workload.name, status)


def redis_figures(client: Any) -> tuple[dict[str, int], float]:
    """Calls per command so far (EVALSHA is a script: one round trip), and redis-server's CPU seconds."""
    stats = client.info("commandstats")
    cpu = client.info("cpu")
    calls = {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()}
    return calls, float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


async def measure_on_redis(app: Any, workload: Workload, requests: int, client: Any) -> str:
    """The app's CPU per request, then (separately, so INFO is not inside the timing) Redis' share."""
    cost = await measure(app, workload, requests)
    calls_before, cpu_before = redis_figures(client)
    for _ in range(requests):
        await one(app, workload)
    calls_after, cpu_after = redis_figures(client)
    ran = {name: calls - calls_before.get(name, 0) for name, calls in calls_after.items()}
    # INFO itself ran twice between the two readings
    ran["info"] = ran.get("info", 0) - 2
    per_request = ", ".join(f"{name} {n / requests:.2f}" for name, n in sorted(ran.items()) if n)
    redis_cpu = (cpu_after - cpu_before) / requests * 1e6
    return f"{cost:8.1f} µs/request; Redis {redis_cpu:.1f} µs/request, commands/request: {per_request}"


async def main_async(args: argparse.Namespace) -> None:
    client = None
    if args.store:
        import redis

        client = redis.Redis.from_url(args.store)
        client.flushdb()
    app = serving_app(ServerConfig(reload=False, store=args.store or "memory"))  # as serve builds it
    for name in args.workload or list(WORKLOADS):
        if client is not None:
            line = await measure_on_redis(app, WORKLOADS[name], args.requests, client)
        else:
            line = f"{await measure(app, WORKLOADS[name], args.requests):8.1f} µs/request"
        if args.gc:
            line += f"; {await measure_gc(app, WORKLOADS[name], args.requests)}"
        print(f"{name:<20} {line}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--workload", action="append", choices=list(WORKLOADS))
    parser.add_argument("--store", help="redis://HOST:PORT/DB: run on the shared state (flushes that database)")
    parser.add_argument("--gc", action="store_true", help="also count garbage collections and time each request")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.run(main_async(args))
    except ImportError:
        asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
