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


@pytest.fixture(scope="module")
def mock(redis_server: RedisServer) -> Iterator[TestClient]:
    redis_server.client(0).flushdb()
    with in_process(store=redis_server.url(0)) as client:
        yield client
