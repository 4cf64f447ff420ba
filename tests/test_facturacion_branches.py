"""Facturación branches and correlatives (facturacion-documents.md 6 and 7), in-process."""

from __future__ import annotations

import itertools

from seed import ADMIN

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
