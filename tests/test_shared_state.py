"""The Redis backend's own parts, in-process: the shared journal, and a store that does not answer.

Every behaviour test runs on Redis too, in its own module (`both_backends`, tests/conftest.py).
"""

from __future__ import annotations

from seed import DAFTRA

from mockserver.server.journal import Entry, SharedJournal
from mockserver.server.process import free_port
from mockserver.state.shared import RedisConnection, SharedList


def test_the_shared_journal_is_bounded_and_newest_first(redis_server):
    redis_server.client(3).flushdb()
    journal = SharedJournal(SharedList(RedisConnection(redis_server.url(3)), "mockserver:journal", 3))
    for n in range(5):
        entry = Entry("GET", f"/api2/clients/{n}", "", 200, "daftra", "getClient", None, 1.0, {}, None, None)
        journal.record(entry)
    assert [e.path for e in journal.read({}, 100)[1]] == ["/api2/clients/4", "/api2/clients/3", "/api2/clients/2"]
    assert [e.id for e in journal.read({}, 100)[1]] == [5, 4, 3]


def test_an_unreachable_store_is_a_503_in_each_apis_envelope(make_mock):
    client = make_mock(store=f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    daftra = client.get("/api2/clients/1", headers=DAFTRA)
    assert daftra.status_code == 503
    assert daftra.json() == {"result": "failed", "code": 503, "message": daftra.json()["message"]}
    assert "state store" in daftra.json()["message"]
    facturacion = client.post("/api/auth/login", json={"email": "admin@demo.pe", "password": "secret123"})
    assert facturacion.status_code == 503 and "state store" in facturacion.text
    admin = client.post("/__mock/reset")
    assert admin.status_code == 503 and "state store" in admin.json()["error"]


def test_a_redis_that_lost_its_scripts_keeps_serving_and_sharing(redis_server, make_mock):
    redis_server.client(4).flushdb()
    one, other = (make_mock(store=redis_server.url(4)) for _ in range(2))
    assert one.get("/api2/clients/1", headers=DAFTRA).status_code == 200
    redis_server.client(4).script_flush()  # as after a restart: the scripts the replicas loaded are gone
    created = one.post("/api2/clients.json", headers=DAFTRA, json={"Client": {"business_name": "After Flush"}})
    assert created.status_code == 202
    shown = other.get(f"/api2/clients/{created.json()['id']}", headers=DAFTRA)
    assert shown.json()["data"]["Client"]["business_name"] == "After Flush"
    assert [e["path"] for e in other.get("/__mock/journal").json()["entries"]][:2] == [
        f"/api2/clients/{created.json()['id']}",
        "/api2/clients.json",
    ]
