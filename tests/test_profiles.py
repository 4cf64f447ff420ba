"""Realism profiles: each quirk of the specs under `--profile upstream` (Facturación's behaviour, Daftra's live-typed
answers), and its absence without it."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from broken_servers import facturacion_alone
from seed import ADMIN, DAFTRA
from test_facturacion_dispatch_guides import GUIDES, guide
from test_facturacion_dispatch_guides import ROUTES as GUIDE_ROUTES
from test_facturacion_dispatch_guides import create as created

from mockserver.spec.profiles import merge_patch

pytestmark = pytest.mark.both_backends  # tests/conftest.py: on memory and on Redis

ROOT = Path(__file__).resolve().parents[1]
_numbers = itertools.count(81000000)


@pytest.fixture(scope="module")
def upstream(other_store):
    from inprocess import in_process

    # a state of its own beside `mock`'s, on the same backend
    with in_process(profile="upstream", store=other_store) as client:
        yield client


def client_body(**overrides):
    return {"tipo_documento": "1", "numero_documento": str(next(_numbers)), "razon_social": "CLIENTE", **overrides}


def create(mock, **overrides):
    return mock.post("/api/v1/clients", headers=ADMIN, json=client_body(**overrides))


def test_company_id_is_not_defaulted_upstream(mock, upstream):
    assert create(mock).json()["data"]["company_id"] == 1
    omitted = create(upstream)
    assert omitted.status_code == 404
    assert omitted.json()["message"] == "La empresa especificada no existe o está inactiva"


def test_an_unknown_company_is_a_validation_error_upstream(mock, upstream):
    assert create(mock, company_id=999).status_code == 404
    unknown = create(upstream, company_id=999)
    assert unknown.status_code == 422 and list(unknown.json()["errors"]) == ["company_id"]


def test_the_same_document_in_another_company_is_a_500_upstream(mock, upstream):
    taken = {"tipo_documento": "1", "numero_documento": "46779354"}  # client 2 of company 1
    assert create(mock, company_id=2, **taken).status_code == 201
    clash = create(upstream, company_id=2, **taken)
    assert clash.status_code == 500 and "SQLSTATE[23000]" in clash.json()["message"]
    assert clash.json()["success"] is False


def test_a_16_to_20_character_document_is_a_500_upstream(mock, upstream):
    assert create(mock, company_id=1, numero_documento="1234567890123456").status_code == 201
    long = create(upstream, company_id=1, numero_documento="1234567890123457")
    assert long.status_code == 500 and "SQLSTATE[22001]" in long.json()["message"]
    assert create(upstream, company_id=1, numero_documento="123456789012345").status_code == 201


def test_a_non_digit_ubigeo_is_accepted_upstream(mock, upstream):
    assert create(mock, company_id=1, ubigeo="abcdef").status_code == 422
    assert create(upstream, company_id=1, ubigeo="abcdef").status_code == 201
    assert create(upstream, company_id=1, ubigeo="abc").status_code == 422, "size:6 still holds"


def test_the_201_body_shows_only_what_was_sent_upstream(mock, upstream):
    full = create(mock, company_id=1).json()["data"]
    assert "activo" in full and "email" in full
    partial = create(upstream, company_id=1).json()["data"]
    assert set(partial) == {
        "id",
        "company_id",
        "tipo_documento",
        "numero_documento",
        "razon_social",
        "created_at",
        "updated_at",
        "company",
    }


def test_a_branch_update_naming_company_id_is_a_500_upstream(mock, upstream):
    assert mock.patch("/api/v1/branches/1", headers=ADMIN, json={"company_id": 1}).status_code == 200
    broken = upstream.patch("/api/v1/branches/1", headers=ADMIN, json={"company_id": 1})
    assert broken.status_code == 500
    assert broken.json() == {"message": "Property [company_id] does not exist on this collection instance."}
    assert upstream.patch("/api/v1/branches/1", headers=ADMIN, json={"telefono": "01-1"}).status_code == 200


def test_an_unknown_profile_is_refused(make_mock, tmp_path):
    specs = facturacion_alone(tmp_path)
    with pytest.raises(ValueError, match=r"no spec declares the profile 'nope' \(declared: upstream\)"):
        make_mock(profile="nope", specs_dir=specs)


def test_merge_patch_follows_rfc_7386():
    assert merge_patch({"a": 1, "b": {"c": 2, "d": 3}, "l": [1]}, {"b": {"c": None, "e": 4}, "l": [2]}) == {
        "a": 1,
        "b": {"d": 3, "e": 4},
        "l": [2],
    }


def test_a_quirk_of_an_undeclared_profile_is_refused():
    from mockserver.errors import SpecError
    from mockserver.spec.loader import load_yaml
    from mockserver.spec.openapi import load_spec

    path = ROOT / "specs" / "facturacion.yaml"
    raw = load_yaml(path)
    raw["x-mock"]["profiles"] = {"other": {"description": "another"}}
    with pytest.raises(SpecError) as refused:
        load_spec(path, raw)
    assert any(
        p.pointer.endswith("/x-mock/quirks/0/profile")
        and "'upstream' is not a profile of x-mock.profiles (other)" in p.reason
        for p in refused.value.problems
    )


def daftra(client, path: str) -> dict:
    response = client.get(path, headers=DAFTRA)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    return data[0] if isinstance(data, list) else data


def test_daftra_answers_are_live_typed_upstream_and_documented_by_default(mock, upstream):
    documented, live = daftra(mock, "/api2/clients/1")["Client"], daftra(upstream, "/api2/clients/1")["Client"]
    assert (documented["id"], documented["is_offline"], documented["type"]) == (1, False, 3)
    assert (live["id"], live["is_offline"], live["type"]) == ("1", "0", "3")
    assert live["address2"] is None, "nulls stay null"
    assert daftra(upstream, "/api2/clients")["Client"]["id"].isdigit()
    assert daftra(upstream, "/api2/site_info")["Site"]["id"] == "1"
    assert daftra(upstream, "/api2/products/1")["Product"]["unit_price"] == "185"


def test_daftra_invoices_upstream_carry_text_the_site_date_and_numeric_totals(mock, upstream):
    documented, live = daftra(mock, "/api2/invoices/2")["Invoice"], daftra(upstream, "/api2/invoices/2")["Invoice"]
    assert (documented["date"], live["date"]) == ("2026-10-10", "10/10/2026")
    assert (live["id"], live["client_id"], live["InvoiceItem"][0]["quantity"]) == ("2", "2", "1")
    assert live["summary_total"] == documented["summary_total"] and live["payment_status"] == 1, "live rows keep these"
    assert live["InvoiceItem"][0]["subtotal"] == documented["InvoiceItem"][0]["subtotal"]
    assert live["invoice_html_url"] == documented["invoice_html_url"]
    assert daftra(upstream, "/api2/invoices")["Invoice"]["date"].count("/") == 2
    paid = daftra(upstream, "/api2/invoice_payments/1")["InvoicePayment"]
    assert (paid["amount"], paid["date"]) == ("2000", "2026-10-10 00:00:00")
    assert daftra(mock, "/api2/invoice_payments/1")["InvoicePayment"]["date"] == "2026-10-10"


# Documents (facturacion-documents.md 1.10, 9.6, 10, 11.2, 11.3, 11.5): each upstream failure, only under the profile
DOCUMENT_LINE = {"codigo": "P", "descripcion": "P", "unidad": "NIU", "cantidad": 1, "mto_valor_unitario": 100}
BOLETA = {
    "company_id": 1,
    "branch_id": 1,
    "serie": "B001",
    "fecha_emision": "2025-05-05",
    "metodo_envio": "resumen_diario",
    "client": {"tipo_documento": "1", "numero_documento": "44556677", "razon_social": "JUAN PEREZ"},
    "detalles": [{**DOCUMENT_LINE, "porcentaje_igv": 18, "tip_afe_igv": "10"}],
}


def test_document_routes_fail_upstream_as_the_upstream_does(mock, upstream):
    for client in (mock, upstream):
        boleta = client.post("/api/v1/boletas", headers=ADMIN, json=BOLETA).json()["data"]
        client.post(f"/api/v1/boletas/{boleta['id']}/send-sunat", headers=ADMIN)
    assert mock.get(f"/api/v1/boletas/{boleta['id']}/download-xml", headers=ADMIN).status_code == 200
    broken = upstream.get(f"/api/v1/boletas/{boleta['id']}/download-xml", headers=ADMIN)
    assert broken.status_code == 500 and "fileExists" in broken.json()["message"]
    assert mock.post("/api/v1/invoices/999999/send-sunat", headers=ADMIN).status_code == 404
    unknown = upstream.post("/api/v1/invoices/999999/send-sunat", headers=ADMIN)
    assert unknown.status_code == 500 and unknown.json()["message"] == "Error al procesar el envío a SUNAT"
    cpe = upstream.post(f"/api/v1/consulta-cpe/boleta/{boleta['id']}", headers=ADMIN)
    assert cpe.status_code == 422 and cpe.json()["data"]["consulta"] is None
    assert mock.get("/api/v1/daily-summaries/pending?company_id=1", headers=ADMIN).status_code == 200
    shadowed = upstream.get("/api/v1/daily-summaries/pending?company_id=1", headers=ADMIN)
    assert shadowed.status_code == 404 and shadowed.json()["error"].endswith("DailySummary] pending")


def test_the_summary_flow_leaves_the_boletas_pending_upstream(mock, upstream):
    for client, expected in ((mock, "ACEPTADO"), (upstream, "PENDIENTE")):
        boleta = client.post("/api/v1/boletas", headers=ADMIN, json={**BOLETA, "fecha_emision": "2025-05-06"}).json()
        day = {"company_id": 1, "branch_id": 1, "fecha_resumen": "2025-05-06"}
        summary = client.post("/api/v1/boletas/create-daily-summary", headers=ADMIN, json=day).json()["data"]
        client.post(f"/api/v1/daily-summaries/{summary['id']}/send-sunat", headers=ADMIN)
        client.post(f"/api/v1/daily-summaries/{summary['id']}/check-status", headers=ADMIN)
        shown = client.get(f"/api/v1/boletas/{boleta['data']['id']}", headers=ADMIN).json()["data"]
        assert (shown["estado_sunat"], shown["daily_summary_id"]) == (expected, summary["id"])
        assert client.post("/api/v1/boletas/create-daily-summary", headers=ADMIN, json=day).status_code == (
            400 if client is mock else 500
        )
    note = {**BOLETA, "serie": "BC01", "moneda": "PEN", "tipo_doc_afectado": "03", "num_doc_afectado": "B001-1"}
    note |= {"cod_motivo": "01", "des_motivo": "ANULACION", "detalles": [DOCUMENT_LINE]}
    for client, status in ((mock, 200), (upstream, 500)):
        made = client.post("/api/v1/credit-notes", headers=ADMIN, json=note).json()["data"]
        assert client.post(f"/api/v1/credit-notes/{made['id']}/generate-pdf", headers=ADMIN).status_code == status


@pytest.mark.parametrize(
    ("method", "path", "message"),
    [
        (
            "POST",
            "/api/v1/companies/1/config/reset",
            "Error al resetear configuración: Call to undefined method App\\Models\\Company::getDefaultConfigurations()",
        ),
        (
            "POST",
            "/api/v1/companies/1/config/migrate",
            "Error al migrar empresa: Call to undefined method App\\Models\\Company::migrateToNewConfigStructure()",
        ),
        (
            "GET",
            "/api/v1/config/defaults",
            "Error al obtener configuraciones por defecto: "
            "Call to undefined method App\\Models\\Company::getDefaultConfigurations()",
        ),
    ],
)
def test_the_configuration_routes_that_always_fail_upstream(mock, upstream, method, path, message):
    assert mock.request(method, path, headers=ADMIN).status_code == 200
    failed = upstream.request(method, path, headers=ADMIN)
    assert failed.status_code == 500
    assert failed.json() == {"success": False, "message": message}


def test_gre_body_refusals_are_500_upstream(mock, upstream):
    path = "/api/v1/companies/1/gre-credentials/clear"
    assert mock.request("DELETE", path, headers=ADMIN, json={"environment": "x"}).status_code == 422
    caught = upstream.request("DELETE", path, headers=ADMIN, json={"environment": "x"})
    assert caught.status_code == 500
    assert caught.json()["message"].startswith("Error al limpiar credenciales: ")


def test_a_real_multipart_put_reaches_upstream_with_no_input(mock, upstream):
    """PHP parses multipart/form-data on POST alone (facturacion-documents.md 14.1): the profile patches x-mock.input."""
    headers = {**ADMIN, "Accept": "application/json"}
    parts = {"telefono": (None, "01-5550000")}
    for client, expected in ((mock, "01-5550000"), (upstream, "054-221100")):
        put = client.put("/api/v1/companies/2", headers=headers, files=parts)
        assert put.status_code == 200 and put.json()["data"]["telefono"] == expected, put.text
    # the same fields spoofed on a POST, or urlencoded on the PUT, are read upstream too
    spoofed = upstream.post("/api/v1/companies/2", headers=headers, files={**parts, "_method": (None, "PUT")})
    assert spoofed.json()["data"]["telefono"] == "01-5550000"
    form = upstream.put("/api/v1/companies/2", headers=headers, data={"telefono": "054-221100"})
    assert form.json()["data"]["telefono"] == "054-221100"
    correlative = {"tipo_documento": (None, "01"), "serie": (None, "F001"), "correlativo_actual": (None, "0")}
    lost = upstream.put("/api/v1/branches/1/correlatives/1", headers=headers, files=correlative)
    assert lost.status_code == 422 and set(lost.json()["errors"]) == {"tipo_documento", "serie", "correlativo_actual"}


UNKNOWN_COMPANY = "No query results for model [App\\Models\\Company] 99"


@pytest.mark.parametrize(
    ("method", "path", "status", "prefix"),
    [
        ("GET", "/api/v1/companies/99/config", 500, "Error al obtener configuración"),
        ("GET", "/api/v1/companies/99/config/tax_settings", 500, "Error al obtener sección"),
        ("PUT", "/api/v1/companies/99/config/tax_settings", 400, "Error al actualizar configuración"),
        ("GET", "/api/v1/companies/99/config/validate/services", 500, "Error al validar servicios"),
        ("POST", "/api/v1/companies/99/config/reset", 500, "Error al resetear configuración"),
        ("POST", "/api/v1/companies/99/config/migrate", 500, "Error al migrar empresa"),
        ("DELETE", "/api/v1/companies/99/config/cache", 500, "Error al limpiar cache"),
    ],
)
def test_the_configuration_routes_answer_an_unknown_company_from_their_catch_upstream(
    mock, upstream, method, path, status, prefix
):
    """findOrFail inside each action's try (facturacion-documents.md 5.3); the framework's 404 by default."""
    body = {"igv_porcentaje": 18} if method == "PUT" else None
    documented = mock.request(method, path, headers=ADMIN, json=body)
    assert documented.status_code == 404 and documented.json() == {"message": UNKNOWN_COMPANY}
    caught = upstream.request(method, path, headers=ADMIN, json=body)
    assert caught.status_code == status
    assert caught.json() == {"success": False, "message": f"{prefix}: {UNKNOWN_COMPANY}"}
    # a section that is not one is still refused before the company is looked up
    assert upstream.get("/api/v1/companies/99/config/bogus", headers=ADMIN).json()["message"] == "Sección no válida"


def test_every_service_reports_its_endpoint_missing_upstream(mock, upstream):
    path = "/api/v1/companies/1/config/validate/services"
    assert mock.get(path, headers=ADMIN).json()["data"]["status"]["overall_valid"] is True
    data = upstream.get(path, headers=ADMIN).json()["data"]
    assert data["validations"]["facturacion"] == {
        "valid": False,
        "errors": ["Endpoint no configurado para facturacion"],
        "warnings": [],
        "config": {"endpoint": "", "wsdl": "", "timeout": 30},
    }
    assert data["validations"]["guias_remision"]["errors"] == [
        "Endpoint no configurado para guias_remision",
        "API endpoint no configurado para guías de remisión",
    ]
    assert (data["status"]["overall_valid"], data["status"]["total_errors"]) == (False, 5)
    summary = upstream.get("/api/v1/config/summary", headers=ADMIN, params={"company_ids[]": 1}).json()["data"]
    assert summary[0]["config_status"] == data["status"]


def test_migrate_and_seed_fail_upstream_as_they_do_at_head(mock, upstream):
    """facturacion-documents.md 3.2 and 3.3: the duplicate column at 3adec68; the catalogs are already seeded."""
    assert mock.post("/api/setup/migrate").status_code == 200
    migrated = upstream.post("/api/setup/migrate")
    assert migrated.status_code == 500 and migrated.json()["status"] == "error"
    assert migrated.json()["message"].startswith("Error al ejecutar migraciones: SQLSTATE[42S21]")
    for seeder, entry in ((None, "'010000' for key 'ubi_regiones.PRIMARY'"), ("UbiDistritoSeeder", "'010101'")):
        body = {"class": seeder} if seeder else {}
        assert mock.post("/api/setup/seed", json=body).status_code == 200
        again = upstream.post("/api/setup/seed", json=body)
        assert again.status_code == 500 and entry in again.json()["message"]
    unknown = upstream.post("/api/setup/seed", json={"class": "NoSuchSeeder"})
    assert unknown.json() == {
        "message": "Error al ejecutar seeder: Target class [Database\\Seeders\\NoSuchSeeder] does not exist.",
        "status": "error",
    }


def test_deactivating_a_company_without_documents_is_a_500_upstream(mock, upstream):
    """CompanyController@destroy at HEAD (facturacion-documents.md 16.12); a company with documents is the 400 on both."""
    has_documents = (
        "No se puede eliminar la empresa porque tiene documentos asociados. Considere desactivarla en su lugar."
    )
    for client in (mock, upstream):
        assert (
            client.post("/api/v1/boletas", headers=ADMIN, json={**BOLETA, "fecha_emision": "2025-05-07"}).status_code
            == 201
        )
        kept = client.delete("/api/v1/companies/1", headers=ADMIN)
        assert kept.status_code == 400 and kept.json() == {"success": False, "message": has_documents}
    assert mock.delete("/api/v1/companies/3", headers=ADMIN).status_code == 200
    broken = upstream.delete("/api/v1/companies/3", headers=ADMIN)
    assert broken.status_code == 500 and broken.json() == {"message": 'Class "App\\Models\\DispatchGuide" not found'}


def test_the_whole_configuration_shows_only_the_general_rows_upstream(mock, upstream):
    """GET .../config reads the `general` environment alone (facturacion-documents.md 5.2, 16 item 10)."""
    for client in (mock, upstream):
        put = client.put("/api/v1/companies/1/config/tax_settings", headers=ADMIN, json={"igv_porcentaje": 10})
        assert put.status_code == 200
    assert mock.get("/api/v1/companies/1/config", headers=ADMIN).json()["data"]["tax_settings"] == {
        "igv_porcentaje": 10
    }
    general = upstream.get("/api/v1/companies/1/config", headers=ADMIN).json()["data"]
    assert general["tax_settings"]["igv_porcentaje"] == 18 and general["invoice_settings"]["moneda_default"] == "PEN"
    assert general["company_info"]["id"] == 1
    # company 3 (inactive) got no general rows and has none of its own: the default rows' insert fails
    assert mock.get("/api/v1/companies/3/config", headers=ADMIN).status_code == 200
    failed = upstream.get("/api/v1/companies/3/config", headers=ADMIN)
    assert failed.status_code == 500 and "SQLSTATE[01000]" in failed.json()["message"]


def test_a_new_branch_shows_only_what_was_sent_upstream(mock, upstream):
    branch = {
        "company_id": 1,
        "codigo": "0901",
        "nombre": "Sucursal Norte",
        "direccion": "Av. Tupac Amaru 100",
        "ubigeo": "150110",
        "distrito": "Comas",
        "provincia": "Lima",
        "departamento": "Lima",
        "contacto_nombre": "Ana",  # validated, not a column: dropped
    }
    full = mock.post("/api/v1/branches", headers=ADMIN, json=branch).json()["data"]
    assert full["activo"] is True and "contacto_nombre" not in full
    partial = upstream.post("/api/v1/branches", headers=ADMIN, json=branch).json()["data"]
    assert set(partial) == {*branch, "id", "created_at", "updated_at", "company"} - {"contacto_nombre"}


# Dispatch guides (facturacion-documents.md 11.6)
def test_dispatch_guides_fail_upstream_for_unknown_ids_and_want_gre_credentials_to_send(mock, upstream):
    expected = {
        "": (404, "Guía de remisión no encontrada"),
        "/send-sunat": (500, "Error al procesar el envío a SUNAT"),
        "/check-status": (500, "Error interno: No query results for model [App\\Models\\DispatchGuide] 999999"),
        "/download-xml": (500, "Error al descargar XML"),
        "/download-cdr": (500, "Error al descargar CDR"),
        "/download-pdf": (404, "No query results for model [App\\Models\\DispatchGuide] 999999"),
        "/generate-pdf": (404, "No query results for model [App\\Models\\DispatchGuide] 999999"),
    }
    for method, suffix in GUIDE_ROUTES:
        assert mock.request(method, f"{GUIDES}/999999{suffix}", headers=ADMIN).status_code == 404
        answer = upstream.request(method, f"{GUIDES}/999999{suffix}", headers=ADMIN)
        assert (answer.status_code, answer.json()["message"]) == expected[suffix], suffix
    # company 2 is in production mode with no production GRE credentials; company 1 has the beta ones
    default = created(mock, guide(company_id=2, branch_id=2))
    assert mock.post(f"{GUIDES}/{default['id']}/send-sunat", headers=ADMIN).status_code == 200
    south = created(upstream, guide(company_id=2, branch_id=2))
    refused = upstream.post(f"{GUIDES}/{south['id']}/send-sunat", headers=ADMIN)
    assert refused.status_code == 400 and refused.json()["message"] == "Error al enviar guía a SUNAT"
    assert (
        refused.json()["error"]
        == "Las credenciales GRE no están configuradas para la empresa: COMERCIAL DEL SUR E.I.R.L."
    )
    assert refused.json()["data"]["estado_sunat"] == "PENDIENTE"
    own = created(upstream, guide())
    assert upstream.post(f"{GUIDES}/{own['id']}/send-sunat", headers=ADMIN).status_code == 200
