"""Stateful Facturación flows against the mock, in-process."""

from __future__ import annotations

import itertools

import pytest
from seed import ADMIN, FACTURACION_SEED, SOUTH

pytestmark = pytest.mark.both_backends  # tests/conftest.py: on memory and on Redis

_numbers = itertools.count(70000000)


def new_client(**overrides):
    return {
        "tipo_documento": "1",
        "numero_documento": str(next(_numbers)),
        "razon_social": "CLIENTE PRUEBA",
        **overrides,
    }


def test_create_show_list_update_deactivate_show(mock):
    created = mock.post("/api/v1/clients", headers=ADMIN, json=new_client(company_id=1, telefono="111"))
    assert created.status_code == 201
    client = created.json()["data"]
    path = f"/api/v1/clients/{client['id']}"

    shown = mock.get(path, headers=ADMIN).json()["data"]
    assert shown["numero_documento"] == client["numero_documento"]
    assert set(shown["company"]) == {"id", "ruc", "razon_social", "nombre_comercial"}

    listed = mock.get("/api/v1/clients", headers=ADMIN, params={"search": client["numero_documento"]}).json()
    assert [c["id"] for c in listed["data"]] == [client["id"]]
    assert listed["meta"] == {"total": 1, "per_page": 20, "current_page": 1, "last_page": 1}

    update = {
        "company_id": 1,
        "tipo_documento": "1",
        "numero_documento": client["numero_documento"],
        "razon_social": "NUEVO NOMBRE",
    }
    updated = mock.put(path, headers=ADMIN, json=update)
    assert updated.status_code == 200
    assert updated.json()["message"] == "Cliente actualizado exitosamente"
    assert updated.json()["data"]["razon_social"] == "NUEVO NOMBRE"
    assert updated.json()["data"]["telefono"] == "111", "fields not sent are kept"

    patched = mock.patch(path, headers=ADMIN, json={**update, "telefono": None})
    assert patched.status_code == 200 and patched.json()["data"]["telefono"] is None

    deleted = mock.delete(path, headers=ADMIN)
    assert deleted.status_code == 200
    assert deleted.json() == {"success": True, "message": "Cliente desactivado exitosamente"}

    after = mock.get(path, headers=ADMIN)
    assert after.status_code == 200 and after.json()["data"]["activo"] is False
    assert mock.delete(path, headers=ADMIN).status_code == 200, "deactivating twice is fine"

    search = {"company_id": 1, "tipo_documento": "1", "numero_documento": client["numero_documento"]}
    missing = mock.post("/api/v1/clients/search-by-document", headers=ADMIN, json=search)
    assert missing.status_code == 404
    assert missing.json() == {"success": False, "message": "Cliente no encontrado"}

    activated = mock.post(f"{path}/activate", headers=ADMIN)
    assert activated.status_code == 200 and activated.json()["data"]["activo"] is True
    found = mock.post("/api/v1/clients/search-by-document", headers=ADMIN, json=search)
    assert found.status_code == 200 and found.json()["data"]["id"] == client["id"]


def test_duplicate_is_per_company(mock):
    body = new_client(company_id=1)
    assert mock.post("/api/v1/clients", headers=ADMIN, json=body).status_code == 201
    again = mock.post("/api/v1/clients", headers=ADMIN, json=body)
    assert again.status_code == 400
    elsewhere = mock.post("/api/v1/clients", headers=ADMIN, json={**body, "company_id": 2})
    assert elsewhere.status_code == 201


def test_duplicate_counts_inactive_clients(mock):
    body = new_client(company_id=1)
    client_id = mock.post("/api/v1/clients", headers=ADMIN, json=body).json()["data"]["id"]
    mock.delete(f"/api/v1/clients/{client_id}", headers=ADMIN)
    assert mock.post("/api/v1/clients", headers=ADMIN, json=body).status_code == 400


def test_update_into_another_clients_document_is_refused(mock):
    first = mock.post("/api/v1/clients", headers=ADMIN, json=new_client(company_id=1)).json()["data"]
    second = mock.post("/api/v1/clients", headers=ADMIN, json=new_client(company_id=1)).json()["data"]
    clash = {"company_id": 1, "tipo_documento": "1", "numero_documento": first["numero_documento"], "razon_social": "X"}
    response = mock.put(f"/api/v1/clients/{second['id']}", headers=ADMIN, json=clash)
    assert response.status_code == 400
    assert (
        response.json()["message"] == "Ya existe otro cliente con el mismo tipo y número de documento en esta empresa"
    )
    own = {**clash, "numero_documento": second["numero_documento"]}
    assert mock.put(f"/api/v1/clients/{second['id']}", headers=ADMIN, json=own).status_code == 200


def test_update_requires_company_id_and_an_existing_company(mock):
    client = mock.post("/api/v1/clients", headers=ADMIN, json=new_client(company_id=1)).json()["data"]
    body = {"tipo_documento": "1", "numero_documento": client["numero_documento"], "razon_social": "X"}
    missing = mock.put(f"/api/v1/clients/{client['id']}", headers=ADMIN, json=body)
    assert missing.status_code == 422
    assert missing.json()["errors"] == {"company_id": ["The company_id field is required."]}
    unknown = mock.put(f"/api/v1/clients/{client['id']}", headers=ADMIN, json={**body, "company_id": 999999})
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == {"company_id": ["The selected company_id is invalid."]}


def test_missing_company_id_means_the_users_company(mock):
    created = mock.post("/api/v1/clients", headers=SOUTH, json=new_client())
    assert created.status_code == 201
    user = next(u for u in FACTURACION_SEED["users"] if u["id"] == 2)
    assert created.json()["data"]["company_id"] == user["company_id"]


def test_deactivated_company_refuses_new_clients_until_activated(mock):
    assert mock.delete("/api/v1/companies/2", headers=ADMIN).json()["message"] == "Empresa desactivada exitosamente"
    refused = mock.post("/api/v1/clients", headers=ADMIN, json=new_client(company_id=2))
    assert refused.status_code == 404
    assert refused.json()["message"] == "La empresa especificada no existe o está inactiva"
    listed = mock.get("/api/v1/companies", headers=ADMIN).json()
    assert 2 not in [c["id"] for c in listed["data"]]
    assert mock.post("/api/v1/companies/2/activate", headers=ADMIN).status_code == 200
    assert mock.post("/api/v1/clients", headers=ADMIN, json=new_client(company_id=2)).status_code == 201


def test_company_clients_are_ordered_by_name_with_company_meta(mock):
    for name in ("ZETA", "ALFA"):
        mock.post("/api/v1/clients", headers=ADMIN, json=new_client(company_id=1, razon_social=name))
    body = mock.get("/api/v1/companies/1/clients", headers=ADMIN).json()
    names = [c["razon_social"] for c in body["data"]]
    assert names == sorted(names, key=str.casefold)
    assert body["meta"]["company_name"] == "MI EMPRESA S.A.C." and body["meta"]["per_page"] == 50
    assert all("ubigeo" not in c and "company" not in c for c in body["data"])
    assert mock.get("/api/v1/companies/999/clients", headers=ADMIN).status_code == 404


def test_list_filters_and_pages(mock):
    marker = f"PAGINA{next(_numbers)}"
    for _ in range(23):
        mock.post(
            "/api/v1/clients", headers=ADMIN, json=new_client(company_id=1, razon_social=marker, tipo_documento="7")
        )
    first = mock.get("/api/v1/clients", headers=ADMIN, params={"search": marker.lower()}).json()
    assert first["meta"] == {"total": 23, "per_page": 20, "current_page": 1, "last_page": 2}
    second = mock.get("/api/v1/clients", headers=ADMIN, params={"search": marker, "page": 2}).json()
    assert len(second["data"]) == 3
    ids = [c["id"] for c in first["data"] + second["data"]]
    assert ids == sorted(ids)
    bad_page = mock.get("/api/v1/clients", headers=ADMIN, params={"search": marker, "page": "abc"}).json()
    assert bad_page["meta"]["current_page"] == 1
    typed = mock.get("/api/v1/clients", headers=ADMIN, params={"tipo_documento": "7", "company_id": 1}).json()
    assert typed["meta"]["total"] >= 23 and all(c["tipo_documento"] == "7" for c in typed["data"])
    assert mock.get("/api/v1/clients", headers=ADMIN, params={"company_id": "x"}).status_code == 422


def test_login_me_logout(mock):
    user = next(u for u in FACTURACION_SEED["users"] if u["activo"])
    login = mock.post("/api/auth/login", json={"email": user["email"], "password": user["password"]})
    assert login.status_code == 200
    token = login.json()["access_token"]
    assert login.json()["token_type"] == "Bearer" and "|" in token
    headers = {"Authorization": f"Bearer {token}"}
    me = mock.get("/api/v1/auth/me", headers=headers)
    assert me.status_code == 200 and me.json()["user"]["email"] == user["email"]
    assert me.json()["user"]["last_login_at"] is not None
    assert mock.post("/api/v1/auth/logout", headers=headers).json() == {"message": "Logout exitoso"}
    assert mock.get("/api/v1/auth/me", headers=headers).status_code == 401, "the token is revoked"


def test_login_does_not_reveal_whether_an_email_exists(mock):
    user = FACTURACION_SEED["users"][0]
    wrong_password = mock.post("/api/auth/login", json={"email": user["email"], "password": "nope"})
    unknown_email = mock.post("/api/auth/login", json={"email": "nobody@demo.pe", "password": "nope"})
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json() == {"message": "Credenciales incorrectas", "status": "error"}
    inactive = next(u for u in FACTURACION_SEED["users"] if not u["activo"])
    refused = mock.post("/api/auth/login", json={"email": inactive["email"], "password": inactive["password"]})
    assert refused.status_code == 401 and refused.json()["message"] == "Usuario inactivo"


def test_company_create_uses_laravel_envelope_and_unique_ruc(mock):
    empty = mock.post("/api/v1/companies", headers=ADMIN, json={})
    assert empty.status_code == 422
    body = empty.json()
    assert "success" not in body
    assert body["errors"]["ruc"] == ["El RUC es obligatorio"]
    assert (
        body["message"] == f"El RUC es obligatorio (and {sum(len(v) for v in body['errors'].values()) - 1} more errors)"
    )
    taken = FACTURACION_SEED["companies"][0]["ruc"]
    company = {
        "ruc": taken,
        "razon_social": "NUEVA S.A.C.",
        "direccion": "Calle 1",
        "ubigeo": "150101",
        "distrito": "Lima",
        "provincia": "Lima",
        "departamento": "Lima",
        "email": "a@b.pe",
        "usuario_sol": "U",
        "clave_sol": "C",
    }
    duplicate = mock.post("/api/v1/companies", headers=ADMIN, json=company)
    assert duplicate.status_code == 422 and duplicate.json()["errors"] == {"ruc": ["El RUC ya está registrado"]}
    created = mock.post("/api/v1/companies", headers=ADMIN, json={**company, "ruc": "20000000001"})
    assert created.status_code == 201
    data = created.json()["data"]
    assert "clave_sol" not in data and data["activo"] is True
    assert mock.get(f"/api/v1/companies/{data['id']}", headers=ADMIN).json()["data"]["company"]["ruc"] == "20000000001"


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("ubigeo", "15010A", "The ubigeo must be exactly 6 digits."),
        ("numero_documento", "1" * 21, "The numero_documento must not be greater than 20 characters."),
        ("razon_social", "   ", "The razon_social field is required."),
        ("tipo_documento", "9", "The selected tipo_documento is invalid."),
        ("tipo_documento", 6, "The tipo_documento must be a string."),
        ("activo", "yes", "The activo field must be true or false."),
        ("company_id", "uno", "The company_id must be an integer."),
        ("telefono", "9" * 21, "The telefono must not be greater than 20 characters."),
    ],
)
def test_each_documented_rule_has_its_message(mock, field, value, message):
    response = mock.post("/api/v1/clients", headers=ADMIN, json={**new_client(company_id=1), field: value})
    assert response.status_code == 422
    assert response.json()["errors"] == {field: [message]}
