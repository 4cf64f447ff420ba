"""Stateful Daftra flows against the mock, in-process."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator
from seed import DAFTRA, DAFTRA_READ_ONLY, DAFTRA_SEED

from mockserver.config import DEFAULT_SPECS
from mockserver.spec.openapi import load_spec

pytestmark = pytest.mark.both_backends  # tests/conftest.py: on memory and on Redis


def create(mock, **fields):
    response = mock.post("/api2/clients", headers=DAFTRA, json={"Client": {"business_name": "Flow Co", **fields}})
    assert response.status_code == 202, response.text
    return response.json()


def test_create_view_list_edit_delete(mock):
    created = create(mock, email="flow@example.com", type=3)
    path = f"/api2/clients/{created['id']}"
    client = mock.get(path, headers=DAFTRA).json()["data"]["Client"]
    assert client["business_name"] == "Flow Co" and client["type"] == 3
    assert client["staff_id"] == 0, "staff_id defaults to the account owner"

    listed = mock.get("/api2/clients", headers=DAFTRA, params={"limit": 1000}).json()
    assert int(created["id"]) in [row["Client"]["id"] for row in listed["data"]]

    edited = mock.put(f"{path}.json", headers=DAFTRA, json={"Client": {"phone1": "555-0100"}})
    assert edited.status_code == 200 and edited.json() == {"code": 200, "result": "successful"}
    client = mock.get(path, headers=DAFTRA).json()["data"]["Client"]
    assert client["phone1"] == "555-0100" and client["business_name"] == "Flow Co"

    assert mock.delete(path, headers=DAFTRA).json() == {"code": 200, "result": "successful"}
    gone = mock.get(path, headers=DAFTRA)
    assert gone.status_code == 404
    assert gone.json() == {"result": "failed", "code": 404, "message": "Item not found"}
    assert mock.delete(path, headers=DAFTRA).status_code == 404


def test_client_numbers_are_sequential_unless_given(mock):
    first = int(create(mock)["client_number"])
    second = int(create(mock)["client_number"])
    assert second == first + 1
    assert create(mock, client_number="0000715")["client_number"] == "0000715"


def test_validation_errors_name_the_field(mock):
    response = mock.post("/api2/clients", headers=DAFTRA, json={"Client": {"email": "not mail", "type": 7}})
    assert response.status_code == 400
    body = response.json()
    assert body["result"] == "failed" and body["code"] == 400 and body["message"] == "Bad Request"
    assert set(body["validation_errors"]) == {"business_name", "email", "type"}
    assert all(isinstance(v, str) for v in body["validation_errors"].values())
    unwrapped = mock.post("/api2/clients", headers=DAFTRA, json={"business_name": "No wrapper"})
    assert unwrapped.status_code == 400 and "Client" in unwrapped.json()["validation_errors"]


def test_pagination_object(mock):
    total = mock.get("/api2/clients", headers=DAFTRA).json()["pagination"]["total_results"]
    page = mock.get("/api2/clients.json", headers=DAFTRA, params={"limit": 1, "page": 2}).json()
    assert len(page["data"]) == 1
    assert page["pagination"] == {
        "prev": "/api2/clients.json?limit=1&page=1",
        "next": "/api2/clients.json?limit=1&page=3" if total > 2 else None,
        "page": 2,
        "page_count": total,
        "total_results": total,
    }
    for bad in ({"limit": 0}, {"limit": 1001}, {"page": 0}, {"page": "x"}):
        response = mock.get("/api2/clients", headers=DAFTRA, params=bad)
        assert response.status_code == 400, bad
        assert list(response.json()["validation_errors"]) == list(bad)
    assert mock.get("/api2/clients", headers=DAFTRA, params={"sort": "created", "unknown": "x"}).status_code == 200
    far = mock.get("/api2/clients", headers=DAFTRA, params={"page": 10**25, "limit": 150})
    assert far.status_code == 200 and far.json()["data"] == [] and far.json()["pagination"]["next"] is None


def test_api_key_header_is_case_insensitive_and_checked_by_value(mock):
    key = DAFTRA["APIKEY"]
    assert mock.get("/api2/site_info", headers={"apikey": key}).status_code == 200
    for headers in ({}, {"APIKEY": "wrong"}, {"APIKEY": key, "Authorization": "Bearer x"}):
        response = mock.get("/api2/site_info", headers=headers)
        assert response.status_code == 401
        assert response.json() == {"result": "failed", "code": 401, "message": "Unauthorized"}


def test_read_only_key_reads_but_cannot_write(mock):
    assert mock.get("/api2/clients", headers=DAFTRA_READ_ONLY).status_code == 200
    response = mock.post("/api2/clients", headers=DAFTRA_READ_ONLY, json={"Client": {"business_name": "x"}})
    assert response.status_code == 403
    assert response.json() == {"result": "failed", "code": 403, "message": "Forbidden"}


def test_site_staff_and_listing(mock):
    site = mock.get("/api2/site_info.json", headers=DAFTRA).json()["data"]["Site"]
    assert site["id"] == DAFTRA_SEED["api_keys"][0]["site_id"]
    staff = mock.get("/api2/staff", headers=DAFTRA).json()
    assert [row["Staff"]["id"] for row in staff["data"]] == [s["id"] for s in DAFTRA_SEED["staff"]]
    assert all("password" not in row["Staff"] for row in staff["data"])
    assert (
        mock.get("/api2/staff/1.json", headers=DAFTRA).json()["data"]["Staff"]["name"]
        == DAFTRA_SEED["staff"][0]["name"]
    )
    listing = mock.get("/api2/listing/GroupPrice.json", headers=DAFTRA).json()
    assert listing["data"]["Listing"] == next(x["items"] for x in DAFTRA_SEED["listings"] if x["id"] == "GroupPrice")
    unknown = mock.get("/api2/listing/Nonsense", headers=DAFTRA)
    assert unknown.status_code == 404
    assert unknown.json() == {"result": "failed", "code": 404, "message": "Invalid Endpoint"}


def _fits(operation_id: str, status: int, body: dict) -> list[str]:
    spec = load_spec(DEFAULT_SPECS / "daftra.yaml")
    schema = next(op for op in spec.operations if op.operation_id == operation_id).response_schema(status)
    return [error.message for error in Draft202012Validator(schema).iter_errors(body)]


def test_amounts_are_bounded_so_computed_totals_stay_numbers(mock):
    # Found by the self-certification: a product of huge amounts overflowed and the totals came back null.
    largest = {"item": "Bulk", "unit_price": 10**15, "quantity": 10**15}
    created = mock.post(
        "/api2/estimates", headers=DAFTRA, json={"Estimate": {"client_id": 1}, "InvoiceItem": [largest]}
    )
    assert created.status_code == 202, created.text
    shown = mock.get(f"/api2/estimates/{created.json()['id']}", headers=DAFTRA).json()
    assert shown["data"]["Estimate"]["summary_total"] == 1e30
    assert _fits("getEstimate", 200, shown) == []
    too_large = mock.post(
        "/api2/estimates",
        headers=DAFTRA,
        json={"Estimate": {"client_id": 1}, "InvoiceItem": [{**largest, "unit_price": 1e200}]},
    )
    assert too_large.status_code == 400
    assert too_large.json()["validation_errors"] == {
        "InvoiceItem.0.unit_price": "InvoiceItem.0.unit_price must be at most 1000000000000000"
    }


def test_a_work_order_number_an_edit_clears_reads_back_as_null(mock):
    # Found by the self-certification: the answer's schema said the number is always a string.
    created = mock.post(
        "/api2/work_orders", headers=DAFTRA, json={"WorkOrder": {"title": "Clear me", "start_date": "2026-03-01"}}
    )
    assert created.status_code == 202, created.text
    path = f"/api2/work_orders/{created.json()['id']}"
    assert mock.put(path, headers=DAFTRA, json={"WorkOrder": {"number": None}}).status_code == 200
    shown = mock.get(path, headers=DAFTRA).json()
    assert shown["data"]["WorkOrder"]["number"] is None
    assert _fits("getWorkOrder", 200, shown) == []
