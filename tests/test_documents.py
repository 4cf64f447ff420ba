"""The source documents' own examples, replayed against the mock in-process; each API's create example
also end to end against a live server."""

from __future__ import annotations

import re

from seed import ADMIN, DAFTRA, FACTURACION_SEED

LARAVEL_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000000Z$")
DAFTRA_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")

# "Example Request" of the Facturación Create Client page. The page shows the
# e-mail as "[email protected]" (its host hid the address), so a real address
# stands in for it; the literal text is tested separately below.
FACTURACION_REQUEST = {
    "company_id": 1,
    "tipo_documento": "6",
    "numero_documento": "20123456789",
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
# "Example Response" bodies of the same page.
DOC_201_DATA_KEYS = [
    "id",
    "company_id",
    "tipo_documento",
    "numero_documento",
    "razon_social",
    "nombre_comercial",
    "direccion",
    "ubigeo",
    "distrito",
    "provincia",
    "departamento",
    "telefono",
    "email",
    "activo",
    "created_at",
    "updated_at",
    "company",
]
DOC_422 = {
    "success": False,
    "message": "Errores de validación",
    "errors": {
        "tipo_documento": ["The tipo_documento field is required."],
        "numero_documento": ["The numero_documento field is required."],
        "razon_social": ["The razon_social field is required."],
        "email": ["The email must be a valid email address."],
    },
}
DOC_400 = {"success": False, "message": "Ya existe un cliente con el mismo tipo y número de documento en esta empresa"}
DOC_404 = {"success": False, "message": "La empresa especificada no existe o está inactiva"}
DOC_500 = {"success": False, "message": "Error al crear cliente: Database connection failed"}

# The Daftra Create Client page's request example, verbatim.
DAFTRA_REQUEST = {
    "Client": {
        "is_offline": True,
        "staff_id": 1,
        "business_name": "Mock Business",
        "first_name": "John",
        "last_name": "Doe",
        "email": "mock@example.com",
        "password": "password123",
        "address1": "123 Mock Street",
        "address2": "Apt 456",
        "city": "Mock City",
        "state": "Mock State",
        "postal_code": "12345",
        "phone1": "123-456-7890",
        "phone2": "098-765-4321",
        "country_code": "US",
        "notes": "These are mock notes.",
        "active_secondary_address": True,
        "secondary_name": "Jane Doe",
        "secondary_address1": "456 Secondary St",
        "secondary_address2": "Suite 789",
        "secondary_city": "Secondary City",
        "secondary_state": "Secondary State",
        "secondary_postal_code": "67890",
        "secondary_country_code": "US",
        "default_currency_code": "USD",
        "follow_up_status": None,
        "category": "Mock Category",
        "group_price_id": 2,
        "timezone": -5,
        "bn1": "Business Note 1",
        "bn1_label": "Label 1",
        "bn2_label": "Label 2",
        "bn2": "Business Note 2",
        "starting_balance": 1000.00,
        "type": 2,
        "birth_date": "1990-01-01",
        "gender": 1,
        "map_location": "40.712776,-74.005974,5",
        "credit_limit": 5000.00,
        "credit_period": 30,
    }
}


# live: the one end-to-end replay of this API, through uvicorn and a real socket
def test_facturacion_create_example_returns_documented_201(http):
    response = http.post("/api/v1/clients", headers=ADMIN, json=FACTURACION_REQUEST)
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["success"] is True
    assert body["message"] == "Cliente creado exitosamente"
    data = body["data"]
    assert list(data) == DOC_201_DATA_KEYS
    assert {k: data[k] for k in FACTURACION_REQUEST} == FACTURACION_REQUEST
    assert isinstance(data["id"], int)
    assert LARAVEL_TIMESTAMP.match(data["created_at"]) and data["created_at"] == data["updated_at"]
    company = next(c for c in FACTURACION_SEED["companies"] if c["id"] == 1)
    assert data["company"] == {"id": 1, "ruc": company["ruc"], "razon_social": company["razon_social"]}


def test_facturacion_duplicate_returns_documented_400(mock):
    mock.post("/api/v1/clients", headers=ADMIN, json=FACTURACION_REQUEST)
    response = mock.post("/api/v1/clients", headers=ADMIN, json=FACTURACION_REQUEST)
    assert response.status_code == 400
    assert response.json() == DOC_400


def test_facturacion_validation_example_returns_documented_422(mock):
    response = mock.post("/api/v1/clients", headers=ADMIN, json={"email": "not-an-email"})
    assert response.status_code == 422
    assert response.json() == DOC_422


def test_the_pages_obfuscated_email_is_not_an_email(mock):
    response = mock.post("/api/v1/clients", headers=ADMIN, json={**FACTURACION_REQUEST, "email": "[email protected]"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"email": ["The email must be a valid email address."]}


def test_facturacion_inactive_or_missing_company_returns_documented_404(mock):
    inactive = next(c["id"] for c in FACTURACION_SEED["companies"] if not c["activo"])
    for company_id in (inactive, 999999):
        response = mock.post("/api/v1/clients", headers=ADMIN, json={**FACTURACION_REQUEST, "company_id": company_id})
        assert response.status_code == 404, company_id
        assert response.json() == DOC_404


def test_facturacion_documented_500_on_demand(mock):
    response = mock.post("/api/v1/clients", headers={**ADMIN, "Prefer": "code=500"}, json=FACTURACION_REQUEST)
    assert response.status_code == 500
    assert response.json() == DOC_500
    response = mock.post("/api/v1/clients?__code=500", headers=ADMIN, json=FACTURACION_REQUEST)
    assert (response.status_code, response.json()) == (500, DOC_500)


def test_facturacion_documented_curl_without_token_is_401(mock):
    response = mock.post("/api/v1/clients", headers={"Accept": "application/json"}, json=FACTURACION_REQUEST)
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthenticated."}


# live: the one end-to-end replay of this API, through uvicorn and a real socket
def test_daftra_create_example_returns_documented_202(http):
    response = http.post("/api2/clients.json", headers=DAFTRA, json=DAFTRA_REQUEST)
    assert response.status_code == 202
    body = response.json()
    assert list(body) == ["result", "code", "id", "client_number"]
    assert body["result"] == "successful" and body["code"] == 202
    assert body["id"].isdigit() and body["client_number"].isdigit()

    shown = http.get(f"/api2/clients/{body['id']}.json", headers=DAFTRA)
    assert shown.status_code == 200
    client = shown.json()["data"]["Client"]
    sent = {k: v for k, v in DAFTRA_REQUEST["Client"].items() if k != "password"}
    assert {k: client[k] for k in sent} == sent
    assert "password" not in client
    assert client["id"] == int(body["id"]) and client["client_number"] == body["client_number"]
    assert DAFTRA_TIMESTAMP.match(client["created"])


def test_daftra_curl_path_with_doubled_prefix_is_not_a_route(mock):
    # The page's curl calls {{subdomain}}/api2/api2/clients.json: its server URL
    # already ends in /api2. The real path is /api2/clients.json.
    response = mock.post("/api2/api2/clients.json", headers=DAFTRA, json=DAFTRA_REQUEST)
    assert response.status_code == 404
    assert response.json()["result"] == "failed"
