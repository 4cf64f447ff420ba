"""Facturación platform routes, in-process: branches and correlatives (facturacion-documents.md 6, 7),
ubigeos (4, 13.5), login's token, the raw user, PDF formats (8.1) and the first-run flow.

One module, so one in-process app serves them all (building one costs seconds).
"""

from __future__ import annotations

import itertools
import json

import pytest
from seed import ADMIN

pytestmark = pytest.mark.both_backends  # tests/conftest.py: on memory and on Redis

_codes = itertools.count(100)


def new_branch(**overrides):
    return {
        "company_id": 1,
        "codigo": f"{next(_codes):04d}",
        "nombre": "Sucursal Miraflores",
        "direccion": "Av. Larco 345",
        "ubigeo": "150122",
        "distrito": "Miraflores",
        "provincia": "Lima",
        "departamento": "Lima",
        **overrides,
    }


def test_seeded_branches_are_the_upstream_examples(mock):
    listed = mock.get("/api/v1/branches", headers=ADMIN).json()
    by_id = {b["id"]: b for b in listed["data"]}
    assert by_id[1]["company_id"] == 1 and by_id[2]["company_id"] == 2
    assert set(by_id[1]["company"]) == {"id", "ruc", "razon_social"}
    assert listed["meta"]["total"] == len(listed["data"])
    assert listed["meta"]["companies_count"] == len({b["company_id"] for b in listed["data"]})
    only_second = mock.get("/api/v1/branches", headers=ADMIN, params={"company_id": 2}).json()
    assert {b["company_id"] for b in only_second["data"]} == {2}


def test_branch_create_show_update_deactivate_activate(mock):
    created = mock.post("/api/v1/branches", headers=ADMIN, json=new_branch())
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["message"] == "Sucursal creada exitosamente"
    branch = body["data"]
    assert branch["activo"] is True and branch["company"]["id"] == 1
    path = f"/api/v1/branches/{branch['id']}"

    shown = mock.get(path, headers=ADMIN).json()["data"]
    assert set(shown["company"]) == {"id", "ruc", "razon_social", "nombre_comercial"}

    patched = mock.patch(path, headers=ADMIN, json={"telefono": "01-999"})
    assert patched.status_code == 200 and patched.json()["message"] == "Sucursal actualizada exitosamente"
    assert patched.json()["data"]["telefono"] == "01-999" and patched.json()["data"]["nombre"] == branch["nombre"]

    deleted = mock.delete(path, headers=ADMIN)
    assert deleted.json() == {"success": True, "message": "Sucursal desactivada exitosamente"}
    assert mock.get(path, headers=ADMIN).json()["data"]["activo"] is False
    activated = mock.post(f"{path}/activate", headers=ADMIN)
    assert activated.status_code == 200 and activated.json()["data"]["activo"] is True
    assert activated.json()["message"] == "Sucursal activada exitosamente"


def test_branch_refusals(mock):
    empty = mock.post("/api/v1/branches", headers=ADMIN, json={})
    assert empty.status_code == 422
    errors = empty.json()["errors"]
    assert errors["company_id"] == ["La empresa es requerida."]
    assert errors["codigo"] == ["El código de la sucursal es requerido."]
    assert empty.json()["message"].startswith("La empresa es requerida. (and ")

    duplicate = mock.post("/api/v1/branches", headers=ADMIN, json=new_branch(codigo="0001"))
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"] == {"codigo": ["El código de sucursal ya existe para esta empresa."]}
    short = mock.post("/api/v1/branches", headers=ADMIN, json=new_branch(ubigeo="15"))
    assert short.json()["errors"] == {"ubigeo": ["El ubigeo debe tener exactamente 6 caracteres."]}

    unknown = mock.post("/api/v1/branches", headers=ADMIN, json=new_branch(company_id=999))
    assert unknown.status_code == 422 and unknown.json()["errors"]["company_id"] == [
        "La empresa seleccionada no existe."
    ]

    inactive = mock.post("/api/v1/branches", headers=ADMIN, json=new_branch(company_id=3))
    assert inactive.status_code == 404
    assert inactive.json() == {"success": False, "message": "La empresa especificada no existe o está inactiva"}

    missing = mock.get("/api/v1/branches/999", headers=ADMIN)
    assert missing.status_code == 404
    assert missing.json() == {"message": "No query results for model [App\\Models\\Branch] 999"}
    assert mock.post("/api/v1/branches", json=new_branch()).status_code == 401


def test_company_branches(mock):
    listed = mock.get("/api/v1/companies/2/branches", headers=ADMIN).json()
    assert listed["meta"]["company_id"] == 2 and listed["meta"]["company_name"] == "COMERCIAL DEL SUR E.I.R.L."
    assert listed["meta"]["total_branches"] == len(listed["data"]) >= 1
    assert listed["meta"]["active_branches"] == sum(b["activo"] for b in listed["data"])
    assert "codigo" not in listed["data"][0] and "ubigeo" not in listed["data"][0]
    assert mock.get("/api/v1/companies/3/branches", headers=ADMIN).status_code == 200, "inactive companies too"
    assert mock.get("/api/v1/companies/999/branches", headers=ADMIN).status_code == 404


def new_branch_id(mock) -> int:
    created = mock.post("/api/v1/branches", headers=ADMIN, json=new_branch())
    return int(created.json()["data"]["id"])


def test_correlatives_create_list_increment_update_delete(mock):
    branch = new_branch_id(mock)
    base = f"/api/v1/branches/{branch}/correlatives"
    created = mock.post(base, headers=ADMIN, json={"tipo_documento": "01", "serie": "F002", "correlativo_inicial": 41})
    assert created.status_code == 201
    assert created.json()["data"] == {
        "id": created.json()["data"]["id"],
        "branch_id": branch,
        "tipo_documento": "01",
        "tipo_documento_nombre": "Factura",
        "serie": "F002",
        "correlativo_actual": 41,
        "numero_completo": "F002-000041",
        "proximo_numero": "F002-000042",
    }
    correlative = created.json()["data"]["id"]
    again = mock.post(base, headers=ADMIN, json={"tipo_documento": "01", "serie": "F002"})
    assert again.status_code == 400
    assert (
        again.json()["message"] == "Ya existe un correlativo para esta sucursal con el mismo tipo de documento y serie"
    )
    zero = mock.post(base, headers=ADMIN, json={"tipo_documento": "03", "serie": "B002"}).json()["data"]
    assert zero["correlativo_actual"] == 0 and zero["numero_completo"] == "B002-000000"

    listed = mock.get(base, headers=ADMIN).json()
    assert [c["serie"] for c in listed["data"]["correlatives"]] == ["F002", "B002"]
    assert listed["data"]["branch"]["id"] == branch and listed["meta"]["total"] == 2
    assert listed["meta"]["tipos_disponibles"]["RA"] == "Resumen Diario"

    used = mock.post(f"{base}/{correlative}/increment", headers=ADMIN).json()
    assert used["data"] == {
        "id": correlative,
        "serie": "F002",
        "correlativo_anterior": 41,
        "correlativo_actual": 42,
        "numero_usado": "F002-000042",
        "proximo_numero": "F002-000043",
    }

    rewound = mock.put(
        f"{base}/{correlative}", headers=ADMIN, json={"tipo_documento": "01", "serie": "F002", "correlativo_actual": 5}
    )
    assert rewound.status_code == 200 and rewound.json()["data"]["proximo_numero"] == "F002-000006"
    clash = mock.put(
        f"{base}/{correlative}", headers=ADMIN, json={"tipo_documento": "03", "serie": "B002", "correlativo_actual": 1}
    )
    assert clash.status_code == 400
    assert clash.json()["message"].startswith("Ya existe otro correlativo")

    foreign = mock.post(f"/api/v1/branches/1/correlatives/{correlative}/increment", headers=ADMIN)
    assert foreign.status_code == 404
    assert foreign.json() == {"success": False, "message": "El correlativo no pertenece a esta sucursal"}
    deleted = mock.delete(f"{base}/{correlative}", headers=ADMIN)
    assert deleted.json() == {"success": True, "message": "Correlativo eliminado exitosamente"}
    assert mock.delete(f"{base}/{correlative}", headers=ADMIN).status_code == 404
    no_branch = mock.get("/api/v1/branches/999/correlatives", headers=ADMIN)
    assert no_branch.status_code == 404 and "Branch] 999" in no_branch.json()["message"]


def test_correlative_validation(mock):
    bad = mock.post("/api/v1/branches/1/correlatives", headers=ADMIN, json={"tipo_documento": "99", "serie": "f001"})
    assert bad.status_code == 422
    assert bad.json()["success"] is False and bad.json()["message"] == "Errores de validación"
    assert set(bad.json()["errors"]) == {"tipo_documento", "serie"}


def test_correlatives_batch_reports_existing_series(mock):
    branch = new_branch_id(mock)
    base = f"/api/v1/branches/{branch}/correlatives"
    mock.post(base, headers=ADMIN, json={"tipo_documento": "01", "serie": "F001"})
    batch = {
        "correlativos": [
            {"tipo_documento": "01", "serie": "F001"},
            {"tipo_documento": "03", "serie": "B001", "correlativo_inicial": 10},
            {"tipo_documento": "03", "serie": "B001"},
        ]
    }
    answer = mock.post(f"{base}/batch", headers=ADMIN, json=batch)
    assert answer.status_code == 200
    body = answer.json()
    assert body["message"] == "1 correlativos creados exitosamente"
    assert [c["numero_completo"] for c in body["data"]["created"]] == ["B001-000010"]
    assert body["data"]["errors"] == [
        {"index": 0, "error": "Ya existe correlativo para tipo 01 serie F001"},
        {"index": 2, "error": "Ya existe correlativo para tipo 03 serie B001"},
    ]
    assert body["meta"] == {"created_count": 1, "error_count": 2, "total_requested": 3}
    assert mock.post(f"{base}/batch", headers=ADMIN, json={"correlativos": []}).status_code == 422


def test_document_types_as_the_upstream_answers_them(mock):
    data = mock.get("/api/v1/correlatives/document-types", headers=ADMIN).json()["data"]
    assert [d["codigo"] for d in data] == ["01", "03", "07", "08", "09", 20, "RC", "RA"]
    assert data[0] == {"codigo": "01", "nombre": "Factura"}


def data(mock, path, **params):
    answer = mock.get(f"/api/v1/ubigeos/{path}", headers=ADMIN, params=params)
    assert answer.status_code == 200, answer.text
    assert answer.json()["success"] is True
    return answer.json()["data"]


def test_the_whole_data_set_is_served(mock):
    regions = data(mock, "regiones")
    assert len(regions) == 25 and len(data(mock, "provincias")) == 195 and len(data(mock, "distritos")) == 1874
    # ordered by name as MySQL's unicode collation orders it: Áncash right after Amazonas
    assert [r["nombre"] for r in regions[:3]] == ["Amazonas", "Áncash", "Apurímac"]
    assert {"id": "150000", "nombre": "Lima"} in regions


def test_provinces_of_a_region_embed_it(mock):
    lima = data(mock, "provincias", region_id="150000")
    assert len(lima) == 10 and {p["region_id"] for p in lima} == {"150000"}
    assert lima[0]["region"] == {"id": "150000", "nombre": "Lima"}
    names = [p["nombre"] for p in lima]
    assert names[:4] == ["Barranca", "Cajatambo", "Cañete", "Canta"], "ñ sorts as n, as MySQL's collation does"


def test_districts_filter_and_search(mock):
    found = data(mock, "distritos", provincia_id="150100", search="mira")
    assert [(d["id"], d["nombre"]) for d in found] == [("150122", "Miraflores"), ("150133", "San Juan de Miraflores")]
    assert found[0]["info_busqueda"] == "Miraflores / Lima  / Lima", "the double space is the upstream's data"
    assert found[0]["provincia"] == {"id": "150100", "nombre": "Lima", "region_id": "150000"}
    assert found[0]["region"] == {"id": "150000", "nombre": "Lima"}
    assert data(mock, "distritos", region_id="250000", provincia_id="150100") == []


def test_search_is_flat_and_limited_to_20(mock):
    found = data(mock, "search", q="miraflores")
    assert [d["id"] for d in found] == ["040110", "100506", "150122", "151021", "150133"]
    assert found[2] == {
        "id": "150122",
        "nombre": "Miraflores",
        "provincia": "Lima",
        "region": "Lima",
        "ubigeo_completo": "Lima - Lima - Miraflores",
    }
    assert len(data(mock, "search", q="an")) == 20


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "El campo de búsqueda es requerido"),
        ({"q": "a"}, "La búsqueda debe tener al menos 2 caracteres"),
        ({"q": "a" * 256}, "La búsqueda no puede exceder 255 caracteres"),
    ],
)
def test_search_refusals(mock, params, message):
    answer = mock.get("/api/v1/ubigeos/search", headers=ADMIN, params=params)
    assert answer.status_code == 422
    assert answer.json() == {"message": message, "errors": {"q": [message]}}


def test_a_district_by_its_code(mock):
    assert data(mock, "150101") == {
        "id": "150101",
        "nombre": "Lima",
        "provincia_id": "150100",
        "provincia": "Lima",
        "region_id": "150000",
        "region": "Lima",
        "ubigeo_completo": "Lima - Lima - Lima",
    }
    for code in ("150100", "abcdef"):  # a province's code is no district's
        missing = mock.get(f"/api/v1/ubigeos/{code}", headers=ADMIN)
        assert missing.status_code == 404 and missing.json() == {"success": False, "message": "Ubigeo no encontrado"}
    short = mock.get("/api/v1/ubigeos/15010", headers=ADMIN)
    assert short.status_code == 400
    assert short.json() == {"success": False, "message": "El código de ubigeo debe tener exactamente 6 dígitos"}
    assert mock.get("/api/v1/ubigeos/regiones").status_code == 401


BRANCH = {
    "company_id": "1",
    "codigo": "0100",
    "nombre": "Sucursal Form",
    "direccion": "Av. Larco 1",
    "ubigeo": "150122",
    "distrito": "Miraflores",
    "provincia": "Lima",
    "departamento": "Lima",
    "activo": "1",
}


def test_login_records_the_token_as_upstream_names_it(mock):
    answer = mock.post(
        "/api/auth/login",
        json={"email": "admin@demo.pe", "password": "secret123", "token_name": "mine", "abilities": ["x"]},
    )
    assert answer.status_code == 200
    token_id = int(answer.json()["access_token"].split("|")[0])
    stored = mock.get(f"/__mock/apis/facturacion/resources/tokens/{token_id}").json()
    assert stored["name"] == "API_ACCESS_TOKEN", "the body's token_name is ignored, as upstream"
    assert stored["abilities"] == answer.json()["user"]["permissions"]
    me = mock.get("/api/v1/user", headers={"Authorization": f"Bearer {answer.json()['access_token']}"})
    assert me.status_code == 200 and me.json()["email"] == "admin@demo.pe" and "password" not in me.json()
    assert mock.get("/api/v1/user").status_code == 401


def test_pdf_formats(mock):
    body = mock.get("/api/v1/pdf/formats", headers=ADMIN).json()
    assert body["message"] == "Formatos disponibles obtenidos correctamente"
    assert [f["name"] for f in body["data"]] == ["A4", "A5", "80mm", "50mm", "ticket"]
    assert body["data"][0] == {
        "name": "A4",
        "width": 210,
        "height": 297,
        "unit": "mm",
        "description": "Formato estándar de oficina (210x297mm)",
    }


def test_the_same_branch_create_in_every_encoding_gets_the_same_answer(mock):
    headers = {**ADMIN, "Accept": "application/json"}
    answers = []
    for number, encoding in enumerate(("json", "form", "multipart")):
        branch = {**BRANCH, "codigo": f"02{number}"}
        if encoding == "json":
            sent = mock.post(
                "/api/v1/branches", headers={**headers, "Content-Type": "application/json"}, content=json.dumps(branch)
            )
        elif encoding == "form":
            sent = mock.post("/api/v1/branches", headers=headers, data=branch)
        else:
            sent = mock.post("/api/v1/branches", headers=headers, files={k: (None, v) for k, v in branch.items()})
        assert sent.status_code == 201, (encoding, sent.text)
        data = sent.json()["data"]
        assert (data["company_id"], data["activo"], data["codigo"]) == (1, True, branch["codigo"])
        answers.append({k: v for k, v in data.items() if k not in ("id", "codigo", "created_at", "updated_at")})
    assert answers[0] == answers[1] == answers[2]


def test_first_run_flow(mock):
    login = mock.post("/api/auth/login", json={"email": "admin@demo.pe", "password": "secret123"})
    auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
    company = {
        "ruc": "20600000019",
        "razon_social": "PRIMER ARRANQUE S.A.C.",
        "direccion": "Av. Arequipa 100",
        "ubigeo": "150101",
        "distrito": "Lima",
        "provincia": "Lima",
        "departamento": "Lima",
        "email": "admin@primerarranque.pe",
        "usuario_sol": "MODDATOS",
        "clave_sol": "moddatos",
    }
    created = mock.post("/api/v1/companies", headers=auth, json=company)
    assert created.status_code == 201
    company_id = created.json()["data"]["id"]
    branch = mock.post(
        "/api/v1/branches",
        headers=auth,
        json={**BRANCH, "company_id": company_id, "codigo": "0001", "nombre": "Sucursal Principal"},
    )
    assert branch.status_code == 201
    branch_id = branch.json()["data"]["id"]
    batch = mock.post(
        f"/api/v1/branches/{branch_id}/correlatives/batch",
        headers=auth,
        json={"correlativos": [{"tipo_documento": "01", "serie": "F001"}, {"tipo_documento": "03", "serie": "B001"}]},
    )
    assert batch.json()["meta"] == {"created_count": 2, "error_count": 0, "total_requested": 2}
    assert mock.delete(f"/api/v1/branches/{branch_id}", headers=auth).status_code == 200
    activated = mock.post(f"/api/v1/branches/{branch_id}/activate", headers=auth)
    assert activated.status_code == 200 and activated.json()["data"]["activo"] is True
    listed = mock.get(f"/api/v1/companies/{company_id}/branches", headers=auth).json()
    assert listed["meta"]["total_branches"] == 1 and listed["meta"]["active_branches"] == 1
    numbers = mock.get(f"/api/v1/branches/{branch_id}/correlatives", headers=auth).json()["data"]["correlatives"]
    assert [c["proximo_numero"] for c in numbers] == ["F001-000001", "B001-000001"]


def test_initialize_only_while_no_user_exists(mock):
    """On a private session (its own state), emptied of users."""
    session = {"X-Mock-Session": "first-run"}
    first = {"name": "Primera", "email": "primera@miempresa.pe", "password": "Secreto123"}
    assert mock.post("/api/auth/initialize", headers=session, json=first).json() == {
        "message": "Sistema ya inicializado",
        "status": "error",
    }
    # an empty state: no users, no tokens
    assert (
        mock.put("/__mock/apis/facturacion/fixtures?session=first-run", json={"users": [], "tokens": []}).status_code
        == 200
    )
    weak = mock.post("/api/auth/initialize", headers=session, json={**first, "password": "secreto12"})
    assert weak.status_code == 422 and list(weak.json()["errors"]) == ["password"]
    done = mock.post("/api/auth/initialize", headers=session, json=first)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["message"] == "Sistema inicializado exitosamente" and body["token_type"] == "Bearer"
    assert body["user"]["role"] == "Super Administrador" and body["user"]["email"] == first["email"]
    auth = {**session, "Authorization": f"Bearer {body['access_token']}"}
    assert mock.get("/api/v1/auth/me", headers=auth).json()["user"]["email"] == first["email"]
    token_id = body["access_token"].split("|")[0]
    token = mock.get(f"/__mock/apis/facturacion/resources/tokens/{token_id}?session=first-run").json()
    assert (token["name"], token["abilities"]) == ("API_INIT_TOKEN", ["*"])
    assert mock.post("/api/auth/initialize", headers=session, json={**first, "email": "otra@x.pe"}).status_code == 400

    # the first user creates the next one; that one may not
    user = {"name": "Operador", "email": "op@miempresa.pe", "password": "secreto12", "role_name": "company_user"}
    created = mock.post("/api/v1/auth/create-user", headers=auth, json={**user, "user_type": "user", "company_id": 1})
    assert created.status_code == 200, created.text
    assert created.json()["user"]["role"] == "Usuario de Empresa"
    again = mock.post("/api/v1/auth/create-user", headers=auth, json={**user, "user_type": "user"})
    assert again.status_code == 422 and again.json()["errors"]["email"] == ["The email has already been taken."]
    login = mock.post(
        "/api/auth/login", headers=session, json={"email": user["email"], "password": user["password"]}
    ).json()
    other = {**session, "Authorization": f"Bearer {login['access_token']}"}
    refused = mock.post(
        "/api/v1/auth/create-user", headers=other, json={**user, "email": "n@x.pe", "user_type": "user"}
    )
    assert refused.status_code == 403
    assert refused.json() == {"message": "No tienes permisos para crear usuarios", "status": "error"}


def test_only_the_ready_super_admin_creates_users(mock):
    from seed import SOUTH

    user = {"name": "Nuevo", "email": "nuevo@demo.pe", "password": "secreto12", "role_name": "read_only"}
    assert mock.post("/api/v1/auth/create-user", headers=SOUTH, json={**user, "user_type": "user"}).status_code == 403
    assert mock.post("/api/v1/auth/create-user", headers=ADMIN, json={**user, "user_type": "user"}).status_code == 200


def test_system_info_and_setup_status_count_the_state(mock):
    """The HEAD collection's 1.1 to 1.4 (facturacion-documents.md 3.1 to 3.4)."""
    info = mock.get("/api/system/info", headers={"Accept": "application/json"}).json()
    users = mock.get("/__mock/apis/facturacion/resources/users").json()
    assert info["system_initialized"] is True and info["user_count"] == users["count"] >= 1
    assert info["roles_count"] == 5 and info["app_name"] == "API Facturación SUNAT - BETA"
    status = mock.get("/api/setup/status").json()["system_status"]
    assert status["seeders_executed"] is True and status["migrations_pending"] is False
    assert status["company_environment"] == "beta", "company 1, the first, is in beta"
    assert status["setup_progress"] == {
        "step_1_migrations": True,
        "step_2_seeders": True,
        "step_3_company": True,
        "step_4_ready": True,
    }
    assert status["ready_for_use"] is True and status["companies_count"] >= 3
    migrated = mock.post("/api/setup/migrate", headers={"Accept": "application/json"})
    assert migrated.status_code == 200 and migrated.json()["message"] == "Migraciones ejecutadas exitosamente"
    seeded = mock.post("/api/setup/seed", headers={"Accept": "application/json"}).json()
    assert seeded["seeder_class"] == "DatabaseSeeder"
    assert seeded["message"] == "Seeder 'DatabaseSeeder' ejecutado exitosamente"
    named = mock.post("/api/setup/seed?class=UbiRegionesSeeder").json()
    assert named["seeder_class"] == "UbiRegionesSeeder", "the query string is input too"
    refused = mock.post("/api/setup/seed", json={"class": 5})
    assert refused.status_code == 422 and list(refused.json()["errors"]) == ["class"]


def test_system_info_on_an_empty_state(mock):
    session = {"X-Mock-Session": "empty-system"}
    emptied = mock.put("/__mock/apis/facturacion/fixtures?session=empty-system", json={"users": [], "companies": []})
    assert emptied.status_code == 200
    info = mock.get("/api/system/info", headers=session).json()
    assert (info["system_initialized"], info["user_count"]) == (False, 0)
    status = mock.get("/api/setup/status", headers=session).json()["system_status"]
    assert status["company_environment"] is None and status["ready_for_use"] is False
    assert status["setup_progress"]["step_3_company"] is False


def test_toggle_production_reports_both_modes(mock):
    path = "/api/v1/companies/2/toggle-production"
    to_beta = mock.post(path, headers=ADMIN, data={"modo_produccion": "0"})  # a form: "0" is false
    assert to_beta.status_code == 200, to_beta.text
    assert to_beta.json() == {
        "success": True,
        "message": "Modo de producción actualizado exitosamente",
        "data": {"company_id": 2, "modo_anterior": "produccion", "modo_actual": "beta"},
    }
    back = mock.post(path, headers=ADMIN, json={"modo_produccion": 1}).json()["data"]
    assert (back["modo_anterior"], back["modo_actual"]) == ("beta", "produccion")
    missing = mock.post(path, headers=ADMIN, json={})
    assert missing.status_code == 422 and missing.json()["message"] == "Errores de validación"
    assert (
        mock.post("/api/v1/companies/999/toggle-production", headers=ADMIN, json={"modo_produccion": 1}).status_code
        == 404
    )


CONFIG = "/api/v1/companies/1/config"


def test_a_section_put_replaces_what_the_reads_show(mock):
    """The 44a725f collection 2's tax_settings requests, then the whole configuration."""
    assert mock.post(f"{CONFIG}/reset", headers=ADMIN).status_code == 200
    empty = mock.get(f"{CONFIG}/invoice_settings", headers=ADMIN).json()
    assert empty == {
        "success": True,
        "data": {"section": "invoice_settings", "config": []},
        "message": "Configuración de invoice_settings obtenida correctamente",
    }
    standard = {"igv_porcentaje": 18, "icbper_monto": 0.5, "decimales_precio_unitario": 2, "redondeo_automatico": True}
    put = mock.put(f"{CONFIG}/tax_settings", headers=ADMIN, json={**standard, "otra_cosa": 1})
    assert put.status_code == 200, put.text
    assert put.json()["data"] == {"section": "tax_settings", "config": standard}, "only the section's keys are kept"
    assert put.json()["message"] == "Configuración de tax_settings actualizada correctamente"
    testing = {"igv_porcentaje": 10, "icbper_monto": 0.3, "validar_ruc_cliente": False}
    mock.put(f"{CONFIG}/tax_settings", headers=ADMIN, json=testing)
    assert mock.get(f"{CONFIG}/tax_settings", headers=ADMIN).json()["data"]["config"] == testing, "replaced, not merged"
    whole = mock.get(CONFIG, headers=ADMIN).json()["data"]
    assert whole["tax_settings"] == testing and whole["gre_settings"] == []
    assert set(whole["company_info"]) == {"id", "ruc", "razon_social", "nombre_comercial", "modo_produccion", "activo"}
    assert (whole["company_info"]["id"], whole["company_info"]["modo_produccion"]) == (1, False)
    reset = mock.post(f"{CONFIG}/reset", headers=ADMIN, json={"section": "tax_settings"}).json()
    assert reset["message"] == "Sección tax_settings reseteada a valores por defecto"
    assert reset["data"] == {"section": "tax_settings", "reset_all": False}
    defaults = mock.get(CONFIG, headers=ADMIN).json()["data"]["tax_settings"]
    assert defaults == {
        "igv_porcentaje": 18.0,
        "icbper_monto": 0.5,
        "ivap_porcentaje": 4.0,
        "redondeo_automatico": True,
    }


def test_section_refusals_in_their_order(mock):
    unknown_section = mock.put("/api/v1/companies/999/config/validate", headers=ADMIN, json={"igv_porcentaje": 99})
    assert unknown_section.status_code == 400, "the section is checked before the company"
    assert unknown_section.json()["message"] == "Sección no válida"
    assert len(unknown_section.json()["available_sections"]) == 4
    unknown_company = mock.put("/api/v1/companies/999/config/tax_settings", headers=ADMIN, json={"igv_porcentaje": 99})
    assert unknown_company.status_code == 404, "the company before the body"
    not_an_id = mock.get("/api/v1/companies/None/config/invoice_settings", headers=ADMIN)
    assert not_an_id.status_code == 404, "a company id that names nothing is the company's 404, not a bad section"
    refused = mock.put(f"{CONFIG}/tax_settings", headers=ADMIN, json={"igv_porcentaje": 60, "decimales_cantidad": 1})
    assert refused.status_code == 400
    assert refused.json() == {
        "success": False,
        "message": "Error al actualizar configuración: The igv_porcentaje must not be greater than 50. (and 1 more error)",
    }


def test_services_validation_and_summary(mock):
    checked = mock.get(f"{CONFIG}/validate/services", headers=ADMIN).json()["data"]
    assert set(checked["validations"]) == {"facturacion", "guias_remision", "resumenes_diarios", "comunicaciones_baja"}
    assert checked["validations"]["facturacion"]["valid"] is True
    assert checked["status"]["recommendations"] == [
        "Configuración lista para modo BETA. Validar en producción antes del go-live"
    ]
    assert set(checked["company"]) == {"id", "ruc", "razon_social", "modo_produccion"}
    summary = mock.get("/api/v1/config/summary?company_ids[]=2&company_ids[]=3", headers=ADMIN).json()
    assert [item["company"]["id"] for item in summary["data"]] == [2, 3] and summary["total"] == 2
    everyone = mock.get("/api/v1/config/summary", headers=ADMIN, params={"company_id": 1}).json()
    assert everyone["total"] >= 3, "company_id is not a filter: every company, inactive ones too"
    defaults = mock.get("/api/v1/config/defaults", headers=ADMIN).json()
    assert defaults["data"]["facturacion"]["igv_porcentaje"] == 18.0
    assert (
        mock.delete(f"{CONFIG}/cache", headers=ADMIN).json()["message"]
        == "Cache de configuración limpiado correctamente"
    )


def test_gre_credentials(mock):
    """The 44a725f collection 1's 10.1 and 10.2, and the other GRE routes (facturacion-documents.md 11.1)."""
    base = "/api/v1/companies/2/gre-credentials"
    sent = {
        "environment": "produccion",
        "client_id": "prod-client-1234",
        "client_secret": "prod-secret-9876",
        "ruc_proveedor": "20123456786",
        "usuario_sol": "MODDATOS",
        "clave_sol": "MODDATOS",
    }
    stored = mock.put(base, headers=ADMIN, json=sent)
    assert stored.status_code == 200, stored.text
    assert stored.json()["message"] == "Credenciales GRE para produccion actualizadas correctamente"
    assert stored.json()["data"] == {"company_id": 2, "environment": "produccion", "credenciales_configuradas": True}
    shown = mock.get(base, headers=ADMIN).json()["data"]
    assert shown["modo_actual"] == "produccion" and shown["credenciales_configuradas"] is True
    assert shown["credenciales"]["produccion"] == {
        "client_id": "***1234",
        "client_secret": "***9876",
        "ruc_proveedor": "20123456786",
        "usuario_sol": "MODDATOS",
        "clave_sol": "***OS",
    }
    tested = mock.post(f"{base}/test-connection", headers=ADMIN).json()
    assert tested["message"] == "Conexión con SUNAT (produccion) validada correctamente"
    assert tested["data"]["client_id"] == "***1234"
    no_source = mock.post(
        f"{base}/copy", headers=ADMIN, json={"from_environment": "beta", "to_environment": "produccion"}
    )
    assert no_source.status_code == 400
    assert no_source.json()["message"] == "No hay credenciales configuradas en el ambiente beta"
    copied = mock.post(f"{base}/copy", headers=ADMIN, json={"from_environment": "produccion", "to_environment": "beta"})
    assert copied.json()["message"] == "Credenciales copiadas de produccion a beta"
    cleared = mock.request("DELETE", f"{base}/clear", headers=ADMIN, data={"environment": "produccion"})
    assert cleared.status_code == 200 and cleared.json()["data"]["credenciales_configuradas"] is False
    refused = mock.post(f"{base}/test-connection", headers=ADMIN)
    assert refused.status_code == 400
    assert refused.json() == {
        "success": False,
        "message": "Las credenciales GRE no están configuradas para esta empresa",
    }
    bad_ruc = mock.put(base, headers=ADMIN, json={**sent, "ruc_proveedor": "2012345678X"})
    assert bad_ruc.status_code == 422 and list(bad_ruc.json()["errors"]) == ["ruc_proveedor"]
    beta = mock.get("/api/v1/gre-credentials/defaults/beta", headers=ADMIN).json()["data"]
    assert beta["credentials_default"]["ruc_proveedor"] == "20161515648"
    assert mock.get("/api/v1/gre-credentials/defaults/demo", headers=ADMIN).status_code == 404


PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
PEM = b"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n"


def test_the_head_collections_multipart_company_update_with_its_files(mock):
    """HEAD collection 3.4 - Actualizar Empresa Completa (Form Data): a multipart POST with _method=PUT."""
    form = {
        "ruc": "20987654326",
        "razon_social": "EMPRESA DEMO SUNAT ACTUALIZADA SAC",
        "nombre_comercial": "Empresa Demo Actualizada",
        "usuario_sol": "MODDATOS",
        "clave_sol": "MODDATOS",
        "certificado_password": "123456",
        "direccion": "Via Libertadores",
        "ubigeo": "150100",
        "distrito": "Lima",
        "provincia": "Lima",
        "departamento": "San Isidro",
        "email": "empresademo@gmail.com",
        "modo_produccion": "0",
        "_method": "PUT",
    }
    files = {
        "certificado_pem": ("certificado.pem", PEM, "application/octet-stream"),
        "logo_path": ("logo.png", PNG, "image/png"),
    }
    updated = mock.post("/api/v1/companies/1", headers={**ADMIN, "Accept": "application/json"}, data=form, files=files)
    assert updated.status_code == 200, updated.text
    company = updated.json()["data"]
    assert company["razon_social"] == "EMPRESA DEMO SUNAT ACTUALIZADA SAC" and company["modo_produccion"] is False
    assert company["logo_path"] == "logos/logo.png"
    assert "certificado_pem" not in company and "certificado_password" not in company, "hidden, as upstream"
    status = mock.get("/api/setup/status").json()["system_status"]
    assert status["certificate_exists"] is True and status["logo_exists"] is True


def test_file_fields_are_checked_as_laravel_reads_them(mock):
    headers = {**ADMIN, "Accept": "application/json"}
    swapped = mock.post(
        "/api/v1/companies/2",
        headers=headers,
        data={"_method": "PUT"},
        # the type comes from the content, not the name or the declared type
        files={"certificado_pem": ("c.pem", PNG, "application/x-pem-file"), "logo_path": ("l.png", PEM, "image/png")},
    )
    assert swapped.status_code == 422
    assert swapped.json()["errors"] == {
        "certificado_pem": ["El certificado debe ser un archivo válido (.pem, .crt, .cer, .txt)"],
        "logo_path": ["El logo debe estar en formato PNG o JPG"],
    }
    text = mock.post("/api/v1/companies/2", headers=headers, data={"_method": "PUT", "logo_path": "logo.png"})
    assert text.status_code == 422 and text.json()["errors"] == {"logo_path": ["The logo_path must be a file."]}
    jpeg = mock.post(
        "/api/v1/companies/2",
        headers=headers,
        data={"_method": "PUT"},
        files={"logo_path": ("x", b"\xff\xd8\xff\xe0" + bytes(8))},
    )
    assert jpeg.status_code == 200 and jpeg.json()["data"]["logo_path"] == "logos/x"
    cleared = mock.put("/api/v1/companies/2", headers=headers, json={"logo_path": None})
    assert cleared.status_code == 200 and cleared.json()["data"]["logo_path"] is None


def test_path_records_are_bound_before_the_body_is_validated(mock):
    """Laravel's order (facturacion-documents.md 2.2): route, auth, binding (404), then validation (422)."""
    invalid = {"ubigeo": "1"}
    assert mock.put("/api/v1/branches/999", headers=ADMIN, json=invalid).status_code == 404
    assert mock.put("/api/v1/branches/1", headers=ADMIN, json=invalid).status_code == 422
    assert mock.post("/api/v1/branches/999/correlatives", headers=ADMIN, json={"serie": "f"}).status_code == 404
    branch = new_branch_id(mock)
    mine = mock.post(
        f"/api/v1/branches/{branch}/correlatives", headers=ADMIN, json={"tipo_documento": "01", "serie": "F009"}
    ).json()["data"]["id"]
    # a correlative of another branch: refused before its body is read (CorrelativeController@update, 7.4)
    foreign = mock.put(f"/api/v1/branches/1/correlatives/{mine}", headers=ADMIN, json={"serie": "lower"})
    assert foreign.status_code == 404
    assert foreign.json() == {"success": False, "message": "El correlativo no pertenece a esta sucursal"}
    assert mock.put("/api/v1/clients/999", headers=ADMIN, json={"email": "no"}).status_code == 404
    refused = mock.post("/api/v1/companies/999/toggle-production", headers=ADMIN, json={})
    assert refused.status_code == 404, "the company before the missing modo_produccion"


def as_parts(fields):
    return {name: (None, value) for name, value in fields.items()}


def test_forms_and_multipart_on_the_platform_routes_get_no_false_error(mock):
    """Every value a string, as a browser form or PHP client sends it; bracket keys for lists."""
    headers = {**ADMIN, "Accept": "application/json"}
    branch = new_branch_id(mock)
    base = f"/api/v1/branches/{branch}/correlatives"
    single = mock.post(
        base, headers=headers, data={"tipo_documento": "01", "serie": "F777", "correlativo_inicial": "5"}
    )
    assert single.status_code == 201 and single.json()["data"]["correlativo_actual"] == 5
    batch = mock.post(
        f"{base}/batch",
        headers=headers,
        files=as_parts(
            {
                "correlativos[0][tipo_documento]": "03",
                "correlativos[0][serie]": "B777",
                "correlativos[0][correlativo_inicial]": "0",
                "correlativos[1][tipo_documento]": "07",
                "correlativos[1][serie]": "FC77",
            }
        ),
    )
    assert batch.status_code == 200 and batch.json()["meta"]["created_count"] == 2
    spoofed = mock.post(
        f"/api/v1/branches/{branch}", headers=headers, files=as_parts({"_method": "PATCH", "activo": "0"})
    )
    assert spoofed.status_code == 200 and spoofed.json()["data"]["activo"] is False
    tax = mock.put(
        f"{CONFIG}/tax_settings",
        headers=headers,
        data={"igv_porcentaje": "18", "redondeo_automatico": "1", "decimales_cantidad": "2", "icbper_monto": "0.50"},
    )
    assert tax.json()["data"]["config"] == {
        "igv_porcentaje": 18,
        "redondeo_automatico": True,
        "decimales_cantidad": 2,
        "icbper_monto": 0.5,
    }
    gre = mock.post(
        f"{CONFIG}/gre_settings",
        headers=headers,
        data={"_method": "PUT", "peso_default_kg": "5.0", "bultos_default": "2"},
    )
    assert gre.status_code == 200 and gre.json()["data"]["config"] == {"peso_default_kg": 5.0, "bultos_default": 2}
    by_query = mock.post("/api/v1/companies/3/toggle-production?modo_produccion=1", headers=headers)
    assert by_query.status_code == 200, "the query string is the input when there is no body"
    company = {
        "ruc": "20600000027",
        "razon_social": "FORMULARIO S.A.C.",
        "direccion": "Av. Lima 1",
        "ubigeo": "150101",
        "distrito": "Lima",
        "provincia": "Lima",
        "departamento": "Lima",
        "email": "form@empresa.pe",
        "usuario_sol": "MODDATOS",
        "clave_sol": "moddatos",
        "modo_produccion": "true",
    }
    created = mock.post("/api/v1/companies", headers=headers, data=company)
    assert created.status_code == 201, created.text
    assert created.json()["data"]["modo_produccion"] is True, "in:true,false,1,0 takes the word"
    assert data(mock, "distritos", region_id="") == [], "an empty filter is null: it matches nothing, as upstream"
    cleared = mock.post(
        "/api/v1/companies/1/gre-credentials/clear",
        headers=headers,
        data={"_method": "DELETE", "environment": "produccion"},
    )
    assert cleared.status_code == 200


# The 44a725f collection "2. API SUNAT - CONFIGURACION AVANZADA (Opcional)": every section update, verbatim.
ADVANCED_COLLECTION = [
    (
        "tax_settings",
        {
            "igv_porcentaje": 18,
            "icbper_monto": 0.5,
            "isc_porcentaje": 0,
            "ivap_porcentaje": 4,
            "decimales_cantidad": 10,
            "decimales_precio_unitario": 2,
            "redondeo_automatico": True,
            "validar_ruc_cliente": True,
            "permitir_precio_cero": False,
            "incluir_leyenda_monto": True,
        },
    ),
    (
        "tax_settings",
        {
            "igv_porcentaje": 10,
            "icbper_monto": 0.3,
            "decimales_precio_unitario": 4,
            "decimales_cantidad": 6,
            "validar_ruc_cliente": False,
            "permitir_precio_cero": True,
        },
    ),
    (
        "invoice_settings",
        {
            "ubl_version": "2.1",
            "formato_numero": "F001-########",
            "moneda_default": "PEN",
            "tipo_operacion_default": "0101",
            "incluir_leyendas_automaticas": True,
            "envio_automatico": False,
        },
    ),
    (
        "gre_settings",
        {
            "peso_default_kg": 5.0,
            "bultos_default": 2,
            "modalidad_transporte_default": "01",
            "motivo_traslado_default": "01",
            "verificacion_automatica": True,
        },
    ),
    (
        "gre_settings",
        {
            "peso_default_kg": 25.0,
            "bultos_default": 10,
            "modalidad_transporte_default": "02",
            "motivo_traslado_default": "03",
            "verificacion_automatica": True,
        },
    ),
    (
        "document_settings",
        {
            "generar_xml_automatico": True,
            "generar_pdf_automatico": True,
            "enviar_sunat_automatico": False,
            "formato_pdf_default": "a4",
            "orientacion_pdf_default": "portrait",
            "incluir_qr_pdf": True,
            "incluir_hash_pdf": True,
            "logo_en_pdf": True,
        },
    ),
    (
        "document_settings",
        {"generar_xml_automatico": True, "generar_pdf_automatico": False, "enviar_sunat_automatico": True},
    ),
]


def test_the_advanced_configuration_collection_runs_as_published(mock):
    headers = {**ADMIN, "Accept": "application/json"}
    company = "/api/v1/companies/2/config"
    for section, body in ADVANCED_COLLECTION:
        stored = mock.put(f"{company}/{section}", headers={**headers, "Content-Type": "application/json"}, json=body)
        assert stored.status_code == 200, (section, stored.text)
        assert mock.get(f"{company}/{section}", headers=headers).json()["data"]["config"] == body
    whole = mock.get(company, headers=headers).json()["data"]
    assert whole["document_settings"] == ADVANCED_COLLECTION[-1][1] and whole["gre_settings"]["bultos_default"] == 10
    assert mock.post(f"{company}/reset", headers=headers, json={"section": "tax_settings"}).status_code == 200
    assert mock.post(f"{company}/reset", headers=headers, json={}).json()["data"]["reset_all"] is True
    assert mock.delete(f"{company}/cache", headers=headers).status_code == 200
    # "Validar Servicios SUNAT" posts to .../config/validate: no such POST route (the GET is validate/services)
    wrong = mock.post(f"{company}/validate", headers=headers)
    assert wrong.status_code == 405 and "GET" in wrong.headers["Allow"]


def test_the_head_collections_branch_and_correlative_phase(mock):
    """HEAD collection FASE 3 3.2 and FASE 4 (5.1 to 5.5), bodies as published, on a new company."""
    headers = {**ADMIN, "Accept": "application/json"}
    company = {
        "ruc": "20123456789",
        "razon_social": "EMPRESA DEMO SUNAT SAC",
        "nombre_comercial": "Empresa Demo",
        "direccion": "Av. República de Argentina 123",
        "ubigeo": "150101",
        "distrito": "Lima",
        "provincia": "Lima",
        "departamento": "Lima",
        "telefono": "01-1234567",
        "email": "contacto@empresademo.com",
        "usuario_sol": "MODDATOS",
        "clave_sol": "MODDATOS",
        "modo_produccion": 0,
    }
    created = mock.post("/api/v1/companies", headers=headers, json=company)
    assert created.status_code == 201, created.text
    company_id = created.json()["data"]["id"]
    branch = {
        "company_id": company_id,
        "codigo": "0001",
        "nombre": "Sucursal Principal",
        "direccion": "Av. República de Argentina 123",
        "ubigeo": "150101",
        "distrito": "Lima",
        "provincia": "Lima",
        "departamento": "Lima",
        "telefono": "01-1234567",
        "email": "principal@empresademo.com",
    }
    made = mock.post("/api/v1/branches", headers=headers, json=branch)
    assert made.status_code == 201, made.text
    branch_id = made.json()["data"]["id"]
    assert mock.get(f"/api/v1/companies/{company_id}/branches", headers=headers).json()["meta"]["total_branches"] == 1
    series = [("01", "F001"), ("03", "B001"), ("07", "FC01"), ("08", "FD01"), ("09", "T001")]
    batch = {
        "correlativos": [{"tipo_documento": t, "serie": s, "correlativo_actual": 1, "activo": True} for t, s in series]
    }
    answered = mock.post(f"/api/v1/branches/{branch_id}/correlatives/batch", headers=headers, json=batch)
    assert answered.status_code == 200 and answered.json()["meta"]["created_count"] == 5
    listed = mock.get(f"/api/v1/branches/{branch_id}/correlatives", headers=headers).json()["data"]["correlatives"]
    # correlativo_actual is not a rule of the batch: every counter starts at 0 (facturacion-documents.md 15.3)
    assert {c["correlativo_actual"] for c in listed} == {0}
    assert mock.post(f"/api/v1/branches/{branch_id}/activate", headers=headers).status_code == 200


def test_configure_sunat_as_the_upstream_guide_sends_it(mock):
    """Configuracion_api.md (upstream, 711159e^) 4.1: form-data company_id, environment, certificate_file, password."""
    from seed import SOUTH

    headers = {**ADMIN, "Accept": "application/json"}
    form = {"company_id": "2", "environment": "beta", "certificate_password": "password_del_certificado"}
    done = mock.post(
        "/api/v1/setup/configure-sunat",
        headers=headers,
        data=form,
        files={"certificate_file": ("certificado.pem", PEM)},
    )
    assert done.status_code == 200, done.text
    assert done.json() == {
        "message": "Configuración SUNAT actualizada exitosamente",
        "company": {"id": 2, "ruc": "20123456786", "environment": "beta", "has_certificate": True},
    }
    unknown = mock.post(
        "/api/v1/setup/configure-sunat", headers=headers, json={"company_id": 99, "environment": "beta"}
    )
    assert unknown.status_code == 422 and list(unknown.json()["errors"]) == ["company_id"]
    other = mock.post(
        "/api/v1/setup/configure-sunat",
        headers={**SOUTH, "Accept": "application/json"},
        json={"company_id": 1, "environment": "beta"},
    )
    assert other.status_code == 403
    assert other.json() == {"message": "No tienes permisos para configurar esta empresa", "status": "error"}


SETUP_COMPANY = {
    "ruc": "20600000027",
    "razon_social": "EMPRESA INSTALADA S.A.C.",
    "direccion": "Av. Brasil 1200",
    "ubigeo": "150103",
    "distrito": "Ate",
    "provincia": "Lima",
    "departamento": "Lima",
    "usuario_sol": "MODDATOS",
    "clave_sol": "moddatos",
}


def test_setup_complete_writes_the_company_its_main_branch_and_the_callers_company(mock):
    """SetupController@setup (facturacion-documents.md 3.5): the company by RUC, branch 0000, the caller's company."""
    user = {"name": "Instalador", "email": "instalador@miempresa.pe", "password": "secreto12"}
    made = mock.post(
        "/api/v1/auth/create-user", headers=ADMIN, json={**user, "role_name": "company_admin", "user_type": "user"}
    )
    assert made.status_code == 200, made.text
    token = mock.post("/api/auth/login", json={"email": user["email"], "password": user["password"]}).json()
    installer = {"Authorization": f"Bearer {token['access_token']}", "Accept": "application/json"}
    assert mock.get("/api/v1/user", headers=installer).json()["company_id"] is None

    gre = {"gre_ruc_proveedor": 20161515648, "gre_usuario_sol": "MODDATOS"}  # top-level gre_* are copied, as text
    done = mock.post(
        "/api/v1/setup/complete", headers=installer, json={"environment": "produccion", "company": SETUP_COMPANY, **gre}
    )
    assert done.status_code == 200, done.text
    body = done.json()
    company_id = body["company"]["id"]
    assert body == {
        "message": "Setup completado exitosamente",
        "company": {
            "id": company_id,
            "ruc": "20600000027",
            "razon_social": "EMPRESA INSTALADA S.A.C.",
            "environment": "produccion",
            "has_certificate": False,
            "branch_count": 1,
        },
        "branch": {"id": body["branch"]["id"], "codigo": "0000", "nombre": "Sucursal Principal"},
    }
    company = mock.get(f"/api/v1/companies/{company_id}", headers=ADMIN).json()["data"]["company"]
    assert (company["modo_produccion"], company["activo"], company["nombre_comercial"]) == (True, True, None)
    assert mock.get("/api/v1/user", headers=installer).json()["company_id"] == company_id, "the caller's company now"
    credentials = mock.get(f"/api/v1/companies/{company_id}/gre-credentials", headers=ADMIN).json()["data"]
    assert credentials["credenciales"]["produccion"]["ruc_proveedor"] == "20161515648"
    branches = mock.get(f"/api/v1/companies/{company_id}/branches", headers=ADMIN).json()["data"]
    assert [(b["nombre"], b["direccion"], b["distrito"]) for b in branches] == [
        ("Sucursal Principal", "Av. Brasil 1200", "Ate")
    ]

    # again, by the same RUC: the same company and branch, updated; a form's "false" and a certificate
    form = {f"company[{k}]": v for k, v in {**SETUP_COMPANY, "razon_social": "EMPRESA RENOMBRADA S.A.C."}.items()}
    again = mock.post(
        "/api/v1/setup/complete",
        headers={**ADMIN, "Accept": "application/json"},
        data={**form, "environment": "produccion", "modo_produccion": "false"},
        files={"certificado_pem": ("certificado.pem", PEM)},
    )
    assert again.status_code == 200, again.text
    assert again.json()["company"]["id"] == company_id and again.json()["branch"] == body["branch"]
    assert again.json()["company"]["has_certificate"] is True and again.json()["company"]["branch_count"] == 1
    company = mock.get(f"/api/v1/companies/{company_id}", headers=ADMIN).json()["data"]["company"]
    assert (company["razon_social"], company["modo_produccion"]) == ("EMPRESA RENOMBRADA S.A.C.", False)
    assert mock.get("/api/v1/user", headers=ADMIN).json()["company_id"] == 1, "a super administrator keeps hers"


def test_setup_complete_refusals(mock):
    headers = {**ADMIN, "Accept": "application/json"}
    empty = mock.post("/api/v1/setup/complete", headers=headers, json={})
    assert empty.status_code == 422
    assert empty.json() == {
        "message": "The environment field is required. (and 1 more error)",
        "errors": {
            "environment": ["The environment field is required."],
            "company": ["The company field is required."],
        },
    }
    short = mock.post(
        "/api/v1/setup/complete",
        headers=headers,
        json={"environment": "beta", "company": {**SETUP_COMPANY, "ruc": "2060"}},
    )
    assert short.status_code == 422 and list(short.json()["errors"]) == ["company.ruc"]
    assert mock.post("/api/v1/setup/complete", json={"environment": "beta"}).status_code == 401


def test_a_file_over_its_size_limit_gets_laravels_message(mock):
    """max:1024 on setup's logo is kilobytes: 1024 KB pass, one byte more is refused (facturacion-documents.md 14.1)."""
    headers = {**ADMIN, "Accept": "application/json"}
    form = {"environment": "beta", **{f"company[{k}]": v for k, v in SETUP_COMPANY.items()}}
    at_limit = PNG + bytes(1024 * 1024 - len(PNG))
    accepted = mock.post("/api/v1/setup/complete", headers=headers, data=form, files={"logo_path": ("l.png", at_limit)})
    assert accepted.status_code == 200, accepted.text
    over = mock.post(
        "/api/v1/setup/complete", headers=headers, data=form, files={"logo_path": ("l.png", at_limit + b"\0")}
    )
    assert over.status_code == 422
    assert over.json() == {
        "message": "The logo_path must not be greater than 1024 kilobytes.",
        "errors": {"logo_path": ["The logo_path must not be greater than 1024 kilobytes."]},
    }


def configure_sunat_refusals(client, missing: str, unknown: str, not_integer: str) -> None:
    headers = {**ADMIN, "Accept": "application/json"}
    path = "/api/v1/setup/configure-sunat"
    empty = client.post(path, headers=headers, json={})
    assert empty.status_code == 422 and empty.json()["message"] == missing
    assert list(empty.json()["errors"]) == ["company_id", "environment"]
    absent = client.post(path, headers=headers, json={"company_id": 99, "environment": "beta"})
    assert absent.status_code == 422
    assert absent.json() == {"message": unknown, "errors": {"company_id": [unknown]}}
    text = client.post(path, headers=headers, json={"company_id": "uno", "environment": "beta"})
    assert text.json()["errors"] == {"company_id": [not_integer]}


def test_configure_sunat_refusals_in_the_pages_english(mock):
    configure_sunat_refusals(
        mock,
        "The company_id field is required. (and 1 more error)",
        "The selected company_id is invalid.",
        "The company_id must be an integer.",
    )


def test_configure_sunat_refusals_in_spanish(make_mock):
    """--locale es: APP_LOCALE=es, lang/es/validation.php (facturacion-api.md 8.2)."""
    configure_sunat_refusals(
        make_mock(locale="es"),
        "El campo company id es obligatorio. (y 1 error más)",
        "El campo company id no existe.",
        "El campo company id debe ser un número entero.",
    )
