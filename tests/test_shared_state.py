"""The behaviour tests on the Redis backend (`--store redis://…`), in-process.

A representative set of the behaviour tests, each written once in its own
module and run there on the in-memory store, is collected here again with
`mock` on Redis: create, read, update, delete; unique keys; sequences; child
lists; dependants; login and logout; reset, snapshot, restore and fixture
loads; sessions; latency and fault controls; the journal.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from inprocess import in_process
from redis_server import RedisServer
from seed import DAFTRA
from starlette.testclient import TestClient
from test_controls import (  # noqa: F401 (collected again, on Redis)
    test_journal_newest_first_filtered_and_masked,
    test_load_fixtures_replaces_one_api,
    test_per_operation_faults_through_the_admin_api,
    test_reset_snapshot_and_restore,
    test_sessions_keep_callers_apart,
)
from test_daftra_documents import (  # noqa: F401
    test_a_record_others_depend_on_cannot_be_deleted,
    test_an_invoice_with_a_taxed_product_then_a_partial_payment,
    test_invoice_numbers_follow_each_other,
)
from test_daftra_flows import (  # noqa: F401
    test_client_numbers_are_sequential_unless_given,
    test_create_view_list_edit_delete,
)
from test_facturacion_flows import (  # noqa: F401
    test_create_show_list_update_deactivate_show,
    test_duplicate_is_per_company,
    test_login_me_logout,
)

from mockserver.server.journal import Entry, SharedJournal
from mockserver.server.process import free_port
from mockserver.state.shared import RedisConnection, SharedList


@pytest.fixture(scope="module")
def mock(redis_server: RedisServer) -> Iterator[TestClient]:
    redis_server.client(0).flushdb()
    with in_process(store=redis_server.url(0)) as client:
        yield client


def test_the_shared_journal_is_bounded_and_newest_first(redis_server):
    redis_server.client(3).flushdb()
    journal = SharedJournal(SharedList(RedisConnection(redis_server.url(3)), "mockserver:journal", 3))
    for n in range(5):
        entry = Entry("GET", f"/api2/clients/{n}", "", 200, "daftra", "getClient", None, 1.0, {}, None, None)
        journal.record(entry)
    assert [e.path for e in journal.select({})] == ["/api2/clients/4", "/api2/clients/3", "/api2/clients/2"]
    assert [e.id for e in journal.select({})] == [5, 4, 3]


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
