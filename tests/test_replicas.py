"""Three `mockserver serve --store redis://…` processes on one real redis-server behave as one mock.

Live processes (the replicas are what is tested), all in one xdist group so
one worker starts them once. Requests are spread round-robin over the
replicas, as a load balancer would.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from redis_server import RedisServer
from seed import ADMIN, DAFTRA

from mockserver.cli import main
from mockserver.server.process import ServerProcess

pytestmark = pytest.mark.xdist_group("replicas")

DUPLICATE = "Ya existe un cliente con el mismo tipo y número de documento en esta empresa"
Request = tuple[str, str, dict[str, str], Any]


def spread(urls: list[str], requests: list[Request]) -> list[httpx.Response]:
    """Send every request at once, each on its own connection, request i to replica i mod N."""

    async def run() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=0)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            return await asyncio.gather(
                *(
                    client.request(method, urls[i % len(urls)] + path, headers=headers, json=body)
                    for i, (method, path, headers, body) in enumerate(requests)
                )
            )

    return asyncio.run(run())


def started(*processes: ServerProcess) -> None:
    """Start them side by side: each spends its start-up loading the specs."""
    with ThreadPoolExecutor(len(processes)) as pool:
        list(pool.map(ServerProcess.start, processes))


@pytest.fixture(scope="module")
def replicas(redis_server: RedisServer) -> Iterator[list[str]]:
    """Three replicas; the third runs two worker processes itself (`--workers 2`)."""
    redis_server.client(1).flushdb()
    store = redis_server.url(1)
    # four processes load the specs at once on a shared machine: a generous start-up bound
    processes = [ServerProcess("--store", store, startup_timeout=90) for _ in range(2)]
    processes.append(ServerProcess("--store", store, "--workers", "2", startup_timeout=90))
    try:
        started(*processes)
        yield [process.url for process in processes]
    finally:
        for process in processes:
            process.stop()


def test_200_duplicate_creates_over_three_replicas_store_exactly_one(replicas):
    document = {"company_id": 1, "tipo_documento": "6", "numero_documento": "20888888881", "razon_social": "R S.A.C."}
    answers = spread(replicas, [("POST", "/api/v1/clients", ADMIN, document)] * 200)

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] + [400] * 199
    assert all(a.json() == {"success": False, "message": DUPLICATE} for a in answers if a.status_code == 400)
    for url in replicas:
        listed = httpx.get(f"{url}/__mock/apis/facturacion/resources/clients", params={"limit": 1000}).json()
        assert [c["numero_documento"] for c in listed["records"]].count(document["numero_documento"]) == 1


def test_client_numbers_stay_unique_and_gap_free_over_replicas(replicas):
    before = httpx.get(f"{replicas[0]}/__mock/apis/daftra/resources/clients", params={"limit": 1000}).json()
    highest = max(int(c["client_number"]) for c in before["records"])
    requests = [
        ("POST", "/api2/clients.json", DAFTRA, {"Client": {"business_name": f"Replica {i}"}}) for i in range(90)
    ]
    answers = spread(replicas, requests)

    assert all(answer.status_code == 202 for answer in answers)
    issued = sorted(int(answer.json()["client_number"]) for answer in answers)
    assert issued == list(range(highest + 1, highest + 91))
    assert len({answer.json()["id"] for answer in answers}) == 90


def test_a_write_is_read_back_on_every_other_replica_at_once(replicas):
    first, second, third = replicas
    created = httpx.post(f"{first}/api2/clients.json", headers=DAFTRA, json={"Client": {"business_name": "Seen"}})
    path = f"/api2/clients/{created.json()['id']}"
    for url in (second, third):
        assert httpx.get(url + path, headers=DAFTRA).json()["data"]["Client"]["business_name"] == "Seen"

    edited = httpx.put(second + path, headers=DAFTRA, json={"Client": {"business_name": "Edited"}})
    assert edited.status_code == 200
    assert httpx.get(third + path, headers=DAFTRA).json()["data"]["Client"]["business_name"] == "Edited"

    assert httpx.delete(third + path, headers=DAFTRA).status_code == 200
    assert httpx.get(first + path, headers=DAFTRA).status_code == 404


def test_an_invoice_with_its_items_is_stored_whole_on_every_replica(replicas):
    first, second, _ = replicas
    items = [{"item": f"Line {n}", "unit_price": 10, "quantity": n} for n in (1, 2, 3)]
    invoice = {"Invoice": {"client_id": 1}, "InvoiceItem": items}
    answers = spread(replicas, [("POST", "/api2/invoices", DAFTRA, invoice)] * 30)
    assert {answer.status_code for answer in answers} == {202}
    shown = [httpx.get(f"{second}/api2/invoices/{a.json()['id']}", headers=DAFTRA).json()["data"] for a in answers]
    assert all([line["item"] for line in s["Invoice"]["InvoiceItem"]] == ["Line 1", "Line 2", "Line 3"] for s in shown)
    numbers = sorted(int(s["Invoice"]["no"]) for s in shown)
    assert numbers == list(range(numbers[0], numbers[0] + 30)), "invoice numbers stay unique and gap-free"


def test_the_admin_api_on_one_replica_acts_on_all(replicas):
    first, second, third = replicas
    httpx.delete(f"{first}/__mock/journal")
    created = httpx.post(f"{first}/api2/clients.json", headers=DAFTRA, json={"Client": {"business_name": "Gone"}})
    path = f"/api2/clients/{created.json()['id']}"
    snapshot = httpx.get(f"{second}/__mock/snapshot").json()
    assert httpx.post(f"{third}/__mock/reset").status_code == 200
    assert httpx.get(second + path, headers=DAFTRA).status_code == 404, "a reset on one replica resets all"
    assert httpx.put(f"{first}/__mock/snapshot", json=snapshot).status_code == 200
    assert httpx.get(third + path, headers=DAFTRA).status_code == 200, "a restore on one replica restores all"

    fault = {"fault": "503"}
    assert httpx.put(f"{first}/__mock/controls/daftra/getClient", json=fault).status_code == 200
    assert httpx.get(f"{second}/api2/clients/1", headers=DAFTRA).status_code == 503
    assert httpx.delete(f"{third}/__mock/controls/daftra/getClient").status_code == 200
    assert httpx.get(f"{first}/api2/clients/1", headers=DAFTRA).status_code == 200

    alice = {**DAFTRA, "X-Mock-Session": "alice"}
    mine = httpx.post(f"{first}/api2/clients.json", headers=alice, json={"Client": {"business_name": "Alice's"}})
    assert httpx.get(f"{second}/api2/clients/{mine.json()['id']}", headers=alice).status_code == 200
    default = httpx.get(f"{second}/api2/clients/{mine.json()['id']}", headers=DAFTRA)
    assert default.status_code == 404 or default.json()["data"]["Client"]["business_name"] != "Alice's"
    assert "alice" in [s["name"] for s in httpx.get(f"{third}/__mock/sessions").json()["daftra"]]

    httpx.delete(f"{first}/__mock/journal")
    for url in replicas:
        httpx.get(f"{url}/api2/clients/1", headers={**DAFTRA, "X-Trace": url})
    entries = httpx.get(f"{second}/__mock/journal").json()["entries"]
    assert [e["request_headers"]["x-trace"] for e in entries] == list(reversed(replicas)), "every replica, newest first"


def test_workers_share_one_state_and_the_memory_store_refuses_more_than_one(replicas):
    refused = CliRunner().invoke(main, ["serve", "--workers", "2"])
    assert refused.exit_code == 2 and "--store redis://" in refused.output and "Traceback" not in refused.output

    workers = replicas[2]
    for n in range(10):  # each new connection lands on either worker; each finds the other's write
        created = httpx.post(
            f"{workers}/api2/clients.json", headers=DAFTRA, json={"Client": {"business_name": f"W{n}"}}
        )
        assert httpx.get(f"{workers}/api2/clients/{created.json()['id']}", headers=DAFTRA).status_code == 200


# -- faults -----------------------------------------------------------------


@pytest.fixture(scope="module")
def durable() -> Iterator[tuple[RedisServer, ServerProcess]]:
    """A redis-server that writes every command to its append-only file before answering, and one mock on it."""
    with (
        RedisServer(durable=True) as redis_server,
        ServerProcess("--store", redis_server.url(0), startup_timeout=60) as mock,
    ):
        yield redis_server, mock


def test_redis_stopped_then_restarted_under_traffic(durable):
    redis_server, mock = durable
    with httpx.Client(base_url=mock.url, headers=DAFTRA, timeout=10) as client:
        assert client.get("/api2/clients/1").status_code == 200
        redis_server.stop()
        for _ in range(3):
            started = time.monotonic()
            answer = client.get("/api2/clients/1")
            assert time.monotonic() - started < 2.5, "bounded by the socket timeout"
            assert answer.status_code == 503
            assert answer.json()["result"] == "failed" and "state store" in answer.json()["message"]
        write = client.post("/api2/clients.json", json={"Client": {"business_name": "While down"}})
        assert write.status_code == 503 and write.json()["code"] == 503
        assert "Traceback" not in mock.output()

        redis_server.start()
        assert client.get("/api2/clients/1").status_code == 200, "recovered by itself"
        assert client.post("/api2/clients.json", json={"Client": {"business_name": "Back"}}).status_code == 202


def test_kill_9_of_redis_loses_no_acknowledged_write(durable):
    redis_server, mock = durable
    acknowledged: list[int] = []
    stop = threading.Event()

    def write() -> None:
        with httpx.Client(base_url=mock.url, headers=DAFTRA, timeout=10) as client:
            n = 0
            while not stop.is_set():
                n += 1
                answer = client.post("/api2/clients.json", json={"Client": {"business_name": f"Durable {n}"}})
                if answer.status_code == 202:
                    acknowledged.append(answer.json()["id"])

    writers = [threading.Thread(target=write) for _ in range(4)]
    for thread in writers:
        thread.start()
    deadline = time.monotonic() + 10
    while len(acknowledged) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    redis_server.kill()
    time.sleep(0.2)
    stop.set()
    for thread in writers:
        thread.join()
    redis_server.start()

    assert len(acknowledged) > 10
    with httpx.Client(base_url=mock.url, headers=DAFTRA, timeout=10) as client:
        missing = [i for i in acknowledged if client.get(f"/api2/clients/{i}").status_code != 200]
    assert missing == []
