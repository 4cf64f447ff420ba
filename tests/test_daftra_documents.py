"""Daftra documents against the mock, in-process: figures computed from items, taxes and payments; references
checked; dependants block deletes; a document's own items go with it."""

from __future__ import annotations

import pytest
from seed import DAFTRA, DAFTRA_SEED

pytestmark = pytest.mark.both_backends  # tests/conftest.py: on memory and on Redis

VAT = next(t for t in DAFTRA_SEED["taxes"] if t["id"] == 1)["value"]


def create(mock, path: str, body: dict) -> str:
    response = mock.post(path, headers=DAFTRA, json=body)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def invoice(mock, invoice_id: str) -> dict:
    response = mock.get(f"/api2/invoices/{invoice_id}", headers=DAFTRA)
    assert response.status_code == 200, response.text
    return response.json()["data"]["Invoice"]


def test_an_invoice_with_a_taxed_product_then_a_partial_payment(mock):
    invoice_id = create(
        mock,
        "/api2/invoices",
        {
            "Invoice": {"client_id": 1, "currency_code": "EGP", "date": "2026-11-20"},
            "InvoiceItem": [
                {"item": "Copy paper", "product_id": 1, "unit_price": 185, "quantity": 4, "tax1": 1},
                {"item": "Delivery", "unit_price": 60, "quantity": 1},
            ],
        },
    )
    created = invoice(mock, invoice_id)
    subtotal = 185 * 4 + 60
    tax = round(185 * 4 * VAT / 100, 2)
    assert created["summary_subtotal"] == subtotal
    assert created["summary_tax1"] == tax
    assert created["summary_total"] == round(subtotal + tax, 2)
    assert created["summary_paid"] == 0 and created["payment_status"] == 0, "unpaid"
    assert [line["subtotal"] for line in created["InvoiceItem"]] == [740, 60]
    assert created["no"], "numbered in sequence when omitted"

    create(
        mock,
        "/api2/invoice_payments",
        {"InvoicePayment": {"invoice_id": int(invoice_id), "payment_method": "cash", "amount": 300, "treasury_id": 1}},
    )
    partly = invoice(mock, invoice_id)
    assert partly["summary_paid"] == 300
    assert partly["summary_unpaid"] == round(subtotal + tax - 300, 2)
    assert partly["payment_status"] == 1, "partially paid"
    assert [p["amount"] for p in partly["InvoicePayment"]] == [300]

    create(
        mock,
        "/api2/invoice_payments",
        {
            "InvoicePayment": {
                "invoice_id": int(invoice_id),
                "payment_method": "cash",
                "amount": partly["summary_unpaid"],
                "treasury_id": 1,
            }
        },
    )
    paid = invoice(mock, invoice_id)
    assert paid["summary_unpaid"] == 0 and paid["payment_status"] == 2, "fully paid"


def test_invoice_numbers_follow_each_other(mock):
    body = {"Invoice": {"client_id": 2}, "InvoiceItem": [{"item": "Paper", "unit_price": 10, "quantity": 1}]}
    first, second = (invoice(mock, create(mock, "/api2/invoices", body))["no"] for _ in range(2))
    assert int(second) == int(first) + 1


def test_references_must_exist_and_errors_name_the_field(mock):
    response = mock.post(
        "/api2/invoices",
        headers=DAFTRA,
        json={
            "Invoice": {"client_id": 999},
            "InvoiceItem": [{"item": "Ghost", "product_id": 999, "unit_price": 1, "quantity": 1}],
        },
    )
    assert response.status_code == 400
    errors = response.json()["validation_errors"]
    assert "client_id" in errors and "InvoiceItem.0.product_id" in errors


def test_a_record_others_depend_on_cannot_be_deleted(mock):
    product_id = create(mock, "/api2/products", {"Product": {"name": "Stapler", "unit_price": 40}})
    invoice_id = create(
        mock,
        "/api2/invoices",
        {
            "Invoice": {"client_id": 1},
            "InvoiceItem": [{"item": "Stapler", "product_id": int(product_id), "unit_price": 40, "quantity": 1}],
        },
    )
    refused = mock.delete(f"/api2/products/{product_id}", headers=DAFTRA)
    assert refused.status_code == 400
    assert refused.json() == {
        "result": "failed",
        "code": 400,
        "message": "Can't delete item. Remove its transactions first.",
    }

    assert mock.delete(f"/api2/invoices/{invoice_id}", headers=DAFTRA).status_code == 200
    items = mock.get("/__mock/apis/daftra/resources/invoice_items", params={"limit": 100000}).json()["records"]
    assert not [i for i in items if i["invoice_id"] == int(invoice_id)], "the invoice's items went with it"
    assert mock.delete(f"/api2/products/{product_id}", headers=DAFTRA).status_code == 200, (
        "nothing depends on the product any more"
    )


def test_the_client_is_copied_onto_the_invoice_and_the_copy_stays(mock):
    client = {"business_name": "Delta Traders", "email": "ap@delta.example", "city": "Tanta", "country_code": "EG"}
    client_id = int(create(mock, "/api2/clients", {"Client": client}))
    lines = [{"product_id": 1, "unit_price": 185, "quantity": 1}]
    invoice_id = create(mock, "/api2/invoices", {"Invoice": {"client_id": client_id}, "InvoiceItem": lines})
    created = invoice(mock, invoice_id)
    assert (created["client_business_name"], created["client_email"]) == (client["business_name"], client["email"])
    assert (created["client_city"], created["client_country_code"]) == (client["city"], client["country_code"])
    sent = {"Invoice": {"client_id": client_id, "client_email": "billing@delta.example"}, "InvoiceItem": lines}
    assert invoice(mock, create(mock, "/api2/invoices", sent))["client_email"] == "billing@delta.example", (
        "the body wins"
    )

    edited = mock.put(f"/api2/clients/{client_id}", headers=DAFTRA, json={"Client": {"business_name": "Renamed"}})
    assert edited.status_code == 200, edited.text
    assert invoice(mock, invoice_id)["client_business_name"] == "Delta Traders", "a copy, not a link"
    listed = mock.get("/api2/invoices", headers=DAFTRA, params={"client_id": client_id}).json()["data"]
    assert {row["Invoice"]["client_business_name"] for row in listed} == {"Delta Traders"}


def test_each_line_nests_its_product(mock):
    product = mock.get("/api2/products/1", headers=DAFTRA).json()["data"]["Product"]
    body = {"Invoice": {"client_id": 1}, "InvoiceItem": [{"product_id": 1, "unit_price": 185, "quantity": 1}]}
    line = invoice(mock, create(mock, "/api2/invoices", body))["InvoiceItem"][0]
    assert line["Product"] == {key: product[key] for key in ("id", "name", "unit_price", "product_code", "brand")}


def test_an_invoice_links_its_public_page_and_pdf_which_this_server_serves(mock):
    body = {
        "Invoice": {"client_id": 2, "notes": "<b>Thanks</b>"},
        "InvoiceItem": [{"item": "Standing Desk", "product_id": 2, "unit_price": 4200, "quantity": 1}],
    }
    created = invoice(mock, create(mock, "/api2/invoices", body))
    listed = mock.get("/api2/invoices", headers=DAFTRA, params={"limit": 1}).json()["data"][0]["Invoice"]
    assert listed["invoice_html_url"] == created["invoice_html_url"], "the newest invoice, listed with its links"
    page_url, pdf_url = created["invoice_html_url"], created["invoice_pdf_url"]
    assert page_url.startswith(f"http://mock/invoices/preview/{created['id']}?hash=")
    assert pdf_url.startswith(f"http://mock/invoices/view/{created['id']}.pdf?hash=")

    page = mock.get(page_url)  # public: the link is for the client, who has no API key
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-disposition"].startswith("inline")
    assert (
        "Mona Hassan" in page.text and "Standing Desk" in page.text and f"{created['summary_total']:.2f}" in page.text
    )
    assert "&lt;b&gt;Thanks&lt;/b&gt;" in page.text, "the invoice's text is escaped"
    pdf = mock.get(pdf_url)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert mock.get("/invoices/preview/9999").json()["message"] == "Item not found"


def payment(mock, fields: dict):
    return mock.post("/api2/invoice_payments", headers=DAFTRA, json={"InvoicePayment": {"amount": 10, **fields}})


def test_a_payment_carries_its_receipt_number_client_and_recorder(mock):
    first, second = (payment(mock, {"invoice_id": 2, "payment_method": "cash"}) for _ in range(2))
    assert first.status_code == second.status_code == 202, first.text
    rows = [
        mock.get(f"/api2/invoice_payments/{r.json()['id']}", headers=DAFTRA).json()["data"]["InvoicePayment"]
        for r in (first, second)
    ]
    codes = [row["code"] for row in rows]
    assert all(len(code) == 6 and code.isdigit() for code in codes) and int(codes[1]) == int(codes[0]) + 1
    client_id = invoice(mock, "2")["client_id"]
    assert {(row["client_id"], row["added_by"], row["branch_id"]) for row in rows} == {(client_id, 0, 1)}


def test_a_payment_names_an_active_method_of_the_site(mock):
    for method in ("bitcoin", "2checkout"):  # unknown; known but switched off
        refused = payment(mock, {"invoice_id": 2, "payment_method": method})
        assert refused.status_code == 400, refused.text
        assert set(refused.json()["validation_errors"]) == {"payment_method"}
    inline = {
        "Invoice": {"client_id": 1},
        "InvoiceItem": [{"unit_price": 5, "quantity": 1}],
        "Payment": [{"payment_method": "bitcoin", "amount": 5}],
    }
    refused = mock.post("/api2/invoices", headers=DAFTRA, json=inline)
    assert refused.status_code == 400 and "payment_method" in next(iter(refused.json()["validation_errors"]))
    assert payment(mock, {"invoice_id": 2, "payment_method": "bank_transfer"}).status_code == 202


def test_a_payment_in_the_closed_period_is_refused(mock):
    refused = payment(mock, {"invoice_id": 2, "payment_method": "cash", "date": "2025-12-20"})
    assert refused.status_code == 400, refused.text
    assert refused.json() == {
        "result": "failed",
        "code": 400,
        "message": "You can not add, edit, or delete a transaction in this date 2025-12-20 within a closed period",
    }
    created = payment(mock, {"invoice_id": 2, "payment_method": "cash", "date": "2026-01-02"})
    assert created.status_code == 202, "the day after the period closed is open"
    moved = mock.put(
        f"/api2/invoice_payments/{created.json()['id']}",
        headers=DAFTRA,
        json={"InvoicePayment": {"date": "2025-06-30"}},
    )
    assert moved.status_code == 400 and "this date 2025-06-30 within" in moved.json()["message"]
