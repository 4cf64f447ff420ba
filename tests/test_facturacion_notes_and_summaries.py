"""Facturación credit and debit notes, daily summaries and voided documents, in-process."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from seed import ADMIN
from test_facturacion_documents import CLIENT, boleta, created, invoice, line

CAC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}"
CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"


def note(*lines: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "company_id": 1,
        "branch_id": 1,
        "serie": "FC01",
        "fecha_emision": "2025-09-15",
        "moneda": "PEN",
        "tipo_doc_afectado": "01",
        "num_doc_afectado": "F001-000001",
        "cod_motivo": "01",
        "des_motivo": "ANULACION DE LA OPERACION",
        "client": CLIENT,
        "detalles": list(lines),
        **extra,
    }


def test_a_credit_note_on_an_invoice_is_sent_and_its_xml_names_the_invoice(mock):
    affected = created(mock, "/api/v1/invoices", invoice(line(2, 100)))
    body = note(line(2, 100), num_doc_afectado=affected["numero_completo"], scenario="dropped")
    document = created(mock, "/api/v1/credit-notes", body)
    assert document["numero_completo"].startswith("FC01-") and document["estado_sunat"] == "PENDIENTE"
    assert (document["valor_venta"], document["mto_igv"], document["mto_imp_venta"]) == ("200.00", "36.00", "236.00")
    assert document["leyendas"] == [{"code": "1000", "value": "DOSCIENTOS TREINTA Y SEIS CON 00/100 SOLES"}]
    assert "xml_path" not in document and "scenario" not in document  # database defaults come on show
    base = f"/api/v1/credit-notes/{document['id']}"
    sent = mock.post(f"{base}/send-sunat", headers=ADMIN)
    assert sent.status_code == 200 and sent.json()["message"] == "Nota de crédito enviada correctamente a SUNAT"
    data = sent.json()["data"]
    number = document["numero_completo"]
    assert json.loads(data["respuesta_sunat"])["description"] == f"La Nota de Credito numero {number}, ha sido aceptada"
    assert data["xml_path"] == f"notas-credito/xml/15092025/{number}.xml"
    root = ET.fromstring(mock.get(f"{base}/download-xml", headers=ADMIN).content)
    assert root.tag == "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote"
    reference = root.find(f"{CAC}BillingReference/{CAC}InvoiceDocumentReference")
    assert reference.findtext(f"{CBC}ID") == affected["numero_completo"]
    assert root.find(f"{CAC}DiscrepancyResponse").findtext(f"{CBC}ResponseCode") == "01"
    assert root.find(f".//{CBC}PayableAmount").text == "236.00"
    again = mock.post(f"{base}/send-sunat", headers=ADMIN)
    assert again.json() == {"success": False, "message": "La nota de crédito ya fue enviada y aceptada por SUNAT"}
    cpe = mock.post(f"/api/v1/consulta-cpe/nota-credito/{document['id']}", headers=ADMIN).json()
    assert cpe["data"]["consulta"]["estadocpe"] == "1"


def test_note_totals_are_summed_the_notes_way(mock):
    # a free line adds its unit value to the gratuitas and its full value to valor_venta; 40 is inafecta
    lines = (line(10, 650), line(4, 100, "20"), line(5, 50, "30"), line(1, 30, "40"), line(3, 100, "11"))
    document = created(mock, "/api/v1/credit-notes", note(*lines, leyendas=[{"code": "1000", "value": "MIS LETRAS"}]))
    figures = ("mto_oper_gravadas", "mto_oper_exoneradas", "mto_oper_inafectas", "mto_oper_gratuitas", "mto_igv")
    assert tuple(document[name] for name in figures) == ("6500.00", "400.00", "280.00", "100.00", "1170.00")
    assert (document["valor_venta"], document["mto_imp_venta"]) == ("7480.00", "8650.00")
    assert document["leyendas"] == [{"code": "1000", "value": "MIS LETRAS"}]  # sent legends are kept
    debit = created(mock, "/api/v1/debit-notes", note(line(1, 100), serie="FD01", moneda="USD"))
    assert debit["leyendas"][0]["value"] == "CIENTO DIECIOCHO CON 00/100 DÓLARES AMERICANOS"
    assert "mto_oper_gratuitas" not in debit  # debit notes have no such column


def test_notes_validate_the_reference_and_the_motive_catalog(mock):
    wrong = mock.post(
        "/api/v1/debit-notes", json=note(line(1, 1), tipo_doc_afectado="07", cod_motivo="04"), headers=ADMIN
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"]["tipo_doc_afectado"] == [
        "El tipo de documento afectado debe ser válido (01=Factura, 03=Boleta)."
    ]
    assert set(wrong.json()["errors"]) == {"tipo_doc_afectado", "cod_motivo"}
    empty = mock.post("/api/v1/credit-notes", json={}, headers=ADMIN).json()["errors"]
    assert {"num_doc_afectado", "cod_motivo", "des_motivo", "tipo_doc_afectado"} <= set(empty)
    motives = mock.get("/api/v1/credit-notes/catalogs/motivos", headers=ADMIN).json()
    assert motives["data"][0] == {"code": "01", "name": "Anulación de la operación"} and len(motives["data"]) == 13
    debit_motives = mock.get("/api/v1/debit-notes/catalogs/motivos", headers=ADMIN).json()["data"]
    assert [m["code"] for m in debit_motives] == ["01", "02", "03", "10", "11"]


@pytest.mark.parametrize(
    ("kind", "message"),
    [("credit-notes", "Nota de crédito no encontrada"), ("debit-notes", "Nota de débito no encontrada")],
)
def test_note_routes_answer_an_unknown_id(mock, kind, message):
    for method, suffix in [("GET", ""), ("POST", "/send-sunat"), ("GET", "/download-cdr"), ("POST", "/generate-pdf")]:
        answer = mock.request(method, f"/api/v1/{kind}/999999{suffix}", headers=ADMIN)
        assert (answer.status_code, answer.json()["message"]) == (404, message), suffix
    listed = mock.get(f"/api/v1/{kind}?tipo_doc_afectado=01", headers=ADMIN).json()
    assert listed["data"]["per_page"] == 15 and all(n["tipo_doc_afectado"] == "01" for n in listed["data"]["data"])


def summary_of(day: str) -> dict[str, Any]:
    return {"company_id": 1, "branch_id": 1, "fecha_resumen": day}


def test_a_daily_summary_gathers_the_days_pending_boletas_and_sunat_accepts_it_by_ticket(mock):
    day = "2025-06-09"
    first, second = (created(mock, "/api/v1/boletas", boleta(line(1, 100), fecha_emision=day)) for _ in range(2))
    other_day = created(mock, "/api/v1/boletas", boleta(line(1, 100), fecha_emision="2025-06-10"))
    summary = created(mock, "/api/v1/boletas/create-daily-summary", summary_of(day))
    assert summary["numero_completo"] == "RC-20250609-001" and summary["estado_proceso"] == "GENERADO"
    assert [line["serie_numero"] for line in summary["detalles"]] == [
        first["numero_completo"],
        second["numero_completo"],
    ]
    assert summary["detalles"][0]["total"] == "118.00" and summary["detalles"][0]["cliente_numero"] == "44556677"
    assert [b["id"] for b in summary["boletas"]] == [first["id"], second["id"]]
    boleta_shown = mock.get(f"/api/v1/boletas/{first['id']}", headers=ADMIN).json()["data"]
    assert boleta_shown["daily_summary_id"] == summary["id"]
    assert mock.get(f"/api/v1/boletas/{other_day['id']}", headers=ADMIN).json()["data"]["daily_summary_id"] is None
    # nothing left to gather for that day
    again = mock.post("/api/v1/boletas/create-daily-summary", json=summary_of(day), headers=ADMIN)
    assert again.status_code == 400
    assert (
        again.json()["message"] == "Error al crear resumen diario: No hay boletas pendientes para la fecha seleccionada"
    )

    base = f"/api/v1/daily-summaries/{summary['id']}"
    unsent = mock.post(f"{base}/check-status", headers=ADMIN)
    assert unsent.json() == {"success": False, "message": "El resumen no tiene ticket para consultar estado"}
    sent = mock.post(f"{base}/send-sunat", headers=ADMIN).json()
    assert sent["ticket"] == sent["data"]["ticket"] and sent["ticket"].isdigit()
    assert (sent["data"]["estado_proceso"], sent["data"]["estado_sunat"]) == ("ENVIADO", "PROCESANDO")
    pending = mock.get("/api/v1/daily-summaries/pending?company_id=1", headers=ADMIN).json()
    assert summary["id"] in [s["id"] for s in pending["data"]]
    assert mock.get(f"{base}/download-cdr", headers=ADMIN).json()["message"] == "CDR no encontrado"
    checked = mock.post(f"{base}/check-status", headers=ADMIN)
    assert checked.status_code == 200 and checked.json()["message"] == "Estado consultado correctamente"
    data = checked.json()["data"]
    assert (data["estado_proceso"], data["estado_sunat"]) == ("COMPLETADO", "ACEPTADO")
    assert json.loads(data["respuesta_sunat"]) == {
        "code": "0",
        "description": "El Resumen diario RC-20250609-001, ha sido aceptado",
    }
    # the summary's boletas are accepted with it
    assert {b["estado_sunat"] for b in data["boletas"]} == {"ACEPTADO"}
    root = ET.fromstring(mock.get(f"{base}/download-xml", headers=ADMIN).content)
    assert root.tag.endswith("SummaryDocuments") and root.findtext(f"{CBC}ID") == "RC-20250609-001"
    assert mock.get(f"{base}/download-cdr", headers=ADMIN).headers["content-type"] == "application/zip"
    assert (
        mock.post(f"{base}/send-sunat", headers=ADMIN).json()["message"]
        == "El resumen ya fue enviado y aceptado por SUNAT"
    )


def test_a_rejected_summary_lets_its_boletas_go_to_a_new_one(mock):
    day = "2025-06-11"
    created(mock, "/api/v1/boletas", boleta(line(2, 50), fecha_emision=day))
    summary = created(mock, "/api/v1/boletas/create-daily-summary", summary_of(day))
    base = f"/api/v1/boletas/summary/{summary['id']}"
    failed = mock.post(f"{base}/send-sunat", headers={**ADMIN, "Prefer": "sunat=outage"})
    assert failed.status_code == 400 and failed.json()["data"]["estado_proceso"] == "ERROR"
    assert mock.post(f"{base}/check-status", headers=ADMIN).status_code == 400  # no ticket yet
    assert mock.post(f"{base}/send-sunat", headers=ADMIN).status_code == 200
    rejected = mock.post(f"{base}/check-status", headers={**ADMIN, "Prefer": "sunat=reject:2800"})
    assert rejected.status_code == 400 and rejected.json()["message"].startswith("Error al consultar estado: El dato")
    assert (rejected.json()["data"]["estado_sunat"], rejected.json()["data"]["boletas"]) == ("RECHAZADO", [])
    second = created(mock, "/api/v1/boletas/create-daily-summary", summary_of(day))
    assert second["numero_completo"] == "RC-20250611-002" and len(second["detalles"]) == 1


def test_a_summary_from_the_lines_sent_is_validated_in_the_hand_built_envelope(mock):
    refused = mock.post("/api/v1/daily-summaries", json={"company_id": 1, "detalles": [{}]}, headers=ADMIN)
    assert refused.status_code == 422
    body = refused.json()
    assert body["success"] is False and body["message"] == "Errores de validación"
    assert {"branch_id", "fecha_resumen", "detalles.0.serie_numero"} <= set(body["errors"])
    lines = [
        {
            "tipo_documento": "03",
            "serie_numero": "B001-9",
            "estado": "3",
            "cliente_tipo": "1",
            "cliente_numero": "1",
            "total": 5,
        }
    ]
    made = created(
        mock,
        "/api/v1/daily-summaries",
        {**summary_of("2025-06-12"), "fecha_generacion": "2025-06-12", "detalles": lines},
    )
    assert made["detalles"] == lines and made["estado_sunat"] == "PENDIENTE" and made["boletas"] == []
    listed = mock.get("/api/v1/daily-summaries?estado_proceso=GENERADO", headers=ADMIN).json()
    assert listed["message"] == "Resúmenes diarios obtenidos correctamente"
    assert made["id"] in [s["id"] for s in listed["data"]["data"]]
    assert mock.get("/api/v1/daily-summaries/999999", headers=ADMIN).json()["message"] == "Resumen diario no encontrado"


def lima_day(days_back: int = 0) -> str:
    return (datetime.now(ZoneInfo("America/Lima")).date() - timedelta(days=days_back)).isoformat()


def voiding(day: str, **extra: Any) -> dict[str, Any]:
    line = {"tipo_documento": "01", "serie": "F001", "correlativo": "000001", "motivo_especifico": "Error en datos"}
    return {
        "company_id": 1,
        "branch_id": 1,
        "fecha_referencia": day,
        "motivo_baja": "ERROR",
        "detalles": [line],
        **extra,
    }


def test_a_voided_document_goes_by_ticket_and_leaves_the_voided_invoice_as_it_was(mock):
    invoice_sent = created(mock, "/api/v1/invoices", invoice(line(1, 10)))
    mock.post(f"/api/v1/invoices/{invoice_sent['id']}/send-sunat", headers=ADMIN)
    day = lima_day(1)
    document = created(mock, "/api/v1/voided-documents", voiding(day))
    compact = day.replace("-", "")
    assert document["identificador"] == f"20987654326-RA-{compact}-001" and document["total_documentos"] == 1
    base = f"/api/v1/voided-documents/{document['id']}"
    assert (
        mock.post(f"{base}/check-status", headers=ADMIN).json()["message"] == "No hay ticket para consultar el estado"
    )
    sent = mock.post(f"{base}/send-sunat", headers=ADMIN).json()
    assert sent["data"]["estado_sunat"] == "ENVIADO" and sent["ticket"]
    processing = mock.post(f"{base}/check-status", headers={**ADMIN, "Prefer": "sunat=processing"})
    assert processing.status_code == 200 and processing.json()["data"]["estado_sunat"] == "PROCESANDO"
    accepted = mock.post(f"{base}/check-status", headers=ADMIN).json()["data"]
    assert accepted["estado_sunat"] == "ACEPTADO"
    assert "ha sido aceptada" in json.loads(accepted["respuesta_sunat"])["description"]
    xml = mock.get(f"{base}/download-xml", headers=ADMIN)
    assert xml.headers["content-disposition"] == f"attachment; filename={document['identificador']}.xml"
    assert ET.fromstring(xml.content).tag.endswith("VoidedDocuments")
    again = mock.post(f"{base}/send-sunat", headers=ADMIN)
    assert again.json() == {"success": False, "message": "La comunicación de baja ya fue aceptada por SUNAT"}
    # as upstream, the invoice it names keeps its state (there is no ANULADO)
    assert (
        mock.get(f"/api/v1/invoices/{invoice_sent['id']}", headers=ADMIN).json()["data"]["estado_sunat"] == "ACEPTADO"
    )


def test_voiding_is_for_the_last_7_days_only(mock):
    old = mock.post("/api/v1/voided-documents", json=voiding(lima_day(8)), headers=ADMIN)
    assert old.status_code == 422
    assert old.json()["errors"] == {
        "fecha_referencia": [
            "Solo se pueden anular documentos de los últimos 7 días.",
            "Solo se pueden anular documentos emitidos en los últimos 7 días calendario.",  # the after-hook's
        ]
    }
    ahead = mock.post("/api/v1/voided-documents", json=voiding(lima_day(-1)), headers=ADMIN)
    assert ahead.json()["errors"] == {"fecha_referencia": ["La fecha de referencia no puede ser mayor a hoy."]}
    empty = mock.post("/api/v1/voided-documents", json=voiding(lima_day(), detalles=[]), headers=ADMIN)
    assert empty.json()["errors"] == {"detalles": ["Se requiere al menos un documento para anular."]}
    rejected = created(mock, "/api/v1/voided-documents", voiding(lima_day(7)))
    base = f"/api/v1/voided-documents/{rejected['id']}"
    mock.post(f"{base}/send-sunat", headers=ADMIN)
    answer = mock.post(f"{base}/check-status", headers={**ADMIN, "Prefer": "sunat=reject"}).json()
    assert answer["data"]["estado_sunat"] == "RECHAZADO"
    listed = mock.get("/api/v1/voided-documents?estado_sunat=RECHAZADO", headers=ADMIN).json()
    assert set(listed) == {"success", "data", "pagination"} and [d["id"] for d in listed["data"]] == [rejected["id"]]
    assert mock.get("/api/v1/voided-documents/999999", headers=ADMIN).status_code == 404


RETENTION_LINE = {
    "tipo_doc": "01",
    "num_doc": "F001-000123",
    "fecha_emision": "2025-09-10",
    "fecha_retencion": "2025-09-15",
    "moneda": "PEN",
    "imp_total": 1000,
    "imp_pagar": 970,
    "imp_retenido": 30,
    "pagos": [{"moneda": "PEN", "fecha": "2025-09-15", "importe": 1000}],
    "tipo_cambio": {"fecha": "2025-09-15", "factor": 1, "moneda_obj": "PEN", "moneda_ref": "PEN"},
}


def retention(**extra: Any) -> dict[str, Any]:
    body = {"company_id": 1, "branch_id": 1, "serie": "R001", "correlativo": "77", "fecha_emision": "2025-09-15"}
    body |= {"moneda": "PEN", "regimen": "01", "tasa": 3, "imp_retenido": 30, "imp_pagado": 970}
    return {**body, "proveedor": CLIENT, "detalles": [RETENTION_LINE], **extra}


def test_a_retention_is_numbered_by_the_branch_and_sunats_verdict_comes_inside_a_200(mock):
    document = created(mock, "/api/v1/retentions", retention())
    assert document["numero_completo"].startswith("R001-") and document["correlativo"] != "77"
    assert (document["tasa"], document["imp_retenido"], document["observacion"]) == ("3.00", "30.00", "")
    assert document["proveedor"]["numero_documento"] == CLIENT["numero_documento"]
    base = f"/api/v1/retentions/{document['id']}"
    rejected = mock.post(f"{base}/send-sunat", headers={**ADMIN, "Prefer": "sunat=reject"})
    assert rejected.status_code == 200 and rejected.json()["data"]["success"] is False
    assert rejected.json()["data"]["document"]["estado_sunat"] == "RECHAZADO"
    sent = mock.post(f"{base}/send-sunat", headers=ADMIN).json()
    assert sent["message"] == "Comprobante de retención enviado a SUNAT" and sent["data"]["success"] is True
    assert sent["data"]["document"]["estado_sunat"] == "ACEPTADO" and sent["data"]["document"]["hash_cdr"]
    root = ET.fromstring(mock.get(f"{base}/download-xml", headers=ADMIN).content)
    assert root.tag.endswith("Retention") and root.findtext(f"{CBC}ID") == document["numero_completo"]
    other_branch = mock.post("/api/v1/retentions", json=retention(branch_id=2), headers=ADMIN)
    assert other_branch.json()["errors"] == {"branch_id": ["La sucursal es requerida."]}
    listed = mock.get("/api/v1/retentions", headers=ADMIN).json()
    assert listed["data"]["per_page"] == 10 and "message" not in listed
    assert (
        mock.get("/api/v1/retentions/999999", headers=ADMIN).json()["message"]
        == "Comprobante de retención no encontrado"
    )
