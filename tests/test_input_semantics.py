"""Input as the real services read it (`x-mock.input`), in process.

Laravel (Facturación) reads JSON, urlencoded and multipart bodies merged with
the query string, routes `_method` on POST, and its rules take numeric
strings and 0/1 booleans; PHP integrations of Daftra send amounts and ids as
strings and integers where strings are documented. Records keep the
documented types either way.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from seed import ADMIN, DAFTRA

from mockserver.pipeline.inputs import nest
from mockserver.server.app import create_app

_numbers = itertools.count(71_000_000)
# what a create answers that is not the sent data: it differs between any two creates
_OWN = {"id", "numero_documento", "created_at", "updated_at"}


class InProcess:
    """A synchronous face on the app served in process, one event loop for the module."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=create_app())
        self.client = httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1")

    def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.client.request(method, url, **options))

    def get(self, url: str, **options: Any) -> httpx.Response:
        return self.request("GET", url, **options)

    def post(self, url: str, **options: Any) -> httpx.Response:
        return self.request("POST", url, **options)

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


@pytest.fixture(scope="module")
def app() -> Iterator[InProcess]:
    served = InProcess()
    yield served
    served.close()


def client_fields(**overrides: Any) -> dict[str, Any]:
    return {
        "company_id": 1,
        "tipo_documento": "1",
        "numero_documento": str(next(_numbers)),
        "razon_social": "CLIENTE FORMULARIO",
        "ubigeo": "150101",
        "activo": True,
        **overrides,
    }


def as_text(fields: dict[str, Any]) -> dict[str, str]:
    """Fields as a form carries them: every value a string, booleans as PHP writes them."""
    return {k: ("1" if v is True else "0" if v is False else str(v)) for k, v in fields.items()}


def without_own(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in _OWN}


# -- Facturación: three encodings, one answer ---------------------------------


def test_a_client_sent_as_json_urlencoded_or_multipart_is_created_alike(app: InProcess) -> None:
    as_json = app.post("/api/v1/clients", headers=ADMIN, json=client_fields())
    as_form = app.post("/api/v1/clients", headers=ADMIN, data=as_text(client_fields()))
    as_multipart = app.post(
        "/api/v1/clients",
        headers=ADMIN,
        data=as_text(client_fields()),
        files={"adjunto": ("nota.txt", b"hola", "text/plain")},  # a file part: kept aside, not a client field
    )

    answers = [as_json, as_form, as_multipart]
    assert [a.status_code for a in answers] == [201, 201, 201], [a.text for a in answers]
    created = [a.json()["data"] for a in answers]
    assert without_own(created[1]) == without_own(created[0]) == without_own(created[2])
    assert created[1]["company_id"] == 1 and created[1]["activo"] is True  # documented types, not the form's strings
    stored = [app.get(f"/api/v1/clients/{record['id']}", headers=ADMIN).json()["data"] for record in created]
    assert without_own(stored[1]) == without_own(stored[0]) == without_own(stored[2])
    assert [s["numero_documento"] for s in stored] == [c["numero_documento"] for c in created]


def test_bracket_keys_of_a_form_are_nested_fields(app: InProcess) -> None:
    created = app.post(
        "/api/v1/clients",
        headers={**ADMIN, "Content-Type": "application/x-www-form-urlencoded"},
        content=b"tipo_documento=1&numero_documento=71999001&razon_social=ANIDADO&extra[0][codigo]=X&activo=1",
    )
    assert created.status_code == 201, created.text
    assert created.json()["data"]["razon_social"] == "ANIDADO"


@pytest.mark.parametrize("sent", [0, 1, "0", "1", True, False])
def test_laravel_booleans_are_read_as_booleans(app: InProcess, sent: Any) -> None:
    created = app.post("/api/v1/clients", headers=ADMIN, json=client_fields(activo=sent))
    assert created.status_code == 201, created.text
    assert created.json()["data"]["activo"] is (sent in (1, "1", True))


@pytest.mark.parametrize("sent", ["yes", "true", 2, 1.5])
def test_other_booleans_are_refused_with_laravels_message(app: InProcess, sent: Any) -> None:
    refused = app.post("/api/v1/clients", headers=ADMIN, json=client_fields(activo=sent))
    assert refused.status_code == 422
    assert refused.json()["errors"] == {"activo": ["The activo field must be true or false."]}


def test_a_number_where_laravel_wants_a_string_is_still_refused(app: InProcess) -> None:
    refused = app.post("/api/v1/clients", headers=ADMIN, json=client_fields(razon_social=12345))
    assert refused.status_code == 422
    assert refused.json()["errors"] == {"razon_social": ["The razon_social must be a string."]}


def test_a_numeric_string_where_an_integer_is_wanted_is_read_as_one(app: InProcess) -> None:
    created = app.post("/api/v1/clients", headers=ADMIN, json=client_fields(company_id="1"))
    assert created.status_code == 201, created.text
    assert created.json()["data"]["company_id"] == 1
    refused = app.post("/api/v1/clients", headers=ADMIN, json=client_fields(company_id="uno"))
    assert refused.status_code == 422
    assert refused.json()["errors"] == {"company_id": ["The company_id must be an integer."]}


def test_the_query_string_joins_the_input_and_the_body_wins(app: InProcess) -> None:
    fields = client_fields()
    del fields["company_id"]
    from_query = app.post("/api/v1/clients", headers=ADMIN, params={"company_id": "2"}, json=fields)
    assert from_query.status_code == 201, from_query.text
    assert from_query.json()["data"]["company_id"] == 2
    body_wins = app.post("/api/v1/clients", headers=ADMIN, params={"company_id": "2"}, json=client_fields(company_id=1))
    assert body_wins.json()["data"]["company_id"] == 1


# -- Facturación: `_method` on POST ------------------------------------------------


def test_a_multipart_post_with_method_put_updates_a_client(app: InProcess) -> None:
    created = app.post("/api/v1/clients", headers=ADMIN, json=client_fields()).json()["data"]
    path = f"/api/v1/clients/{created['id']}"
    changed = as_text(client_fields(numero_documento=created["numero_documento"], razon_social="CAMBIADO"))
    updated = app.post(path, headers=ADMIN, data={**changed, "_method": "put"}, files={"x": ("a.txt", b"a")})

    assert updated.status_code == 200, updated.text
    assert updated.json()["data"]["razon_social"] == "CAMBIADO"
    assert app.get(path, headers=ADMIN).json()["data"]["razon_social"] == "CAMBIADO"


def test_the_override_header_routes_a_json_post_and_the_journal_keeps_the_real_method(app: InProcess) -> None:
    created = app.post("/api/v1/clients", headers=ADMIN, json=client_fields()).json()["data"]
    path = f"/api/v1/clients/{created['id']}"
    changed = client_fields(numero_documento=created["numero_documento"], telefono="01-7654321")
    patched = app.post(path, headers={**ADMIN, "X-HTTP-Method-Override": "PATCH"}, json=changed)
    assert patched.status_code == 200, patched.text
    assert patched.json()["data"]["telefono"] == "01-7654321"

    entries = app.get("/__mock/journal", params={"path": path}).json()
    entry = [e for e in entries["entries"] if e["path"] == path and e["status"] == 200][-1]
    assert (entry["method"], entry["routed_as"]) == ("POST", "PATCH")


def test_a_company_update_comes_as_multipart_with_method_put(app: InProcess) -> None:
    form = {"_method": "PUT", "razon_social": "EMPRESA FORMULARIO S.A.C.", "modo_produccion": "0"}
    logo = {"logo_path": ("logo.png", b"\x89PNG\r\n\x1a\n" + bytes(16), "image/png")}
    updated = app.post("/api/v1/companies/1", headers=ADMIN, data=form, files=logo)
    assert updated.status_code == 200, updated.text
    company = updated.json()["data"]
    assert company["razon_social"] == "EMPRESA FORMULARIO S.A.C." and company["modo_produccion"] is False


# -- Daftra: PHP's strings and numbers --------------------------------------------


def daftra_client(app: InProcess, **fields: Any) -> httpx.Response:
    return app.post("/api2/clients", headers=DAFTRA, json={"Client": {"business_name": "Cadenas S.A.E.", **fields}})


def test_numeric_strings_and_string_ids_create_an_invoice_read_back_in_documented_types(app: InProcess) -> None:
    created = daftra_client(app)
    assert created.status_code == 202, created.text
    client_id = created.json()["id"]
    assert isinstance(client_id, str)  # as Daftra answers it, and as integrations send it back

    invoice = {
        "Invoice": {"client_id": client_id, "store_id": "1", "staff_id": "0", "currency_code": "EGP", "draft": "0"},
        "InvoiceItem": [{"item": "Silla", "product_id": "1", "unit_price": "100.00", "quantity": "2", "tax1": "1"}],
        "Payment": [{"payment_method": "cash", "amount": "50.50", "treasury_id": "1"}],
    }
    answer = app.post("/api2/invoices", headers=DAFTRA, json=invoice)
    assert answer.status_code == 202, answer.text

    read = app.get(f"/api2/invoices/{answer.json()['id']}", headers=DAFTRA).json()["data"]
    assert read["Invoice"]["client_id"] == int(client_id)
    item = read["Invoice"]["InvoiceItem"][0]
    assert (item["unit_price"], item["quantity"], item["product_id"]) == (100.0, 2, 1)
    assert isinstance(item["unit_price"], float) and isinstance(item["quantity"], int)
    payment = read["Invoice"]["InvoicePayment"][0]
    assert (payment["amount"], payment["treasury_id"]) == (50.5, 1)

    listed = app.get("/api2/invoices", headers=DAFTRA, params={"client_id": client_id}).json()["data"]
    assert [row["Invoice"]["id"] for row in listed] == [int(answer.json()["id"])]


def test_integers_where_daftra_documents_strings_are_read_as_strings(app: InProcess) -> None:
    created = daftra_client(app, client_number=90417, password=123456, staff_id="0", active_secondary_address="0")
    assert created.status_code == 202, created.text
    assert created.json()["client_number"] == "90417"
    client = app.get(f"/api2/clients/{created.json()['id']}", headers=DAFTRA).json()["data"]["Client"]
    assert (client["client_number"], client["staff_id"]) == ("90417", 0)

    product = app.post(
        "/api2/products",
        headers=DAFTRA,
        json={"Product": {"name": "Resma A4", "product_code": 808, "unit_price": "185"}},
    )
    assert product.status_code == 202, product.text
    read = app.get(f"/api2/products/{product.json()['id']}", headers=DAFTRA).json()["data"]["Product"]
    assert (read["product_code"], read["unit_price"]) == ("808", 185)


def test_a_numeric_string_for_a_field_that_lists_its_numbers_is_read_as_one(app: InProcess) -> None:
    # Client.type is documented as `enum: [2, 3, null]` with no `type`: "2" is still the number 2 to PHP
    created = daftra_client(app, type="2", gender="1")
    assert created.status_code == 202, created.text
    client = app.get(f"/api2/clients/{created.json()['id']}", headers=DAFTRA).json()["data"]["Client"]
    assert (client["type"], client["gender"]) == (2, 1)
    assert daftra_client(app, type="4").status_code == 400


def test_a_word_where_daftra_wants_a_number_is_still_the_documented_400(app: InProcess) -> None:
    invoice = {
        "Invoice": {"client_id": "1", "store_id": "1", "currency_code": "EGP"},
        "InvoiceItem": [{"item": "Silla", "product_id": "1", "unit_price": "abc", "quantity": "1"}],
    }
    refused = app.post("/api2/invoices", headers=DAFTRA, json=invoice)
    assert refused.status_code == 400
    body = refused.json()
    assert (body["result"], body["code"]) == ("failed", 400)
    assert body["validation_errors"] == {"InvoiceItem.0.unit_price": "InvoiceItem.0.unit_price must be a number"}


def test_a_daftra_form_body_with_the_wrapper_in_brackets(app: InProcess) -> None:
    created = app.post(
        "/api2/clients", headers=DAFTRA, data={"Client[business_name]": "Formulario SRL", "Client[staff_id]": "0"}
    )
    assert created.status_code == 202, created.text
    client = app.get(f"/api2/clients/{created.json()['id']}", headers=DAFTRA).json()["data"]["Client"]
    assert (client["business_name"], client["staff_id"]) == ("Formulario SRL", 0)


def test_query_parameters_as_numeric_strings(app: InProcess) -> None:
    page = app.get("/api2/clients", headers=DAFTRA, params={"limit": "1", "page": "2"})
    assert page.status_code == 200 and page.json()["pagination"]["page"] == 2
    refused = app.get("/api2/clients", headers=DAFTRA, params={"limit": "uno"})
    assert refused.status_code == 400


# -- how bracket keys nest (PHP's reading of a form) -------------------------------


def test_bracket_keys_nest_into_objects_and_lists_as_php_reads_them() -> None:
    pairs = [
        ("detalles[0][codigo]", "A"),
        ("detalles[1][codigo]", "B"),
        ("tags[]", "x"),
        ("tags[]", "y"),
        ("Client[business_name]", "Uno"),
        ("Client[business_name]", "Dos"),  # the later value wins
        ("sparse[3]", "z"),  # not 0..n-1: an object, as PHP's array would encode
        ("[nameless]", "dropped"),
    ]
    assert nest(pairs) == {
        "detalles": [{"codigo": "A"}, {"codigo": "B"}],
        "tags": ["x", "y"],
        "Client": {"business_name": "Dos"},
        "sparse": {"3": "z"},
    }


@pytest.mark.parametrize("sent", [True, "1abc", " 1", "0x1", "1e0"])
def test_what_cakephp_validation_refuses_for_an_id_is_refused(app: InProcess, sent: Any) -> None:
    invoice = {
        "Invoice": {"client_id": 1},
        "InvoiceItem": [{"item": "x", "product_id": sent, "unit_price": 1, "quantity": 1}],
    }
    refused = app.post("/api2/invoices", headers=DAFTRA, json=invoice)
    assert refused.status_code == 400
    assert refused.json()["validation_errors"] == {
        "InvoiceItem.0.product_id": "InvoiceItem.0.product_id must be an integer"
    }


def test_a_whole_json_number_for_an_id_is_that_id(app: InProcess) -> None:
    invoice = {
        "Invoice": {"client_id": 1.0},
        "InvoiceItem": [{"item": "x", "product_id": 1.0, "unit_price": 1, "quantity": 1}],
    }
    created = app.post("/api2/invoices", headers=DAFTRA, json=invoice)
    assert created.status_code == 202, created.text
    read = app.get(f"/api2/invoices/{created.json()['id']}", headers=DAFTRA).json()["data"]["Invoice"]
    assert read["client_id"] == 1 and read["InvoiceItem"][0]["product_id"] == 1
    assert isinstance(read["client_id"], int) and isinstance(read["InvoiceItem"][0]["product_id"], int)
