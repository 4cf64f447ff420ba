"""Stateful Daftra flows against a live mock."""

from __future__ import annotations

from seed import DAFTRA, DAFTRA_READ_ONLY, DAFTRA_SEED


def create(http, **fields):
    response = http.post("/api2/clients", headers=DAFTRA, json={"Client": {"business_name": "Flow Co", **fields}})
    assert response.status_code == 202, response.text
    return response.json()


def test_create_view_list_edit_delete(http):
    created = create(http, email="flow@example.com", type=3)
    path = f"/api2/clients/{created['id']}"
    client = http.get(path, headers=DAFTRA).json()["data"]["Client"]
    assert client["business_name"] == "Flow Co" and client["type"] == 3
    assert client["staff_id"] == 0, "staff_id defaults to the account owner"

    listed = http.get("/api2/clients", headers=DAFTRA, params={"limit": 1000}).json()
    assert int(created["id"]) in [row["Client"]["id"] for row in listed["data"]]

    edited = http.put(f"{path}.json", headers=DAFTRA, json={"Client": {"phone1": "555-0100"}})
    assert edited.status_code == 200 and edited.json() == {"code": 200, "result": "successful"}
    client = http.get(path, headers=DAFTRA).json()["data"]["Client"]
    assert client["phone1"] == "555-0100" and client["business_name"] == "Flow Co"

    assert http.delete(path, headers=DAFTRA).json() == {"code": 200, "result": "successful"}
    gone = http.get(path, headers=DAFTRA)
    assert gone.status_code == 404
    assert gone.json() == {"result": "failed", "code": 404, "message": "Item not found"}
    assert http.delete(path, headers=DAFTRA).status_code == 404


def test_client_numbers_are_sequential_unless_given(http):
    first = int(create(http)["client_number"])
    second = int(create(http)["client_number"])
    assert second == first + 1
    assert create(http, client_number="0000715")["client_number"] == "0000715"


def test_validation_errors_name_the_field(http):
    response = http.post("/api2/clients", headers=DAFTRA, json={"Client": {"email": "not mail", "type": 7}})
    assert response.status_code == 400
    body = response.json()
    assert body["result"] == "failed" and body["code"] == 400 and body["message"] == "Bad Request"
    assert set(body["validation_errors"]) == {"business_name", "email", "type"}
    assert all(isinstance(v, str) for v in body["validation_errors"].values())
    unwrapped = http.post("/api2/clients", headers=DAFTRA, json={"business_name": "No wrapper"})
    assert unwrapped.status_code == 400 and "Client" in unwrapped.json()["validation_errors"]


def test_pagination_object(http):
    total = http.get("/api2/clients", headers=DAFTRA).json()["pagination"]["total_results"]
    page = http.get("/api2/clients.json", headers=DAFTRA, params={"limit": 1, "page": 2}).json()
    assert len(page["data"]) == 1
    assert page["pagination"] == {
        "prev": "/api2/clients.json?limit=1&page=1",
        "next": "/api2/clients.json?limit=1&page=3" if total > 2 else None,
        "page": 2,
        "page_count": total,
        "total_results": total,
    }
    for bad in ({"limit": 0}, {"limit": 1001}, {"page": 0}, {"page": "x"}):
        response = http.get("/api2/clients", headers=DAFTRA, params=bad)
        assert response.status_code == 400, bad
        assert list(response.json()["validation_errors"]) == list(bad)
    assert http.get("/api2/clients", headers=DAFTRA, params={"sort": "created", "unknown": "x"}).status_code == 200
    far = http.get("/api2/clients", headers=DAFTRA, params={"page": 10**25, "limit": 150})
    assert far.status_code == 200 and far.json()["data"] == [] and far.json()["pagination"]["next"] is None


def test_api_key_header_is_case_insensitive_and_checked_by_value(http):
    key = DAFTRA["APIKEY"]
    assert http.get("/api2/site_info", headers={"apikey": key}).status_code == 200
    for headers in ({}, {"APIKEY": "wrong"}, {"APIKEY": key, "Authorization": "Bearer x"}):
        response = http.get("/api2/site_info", headers=headers)
        assert response.status_code == 401
        assert response.json() == {"result": "failed", "code": 401, "message": "Unauthorized"}


def test_read_only_key_reads_but_cannot_write(http):
    assert http.get("/api2/clients", headers=DAFTRA_READ_ONLY).status_code == 200
    response = http.post("/api2/clients", headers=DAFTRA_READ_ONLY, json={"Client": {"business_name": "x"}})
    assert response.status_code == 403
    assert response.json() == {"result": "failed", "code": 403, "message": "Forbidden"}


def test_site_staff_and_listing(http):
    site = http.get("/api2/site_info.json", headers=DAFTRA).json()["data"]["Site"]
    assert site["id"] == DAFTRA_SEED["api_keys"][0]["site_id"]
    staff = http.get("/api2/staff", headers=DAFTRA).json()
    assert [row["Staff"]["id"] for row in staff["data"]] == [s["id"] for s in DAFTRA_SEED["staff"]]
    assert all("password" not in row["Staff"] for row in staff["data"])
    assert http.get("/api2/staff/1.json", headers=DAFTRA).json()["data"]["Staff"]["name"] == DAFTRA_SEED["staff"][0]["name"]
    listing = http.get("/api2/listing/GroupPrice.json", headers=DAFTRA).json()
    assert listing["data"]["Listing"] == next(x["items"] for x in DAFTRA_SEED["listings"] if x["id"] == "GroupPrice")
    unknown = http.get("/api2/listing/Nonsense", headers=DAFTRA)
    assert unknown.status_code == 404
    assert unknown.json() == {"result": "failed", "code": 404, "message": "Invalid Endpoint"}
