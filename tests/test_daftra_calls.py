"""The calls Daftra's docs document beyond plain CRUD: bulk create, POST as edit (in-process)."""

from __future__ import annotations

import pytest
from seed import DAFTRA, DAFTRA_SEED

pytestmark = pytest.mark.both_backends  # tests/conftest.py: on memory and on Redis

LINE = {"item": "Chair", "product_id": "1", "unit_price": "100.00", "quantity": "2"}


def test_a_body_refused_by_its_schema_is_not_judged_by_the_rules(mock):
    # CakePHP's application rules (existsIn) judge only an entity that passed validation
    lines = [{**LINE, "quantity": "many"}]
    sent = {"Invoice": {"client_id": 999999, "store_id": "1"}, "InvoiceItem": lines}
    refused = mock.post("/api2/invoices.json", headers=DAFTRA, json=sent)
    assert refused.status_code == 400
    assert list(refused.json()["validation_errors"]) == ["InvoiceItem.0.quantity"]
    alone = mock.post("/api2/invoices.json", headers=DAFTRA, json={**sent, "InvoiceItem": [LINE]})
    assert list(alone.json()["validation_errors"]) == ["client_id"]


def test_bulk_create_answers_each_invoice_in_order_and_is_not_atomic(mock):
    sent = [
        {"Invoice": {"client_id": "1", "store_id": "1"}, "InvoiceItem": [LINE]},
        {"Invoice": {"client_id": 999999}},
        {"Invoice": {"client_id": 2}, "InvoiceItem": [{**LINE, "quantity": "many"}]},
        {"Invoice": {"client_id": 2}, "InvoiceItem": [LINE]},
    ]
    response = mock.post("/api2/invoices/add_bulk.json", headers=DAFTRA, json=sent)
    assert response.status_code == 200, response.text
    first, unknown, bad, last = response.json()
    assert (first["code"], first["result"], unknown["code"], bad["code"], last["code"]) == (
        202,
        "successful",
        400,
        400,
        202,
    )
    assert "client_id" in unknown["validation_errors"] and "InvoiceItem.0.quantity" in bad["validation_errors"]
    for created in (first, last):
        read = mock.get(f"/api2/invoices/{created['id']}", headers=DAFTRA).json()["data"]["Invoice"]
        assert read["summary_total"] == 200.0
    assert int(last["id"]) == int(first["id"]) + 1, "the refused ones created nothing"


def test_bulk_create_wants_a_list(mock):
    refused = mock.post("/api2/invoices/add_bulk", headers=DAFTRA, json={"Invoice": {"client_id": 1}})
    assert refused.status_code == 400 and refused.json()["validation_errors"] == {"body": "body must be a list"}
    assert mock.post("/api2/invoices/add_bulk", headers={**DAFTRA, "APIKEY": "wrong"}, json=[]).status_code == 401
    elsewhere = mock.post("/api2/clients", headers=DAFTRA, json=[{"Client": {"business_name": "x"}}])
    assert elsewhere.status_code == 400 and list(elsewhere.json()["validation_errors"]) == ["body"]


def test_an_invoice_is_edited_by_post_as_the_docs_allow(mock):
    created = mock.post("/api2/invoices", headers=DAFTRA, json={"Invoice": {"client_id": 1}, "InvoiceItem": [LINE]})
    path = f"/api2/invoices/{created.json()['id']}"
    edited = mock.post(f"{path}.json", headers=DAFTRA, json={"Invoice": {"notes": "edited by POST"}})
    assert edited.status_code == 200 and edited.json() == {"code": 200, "result": "successful"}
    assert mock.get(path, headers=DAFTRA).json()["data"]["Invoice"]["notes"] == "edited by POST"
    assert mock.post("/api2/invoices/999999", headers=DAFTRA, json={"Invoice": {"notes": "x"}}).status_code == 404


def test_a_journal_must_balance(mock):
    lines = [
        {"journal_account_id": 1, "debit": "100", "credit": 0},
        {"journal_account_id": 2, "debit": 0, "credit": 99.99},
    ]
    refused = mock.post(
        "/api2/journals", headers=DAFTRA, json={"Journal": {"description": "Rent"}, "JournalTransaction": lines}
    )
    assert refused.status_code == 400
    assert refused.json()["validation_errors"] == {"JournalTransaction": "The total debit must equal the total credit"}
    lines[1]["credit"] = "100.00"
    created = mock.post(
        "/api2/journals", headers=DAFTRA, json={"Journal": {"description": "Rent"}, "JournalTransaction": lines}
    )
    assert created.status_code == 202, created.text
    path = f"/api2/journals/{created.json()['id']}"
    lines[0]["debit"] = 50
    assert mock.put(path, headers=DAFTRA, json={"JournalTransaction": lines, "Journal": {}}).status_code == 400
    assert mock.put(path, headers=DAFTRA, json={"Journal": {"description": "Office rent"}}).status_code == 200
    journal = mock.get(path, headers=DAFTRA).json()["data"]["Journal"]
    assert journal["total_debit"] == journal["total_credit"] == 100


def test_a_polymorphic_reference_names_a_record_of_its_kind(mock):
    lines = [{"journal_account_id": 1, "debit": 5, "credit": 0}, {"journal_account_id": 2, "debit": 0, "credit": 5}]

    def journal(entity_type: str, entity_id: str):
        header = {"description": "Posted for a document", "entity_type": entity_type, "entity_id": entity_id}
        return mock.post("/api2/journals", headers=DAFTRA, json={"Journal": header, "JournalTransaction": lines})

    refused = journal("invoice", "999999")
    assert refused.status_code == 400, refused.text
    assert refused.json()["validation_errors"] == {"entity_id": "entity_id does not refer to an existing invoice"}
    assert journal("invoice", "2").status_code == 202, "the text id names invoice 2"
    assert journal("expense", "999999").status_code == 400, "each kind its own resource"
    assert journal("treasury_transfer", "999999").status_code == 202, "no resource of that kind to name"
    account = {"name": "Client account", "type": "0", "entity_type": "client", "entity_id": "999999"}
    refused = mock.post("/api2/journal_accounts", headers=DAFTRA, json={"JournalAccount": account})
    assert refused.status_code == 400 and "entity_id" in refused.json()["validation_errors"]


def test_invoices_and_stock_transactions_move_the_stock_balance(mock):
    def stock(product_id):
        return mock.get(f"/api2/products/{product_id}", headers=DAFTRA).json()["data"]["Product"]["stock_balance"]

    product = mock.post(
        "/api2/products", headers=DAFTRA, json={"Product": {"name": "Lamp", "track_stock": 1, "stock_balance": "25"}}
    )
    product_id = product.json()["id"]
    assert stock(product_id) == 25, "the initial stock"
    line = {"item": "Lamp", "product_id": product_id, "unit_price": 10, "quantity": "3"}
    invoice = mock.post("/api2/invoices", headers=DAFTRA, json={"Invoice": {"client_id": 1}, "InvoiceItem": [line]})
    assert invoice.status_code == 202 and stock(product_id) == 22
    moved = {
        "StockTransaction": {"product_id": product_id, "transaction_type": 1, "quantity": 10, "price": 4, "store_id": 1}
    }
    assert mock.post("/api2/stock_transactions", headers=DAFTRA, json=moved).status_code == 202
    moved["StockTransaction"]["transaction_type"] = 2
    moved["StockTransaction"]["quantity"] = 4
    assert mock.post("/api2/stock_transactions", headers=DAFTRA, json=moved).status_code == 202
    assert stock(product_id) == 28
    assert mock.delete(f"/api2/invoices/{invoice.json()['id']}", headers=DAFTRA).status_code == 200
    assert stock(product_id) == 31, "a deleted invoice gives its stock back"
    service = mock.post("/api2/products", headers=DAFTRA, json={"Product": {"name": "Fitting", "track_stock": 0}})
    assert stock(service.json()["id"]) is None, "no stock is kept for what tracks none"


TOKEN_FORM = {
    "client_id": "1",
    "client_secret": "demo-oauth-secret",
    "grant_type": "password",
    "username": "owner@demo-trading.example",
    "password": "demo-password",
}


def test_the_docs_token_flow_then_bearer_authentication(mock):
    issued = mock.post("/v2/oauth/token", files={name: (None, value) for name, value in TOKEN_FORM.items()})
    assert issued.status_code == 200, issued.text
    token = issued.json()
    assert token["token_type"] == "Bearer" and isinstance(token["expires_in"], int) and token["refresh_token"]
    bearer = {"Authorization": f"Bearer {token['access_token']}", "Site-Id": "1"}
    assert mock.get("/api2/clients/1", headers=bearer).status_code == 200
    assert (
        mock.post("/api2/clients", headers=bearer, json={"Client": {"business_name": "Bearer Co"}}).status_code == 202
    )
    for wrong in ({"Authorization": "Bearer not-a-token"}, {"Authorization": token["access_token"]}, {}):
        refused = mock.get("/api2/clients/1", headers=wrong)
        assert refused.status_code == 401 and refused.json() == {
            "result": "failed",
            "code": 401,
            "message": "Unauthorized",
        }
    bad = mock.post("/v2/oauth/token", data={**TOKEN_FORM, "client_secret": "guess"})
    assert bad.status_code == 401 and bad.json()["message"] == "Unauthorized"
    assert mock.post("/v2/oauth/token", data={**TOKEN_FORM, "grant_type": "client_credentials"}).status_code == 400


def test_clients_and_invoices_are_numbered_zero_padded_as_live(mock):
    client = mock.post("/api2/clients", headers=DAFTRA, json={"Client": {"business_name": "Padded Co"}}).json()
    assert len(client["client_number"]) == 6 and int(client["client_number"]) > 0
    invoice = mock.post(
        "/api2/invoices", headers=DAFTRA, json={"Invoice": {"client_id": client["id"]}, "InvoiceItem": [LINE]}
    )
    number = mock.get(f"/api2/invoices/{invoice.json()['id']}", headers=DAFTRA).json()["data"]["Invoice"]["no"]
    assert len(number) == 6 and number.isdigit(), number


def test_an_expired_bearer_token_gets_the_documented_401(mock):
    expired = next(t for t in DAFTRA_SEED["oauth_tokens"] if t["expires_at"])
    refused = mock.get("/api2/clients/1", headers={"Authorization": f"Bearer {expired['access_token']}"})
    assert refused.status_code == 401
    assert refused.json() == {"result": "failed", "code": 401, "message": "Unauthorized"}
